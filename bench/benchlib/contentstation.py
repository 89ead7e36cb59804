"""
Processes of the content-manager benchmark (bench/content): `retrovue ingest` runs and
one `retrovue serve` whose configuration has a media root and a conform setting.

Every process is registered the moment it starts and stopped by its PID (SIGTERM,
then SIGKILL after a grace period) by cleanup_all(), which bench/content runs at exit,
on Ctrl-C, SIGTERM or an error. A station's ffmpeg children die with it
(PR_SET_PDEATHSIG); any child seen alive afterwards is killed by PID too, but only if
its command line names the station's temporary directory. Every wait has a deadline.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from . import procs, station

_registry = []


def cleanup_all():
    """Stops every process started here and not stopped yet."""
    while _registry:
        obj = _registry.pop()
        try:
            obj.stop()
        except Exception as e:  # keep cleaning up the rest
            print("cleanup: %s" % e)


class Command:
    """A bounded child process: run() waits at most `timeout` s, then kills it by PID."""

    def __init__(self, argv, timeout):
        self.argv = argv
        self.timeout = timeout
        self.proc = None

    def run(self):
        """(exit status, stdout, stderr, wall seconds, CPU seconds of the child)."""
        before = os.times()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        _registry.append(self)
        try:
            out, err = self.proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError("%s did not finish within %s s" % (self.argv[0], self.timeout))
        except BaseException:  # Ctrl-C, SIGTERM: stop it before passing the news on
            self.stop()
            raise
        self.stop()  # it has exited: this only unregisters it
        wall = time.monotonic() - t0
        after = os.times()
        cpu = (after.children_user - before.children_user) + (after.children_system
                                                              - before.children_system)
        return (self.proc.returncode, out.decode(errors="replace"),
                err.decode(errors="replace"), wall, cpu)

    def stop(self):
        _stop_pid(self.proc, 5)
        if self in _registry:
            _registry.remove(self)


def _stop_pid(p, grace):
    """SIGTERM, then SIGKILL when it has not exited after `grace` seconds."""
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


def write_config(config_dir, media, conform_jobs=None, channels=(), ffmpeg=None, ffprobe=None):
    """retrovue.json with the media roots [(path, holds)], and channels/N.json for each
    (number, playlist) in channels (the config needs at least one channel)."""
    os.makedirs(os.path.join(config_dir, "channels"), exist_ok=True)
    doc = {"media": [{"path": p, "holds": holds} for p, holds in media],
           "tuner": {"discover": False, "ssdp": False}}
    server = {}
    if ffmpeg and ffmpeg != "ffmpeg":
        server["ffmpeg"] = ffmpeg
    if ffprobe and ffprobe != "ffprobe":
        server["ffprobe"] = ffprobe
    if server:
        doc["server"] = server
    if conform_jobs is not None:
        doc["conform"] = {"jobs": conform_jobs}
    with open(os.path.join(config_dir, "retrovue.json"), "w") as f:
        json.dump(doc, f, indent=2)
    for number, playlist in channels:
        with open(os.path.join(config_dir, "channels", "%s.json" % number), "w") as f:
            json.dump({"number": str(number), "name": "Bench %s" % number, "mode": "auto",
                       "playlist": list(playlist)}, f, indent=2)


class Station:
    """`retrovue serve --config DIR --state DIR --listen 127.0.0.1:PORT`, log in tmp."""

    def __init__(self, binary, tmp, config_dir, state_dir):
        self.binary = binary
        self.tmp = tmp
        self.config_dir = config_dir
        self.state_dir = state_dir
        self.log_path = os.path.join(tmp, "retrovue.log")
        self.port = None
        self.proc = None
        self.log = None
        self.seen_children = set()

    def start(self):
        self.port = station.free_port()
        self.log = open(self.log_path, "ab")
        self.log.write(("---- start %s\n" % time.strftime("%H:%M:%S")).encode())
        self.log.flush()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", self.config_dir, "--state", self.state_dir,
             "--listen", "127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        _registry.append(self)
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

    def channel_ffmpeg(self):
        """(pid, "copy" or "live") of the ffmpeg airing a channel (it writes HLS), or None."""
        for pid in self.children():
            argv = procs.cmdline(pid) or []
            if "hls" in argv:
                copy = any(a == "-c" and b == "copy" for a, b in zip(argv, argv[1:]))
                return pid, "copy" if copy else "live"
        return None

    def newest_seq(self, number="1"):
        return station.newest_seq(os.path.join(self.state_dir, "channels", str(number),
                                               "ffmpeg.m3u8"))

    def get_json(self, path, timeout=5):
        """(status, document) of a GET on the station, or (None, None) when it does not answer."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                        timeout=timeout) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read().decode())
            except ValueError:
                return e.code, None
        except (OSError, ValueError):
            return None, None

    def wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running("during start-up")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("retrovue did not listen on port %d within %s s\n%s" % (
            self.port, timeout, self.log_tail()))

    def wait_for(self, what, pred, timeout, interval=0.5):
        """Polls pred() until it returns a true value (returned) or timeout s pass (raises)."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_running("while waiting for " + what)
            value = pred()
            if value:
                return value
            if time.monotonic() > deadline:
                raise RuntimeError("%s: not within %s s\n%s" % (what, timeout, self.log_tail()))
            time.sleep(interval)

    def check_running(self, when):
        if not self.running():
            raise RuntimeError("retrovue exited with %s %s\n%s" % (
                self.proc.returncode if self.proc else None, when, self.log_tail()))

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "---- %s (last %d lines)\n%s" % (
            self.log_path, n, "\n".join(self.log_text().splitlines()[-n:]))

    def stop(self, grace=10):
        """Stops retrovue by its PID, then any child of it still alive that is ours."""
        if self.running():
            self.children()
            _stop_pid(self.proc, grace)
        for pid in sorted(self.seen_children):
            cmd = procs.cmdline(pid)
            if procs.alive(pid) and cmd and any(self.tmp in a for a in cmd):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.seen_children.clear()
        if self.log is not None:
            self.log.close()
            self.log = None
        if self in _registry:
            _registry.remove(self)
        return self.proc.returncode if self.proc is not None else None
