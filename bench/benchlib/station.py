"""
The processes a benchmark runs: one `retrovue serve` (which runs one ffmpeg per
channel) and bare ffmpeg processes doing the same job without retrovue.

Every process is registered the moment it is started and killed by its PID on
cleanup, including on Ctrl-C, SIGTERM or an exception (see cleanup_all). Retrovue's
ffmpeg children die with it (PR_SET_PDEATHSIG); any seen child still alive
afterwards is killed by PID too, but only if its command line names this
benchmark's temporary directory.
"""

import json
import os
import random
import signal
import socket
import subprocess
import time

from . import procs

_registry = []


def cleanup_all():
    """Stops every process this benchmark started and has not stopped yet."""
    while _registry:
        obj = _registry.pop()
        try:
            obj.stop()
        except Exception as e:  # keep cleaning up the rest
            print("cleanup: %s" % e)


def free_port():
    """A free port below the ephemeral range (see tests/e2e/harness.py: a port
    from bind(0) can be taken by any client socket before the server binds it)."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(max(1024, low - 16384), low)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()


def _stop_popen(p, grace):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(10)
    except ProcessLookupError:
        pass


def playlist_segments(path):
    """Segment URIs listed in an HLS playlist file ([] when it is absent)."""
    try:
        with open(path) as f:
            text = f.read()
    except (FileNotFoundError, PermissionError):
        return []
    return [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]


def newest_seq(path):
    """Sequence number of the newest segment in an ffmpeg playlist (segNNNNNNNNN.ts), or None."""
    segs = playlist_segments(path)
    if not segs:
        return None
    name = os.path.basename(segs[-1])
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else None


class Retrovue:
    """One `retrovue serve` with its own config, state and log in tmp."""

    def __init__(self, binary, tmp, channels, ffmpeg="ffmpeg", ffprobe="ffprobe"):
        """channels: list of (number, mode, [absolute media paths])."""
        self.binary = binary
        self.tmp = tmp
        self.config_dir = os.path.join(tmp, "config")
        self.state_dir = os.path.join(self.config_dir, "state")
        self.log_path = os.path.join(tmp, "retrovue.log")
        self.port = free_port()
        self.proc = None
        self.seen_children = set()
        self.numbers = [c[0] for c in channels]
        os.makedirs(os.path.join(self.config_dir, "channels"))
        server = {"listen": "127.0.0.1:%d" % self.port, "state_dir": "state"}
        if ffmpeg != "ffmpeg":
            server["ffmpeg"] = ffmpeg
        if ffprobe != "ffprobe":
            server["ffprobe"] = ffprobe
        with open(os.path.join(self.config_dir, "retrovue.json"), "w") as f:
            json.dump({"server": server}, f, indent=2)
        for number, mode, playlist in channels:
            with open(os.path.join(self.config_dir, "channels", "%s.json" % number), "w") as f:
                json.dump({"number": str(number), "name": "Bench %s" % number, "mode": mode,
                           "playlist": playlist}, f, indent=2)

    def start(self):
        self.log = open(self.log_path, "ab")
        _registry.append(self)
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config_dir],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def children(self):
        if not self.running():
            return []
        kids = procs.children(self.proc.pid)
        self.seen_children.update(kids)
        return kids

    def private_playlist(self, number):
        return os.path.join(self.state_dir, "channels", str(number), "ffmpeg.m3u8")

    def on_air(self, number):
        return bool(playlist_segments(self.private_playlist(number)))

    def newest_seq(self, number):
        return newest_seq(self.private_playlist(number))

    def wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError("retrovue exited with %s during start-up\n%s" % (
                    self.proc.returncode, self.log_tail()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("retrovue did not listen on port %d within %s s\n%s" % (
            self.port, timeout, self.log_tail()))

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "---- %s (last %d lines)\n%s" % (
            self.log_path, n, "\n".join(self.log_text().splitlines()[-n:]))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.children()
            _stop_popen(self.proc, 8)
        for pid in sorted(self.seen_children):
            cmd = procs.cmdline(pid)
            if procs.alive(pid) and cmd and any(self.tmp in a for a in cmd):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
        if self in _registry:
            _registry.remove(self)


class BareFfmpeg:
    """One ffmpeg writing HLS from a looping concat list, without retrovue."""

    def __init__(self, ffmpeg, out_dir, list_path, codec_args):
        self.out_dir = out_dir
        self.playlist = os.path.join(out_dir, "index.m3u8")
        self.log_path = os.path.join(out_dir, "ffmpeg.log")
        os.makedirs(out_dir, exist_ok=True)
        self.argv = [
            ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning",
            "-re", "-f", "concat", "-safe", "0", "-i", list_path,
            "-map", "0:v:0", "-map", "0:a:0?", *codec_args,
            "-f", "hls", "-hls_time", "2", "-hls_list_size", "8",
            "-hls_flags", "delete_segments+temp_file+omit_endlist",
            "-hls_segment_filename", os.path.join(out_dir, "seg%09d.ts"),
            "-y", self.playlist,
        ]
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        _registry.append(self)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def on_air(self):
        return bool(playlist_segments(self.playlist))

    def newest_seq(self):
        return newest_seq(self.playlist)

    def stop(self):
        _stop_popen(self.proc, 5)
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
        if self in _registry:
            _registry.remove(self)


def write_loop_list(path, clips, rotate, min_seconds, clip_seconds):
    """A plain ffconcat list: the clips, rotated, repeated to cover min_seconds."""
    order = clips[rotate % len(clips):] + clips[:rotate % len(clips)]
    loops = int(min_seconds // (clip_seconds * len(clips))) + 2
    with open(path, "w") as f:
        f.write("ffconcat version 1.0\n")
        for _ in range(loops):
            for c in order:
                f.write("file '%s'\n" % c.replace("'", "'\\''"))
    return path
