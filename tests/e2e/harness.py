"""
Shared helpers for Retrovue's end-to-end tests.

Everything here drives the real thing: the `retrovue` binary (RETROVUE_BIN), real
ffmpeg and ffprobe, real HTTP over loopback and the station's real SQLite file.
Python standard library only.

- fixtures(): media clips generated once with ffmpeg's lavfi sources, cached in a
  directory keyed by FIXTURE_VERSION and created atomically (built in a temporary
  directory, then renamed), so several test files may ask for them at once.
- Station: a config directory in a temporary directory, one `retrovue serve`
  process with its log captured to a file, HTTP helpers, and cleanup that never
  leaves a process behind (everything is killed by PID, and only PIDs this
  station started or whose command line names its own temporary directory).
- ts_check(), m3u8_parse(), ffprobe_packets(): format checks.
"""

import atexit
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("RETROVUE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def _default_bin():
    for cand in (os.path.join(SOURCE_DIR, "build", "retrovue"), "/tmp/build-e2e/retrovue"):
        if os.access(cand, os.X_OK):
            return cand
    return os.path.join(SOURCE_DIR, "build", "retrovue")


RETROVUE_BIN = os.environ.get("RETROVUE_BIN") or _default_bin()
FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("FFPROBE", "ffprobe")

# Bump when the fixture recipe changes: a new directory is generated.
FIXTURE_VERSION = "v1"
CLIP_FRAMES = 300                    # 5 GOPs of 60 frames
CLIP_SECONDS = CLIP_FRAMES * 1001 / 30000  # 10.01 s
SEGMENT_SECONDS = 60 * 1001 / 30000        # 2.002 s: one GOP per segment

HOUSE_ARGS = [
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-profile:v", "main",
    "-s", "640x480", "-r", "30000/1001", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
    "-bf", "0",
    "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
    "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0",
]

# name -> (lavfi video source, sine frequency); each visibly and audibly different.
# The sources end by themselves after exactly CLIP_FRAMES frames. `-frames:v 300` is
# deliberately not used: in ffmpeg 5.1 reaching a stream's frame limit closes every
# stream of the output at once, which cut the audio 0.11 s short of the video.
_SRC = "=size=640x480:rate=30000/1001:duration=%.6f" % CLIP_SECONDS
HOUSE_CLIPS = {
    "a": ("testsrc" + _SRC, 440),
    "b": ("smptebars" + _SRC, 660),
    "c": ("testsrc2" + _SRC, 880),
}
NONHOUSE_CLIP = "odd.mp4"  # 320x240, 25 fps, MPEG-4 Part 2 video, 44.1 kHz AAC: not house


# ---------------------------------------------------------------- fixtures

def _run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (
            r.returncode, " ".join(cmd), r.stderr.decode(errors="replace")[-3000:]))
    return r


def _make_fixtures(d):
    for name, (video, freq) in HOUSE_CLIPS.items():
        _run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
              "-f", "lavfi", "-i", video,
              "-f", "lavfi", "-i", "sine=frequency=%d:sample_rate=48000:duration=12" % freq,
              "-af", "atrim=duration=%.6f,asetpts=PTS-STARTPTS" % CLIP_SECONDS,
              *HOUSE_ARGS, os.path.join(d, name + ".ts")])
        _, packets = ffprobe_packets(os.path.join(d, name + ".ts"))
        video = [p for p in packets if p["codec_type"] == "video"]
        audio = [p for p in packets if p["codec_type"] == "audio"]
        keys = [p for p in video if "K" in p["flags"]]
        if len(video) != CLIP_FRAMES or len(keys) != CLIP_FRAMES // 60:
            raise RuntimeError("fixture %s: %d frames, %d keyframes" % (name, len(video), len(keys)))
        a_end = audio[-1]["pts_time"] + audio[-1]["duration_time"]
        v_end = video[-1]["pts_time"] + 1001 / 30000
        if abs(a_end - v_end) > 0.03:
            raise RuntimeError("fixture %s: audio ends at %.3f, video at %.3f" % (name, a_end, v_end))
    _run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
          "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25",
          "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100:duration=12",
          "-t", "10", "-c:v", "mpeg4", "-q:v", "5", "-c:a", "aac", "-b:a", "96k",
          "-ar", "44100", "-ac", "2", "-movflags", "+faststart",
          os.path.join(d, NONHOUSE_CLIP)])
    with open(os.path.join(d, "READY"), "w") as f:
        f.write(FIXTURE_VERSION + "\n")


def fixture_dir():
    """The cached fixture directory, generating it on first use."""
    base = os.environ.get("TMPDIR") or tempfile.gettempdir()
    final = os.path.join(base, "retrovue-e2e-fixtures-" + FIXTURE_VERSION)
    if os.path.exists(os.path.join(final, "READY")):
        return final
    tmp = tempfile.mkdtemp(prefix=".retrovue-e2e-fixtures-build-", dir=base)
    try:
        _make_fixtures(tmp)
        try:
            os.rename(tmp, final)
            tmp = None
        except OSError:
            # Someone else finished first (the directory exists and is not empty).
            if not os.path.exists(os.path.join(final, "READY")):
                raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def fixtures():
    """dict: 'a', 'b', 'c' (house-format MPEG-TS, 10.01 s each) and 'odd' (non-house mp4)."""
    d = fixture_dir()
    out = {name: os.path.join(d, name + ".ts") for name in HOUSE_CLIPS}
    out["odd"] = os.path.join(d, NONHOUSE_CLIP)
    return out


# ---------------------------------------------------------------- processes

def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A port (TCP unless kind says otherwise) on host that nobody holds, chosen below the kernel's
    ephemeral range. A port from bind(0) comes out of that range, so any client
    socket opened between our choice and the server's bind (another test's HTTP
    request, an ffmpeg) could take it: that made start-up fail now and then."""
    low = _ephemeral_low()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 16384), low)
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    s = socket.socket(socket.AF_INET, kind)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_stat(pid):
    """(comm, state, ppid) of a pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[1])


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def pid_alive(pid):
    """True while the pid exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[1] != "Z"


def children_of(ppid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is not None and st[2] == ppid:
            out.append(int(name))
    return sorted(out)


def load_note():
    """A note on how busy the machine is, for timing failures."""
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    except OSError:
        load = ["?"]
    return "load average %s on %d CPUs" % (" ".join(load), os.cpu_count() or 0)


def wait_until(pred, timeout, interval=0.1):
    """Polls pred() until it returns something true; returns it, or None after timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


_live_stations = []


def _cleanup_all():
    for st in list(_live_stations):
        st.kill_everything()


atexit.register(_cleanup_all)


class Station:
    """One `retrovue serve` with its own config dir, state dir and port.

    channels: {"1": [paths...]} or {"1": {"playlist": [...], "mode": "live", "name": ...}}
    """

    def __init__(self, channels, prefix="retrovue-e2e-", copy_media=False, log_level=None,
                 main=None):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.config_dir = os.path.join(self.tmp, "config")
        self.state_dir = os.path.join(self.tmp, "state")
        self.media_dir = os.path.join(self.tmp, "media")
        self.log_path = os.path.join(self.tmp, "retrovue.log")
        os.makedirs(os.path.join(self.config_dir, "channels"))
        self.port = free_port()
        self.proc = None
        self.log_file = None
        self.seen_ffmpeg = set()  # every ffmpeg pid this station was seen to run
        self.copy_media = copy_media
        self.log_level = log_level
        self.main = dict(main or {})  # more retrovue.json sections, e.g. {"tuner": {...}}
        self._write_main()
        for number, spec in channels.items():
            self.write_channel(number, spec)
        _live_stations.append(self)

    # ---- configuration

    def _write_main(self):
        server = {"listen": "127.0.0.1:%d" % self.port, "state_dir": "../state"}
        if self.log_level:
            server["log_level"] = self.log_level
        doc = dict(self.main)
        # Discovery answers on fixed UDP ports (65001, 1900); tests that want it ask.
        doc.setdefault("tuner", {"discover": False, "ssdp": False})
        doc["server"] = dict(server, **doc.get("server", {}))
        with open(os.path.join(self.config_dir, "retrovue.json"), "w") as f:
            json.dump(doc, f, indent=2)

    def local_media(self, path):
        """Copies a media file into this station's own media dir (so a test may delete it)."""
        os.makedirs(self.media_dir, exist_ok=True)
        dst = os.path.join(self.media_dir, os.path.basename(path))
        if not os.path.exists(dst):
            shutil.copyfile(path, dst)
        return dst

    def channel_file(self, number):
        return os.path.join(self.config_dir, "channels", "%s.json" % number)

    def write_channel(self, number, spec):
        if isinstance(spec, (list, tuple)):
            spec = {"playlist": list(spec)}
        doc = {"number": str(number), "name": spec.get("name", "Test %s" % number)}
        if spec.get("mode"):
            doc["mode"] = spec["mode"]
        if spec.get("epoch"):
            doc["epoch"] = spec["epoch"]
        playlist = spec["playlist"]
        if self.copy_media:
            playlist = [self.local_media(p) for p in playlist]
        doc["playlist"] = playlist
        with open(self.channel_file(number), "w") as f:
            json.dump(doc, f, indent=2)
        return doc

    # ---- process

    def start(self, wait=True, timeout=10):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._close_log()
        self.log_file = open(self.log_path, "ab")
        self.log_file.write(("---- start %s\n" % time.strftime("%H:%M:%S")).encode())
        self.log_file.flush()
        for attempt in range(3):
            self.proc = subprocess.Popen(
                [RETROVUE_BIN, "serve", "--config", self.config_dir,
                 "--listen", "127.0.0.1:%d" % self.port, "--state", self.state_dir]
                + list(getattr(self, "extra_args", [])),
                stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file)
            if not wait:
                return self
            try:
                self.wait_ready(timeout)
                self.started_once = True
                return self
            except AssertionError as e:
                # Someone else bound our port before the first start: take another.
                # After a first start the port is the station's address, so it stays.
                if (attempt == 2 or getattr(self, "started_once", False)
                        or self.proc.poll() is None or "address already in use" not in str(e)):
                    raise
                print("[port %d taken by another process: retrying on another]" % self.port,
                      file=sys.stderr)
                self.port = free_port()
                self._write_main()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, timeout=10):
        """Waits until the HTTP listener answers (any status)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError("retrovue exited with %s during start-up\n%s" % (
                    self.proc.returncode, self.log_tail()))
            try:
                self.get("/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("retrovue did not listen within %s s\n%s" % (timeout, self.log_tail()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=60):
        return "---- retrovue log tail (%s):\n%s" % (
            self.log_path, "\n".join(self.log().splitlines()[-n:]))

    def wait_log(self, text, timeout):
        return wait_until(lambda: text in self.log(), timeout, 0.2)

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def ffmpeg_pids(self):
        """The station's ffmpeg children (spawned through `retrovue _exec`, which execs)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        out = []
        for pid in children_of(self.proc.pid):
            st = proc_stat(pid)
            cmd = proc_cmdline(pid) or []
            if st and st[1] != "Z" and cmd and os.path.basename(cmd[0]) == "ffmpeg":
                out.append(pid)
        self.seen_ffmpeg.update(out)
        return out

    def ffmpeg_pid_for(self, number, timeout=5):
        """The pid of the ffmpeg airing channel `number` (its feed script is in the channel dir)."""
        marker = os.path.join(self.state_dir, "channels", str(number)) + "/"

        def find():
            for pid in self.ffmpeg_pids():
                if any(marker in a for a in proc_cmdline(pid) or []):
                    return pid
            return None
        return wait_until(find, timeout, 0.05)

    def _owned(self, pid):
        """A pid is ours to kill only if its command line names our temporary directory."""
        cmd = proc_cmdline(pid)
        return bool(cmd) and any(self.tmp in a for a in cmd)

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit status. Prints the log tail when it fails."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.ffmpeg_pids()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                sys.stderr.write("retrovue pid %d did not stop within %s s after SIGTERM\n%s\n" % (
                    self.proc.pid, timeout, self.log_tail()))
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        if rc != 0:
            sys.stderr.write("retrovue exited with %s\n%s\n" % (rc, self.log_tail()))
        self._close_log()
        self.check_sanitizers()
        return rc

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

    def check_sanitizers(self):
        """Fails the test when the (sanitizer-built) server reported a memory error,
        a leak or undefined behaviour in its log."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return
        for mark in self.SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                raise AssertionError("sanitizer report in the server log:\n" + text[max(0, i - 200):i + 4000])

    def _close_log(self):
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def kill_everything(self):
        """Leaves no process behind: retrovue by its pid, and any ffmpeg it ran."""
        if self.proc is not None and self.proc.poll() is None:
            self.ffmpeg_pids()
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in sorted(self.seen_ffmpeg):
            if pid_alive(pid) and self._owned(pid):
                try:
                    os.kill(pid, signal.SIGCONT)
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._close_log()

    def cleanup(self):
        self.kill_everything()
        if self in _live_stations:
            _live_stations.remove(self)
        report = None
        try:
            self.check_sanitizers()
        except AssertionError as e:
            report = e
        if os.environ.get("RETROVUE_E2E_KEEP"):
            sys.stderr.write("keeping %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if report is not None:
            raise report

    # ---- HTTP

    def get(self, path, method="GET", timeout=5, headers=None, body=None):
        """(status, headers dict with lower-case names, body bytes)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            conn.close()

    def get_json(self, path):
        status, headers, body = self.get(path)
        return status, json.loads(body.decode())

    def raw_request(self, request_bytes, timeout=5):
        """Sends bytes as they are and returns (status, body) of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(request_bytes)
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                data += chunk
                head, sep, rest = data.partition(b"\r\n\r\n")
                if sep:
                    length = None
                    for line in head.split(b"\r\n")[1:]:
                        k, _, v = line.partition(b":")
                        if k.strip().lower() == b"content-length":
                            length = int(v.strip())
                    if length is not None and len(rest) >= length:
                        break
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
        return status, body

    def playlist(self, number="1"):
        """The parsed public playlist, or None while it is not served (503/404)."""
        status, headers, body = self.get("/channel/%s.m3u8" % number)
        if status != 200:
            return None
        return m3u8_parse(body.decode())

    def wait_playlist(self, number="1", min_segments=1, timeout=20):
        """Waits for the playlist to list at least min_segments; returns it parsed."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("retrovue exited with %s\n%s" % (
                    self.proc.returncode, self.log_tail()))
            try:
                last = self.playlist(number)
            except OSError:
                last = None
            if last is not None and len(last["segments"]) >= min_segments:
                return last
            time.sleep(0.1)
        raise AssertionError("channel %s: no playlist with %d segments within %s s (last: %r)\n%s" % (
            number, min_segments, timeout, last and len(last["segments"]), self.log_tail()))

    def segment_url(self, number, uri):
        return "/channel/%s" % uri if not uri.startswith("/") else uri

    def fetch_segment(self, number, seg):
        status, headers, body = self.get("/channel/%s" % seg["uri"])
        if status != 200:
            raise AssertionError("segment %s: HTTP %d %r" % (seg["uri"], status, body[:200]))
        return body

    def newest_seq(self, number="1"):
        pl = self.playlist(number)
        if pl is None or not pl["segments"]:
            return None
        return pl["segments"][-1]["seq"]

    def db(self):
        return sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state_dir, "retrovue.db"),
                               uri=True, timeout=5)

    def db_query(self, sql, *args):
        con = self.db()
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


# ---------------------------------------------------------------- formats

TS_PACKET = 188
STREAM_TYPE_H264 = 0x1B
STREAM_TYPE_AAC = 0x0F


def _first_sync(data):
    for i in range(min(len(data), TS_PACKET)):
        if data[i] == 0x47 and (i + TS_PACKET >= len(data) or data[i + TS_PACKET] == 0x47):
            return i
    raise AssertionError("no MPEG-TS sync byte in the first %d bytes" % TS_PACKET)


def _psi_section(pkt):
    """The PSI section in a packet that starts one (payload_unit_start), or None."""
    if not pkt[1] & 0x40:
        return None
    afc = (pkt[3] >> 4) & 3
    off = 4
    if afc & 2:
        off += 1 + pkt[4]
    if not afc & 1 or off >= TS_PACKET:
        return None
    off += 1 + pkt[off]  # pointer field
    return pkt[off:]


def ts_check(data, want_whole=False):
    """Checks MPEG-TS: a sync byte every 188 bytes from the first sync, a PAT and its
    PMT. Returns {pid: stream_type} from the PMT. A trailing partial packet (a cut
    network read) is ignored unless want_whole."""
    if len(data) < TS_PACKET * 2:
        raise AssertionError("only %d bytes of MPEG-TS" % len(data))
    start = _first_sync(data)
    n = (len(data) - start) // TS_PACKET
    if want_whole and (start != 0 or (len(data) - start) % TS_PACKET != 0):
        raise AssertionError("MPEG-TS of %d bytes is not whole 188-byte packets (sync at %d)" % (
            len(data), start))
    pmt_pid = None
    streams = None
    for k in range(n):
        off = start + k * TS_PACKET
        pkt = data[off:off + TS_PACKET]
        if pkt[0] != 0x47:
            raise AssertionError("lost MPEG-TS sync at byte %d (packet %d): 0x%02x" % (off, k, pkt[0]))
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        if pid == 0 and pmt_pid is None:
            sec = _psi_section(pkt)
            if sec is not None and sec[0] == 0x00:
                length = ((sec[1] & 0x0F) << 8) | sec[2]
                body = sec[8:3 + length - 4]  # programs, without the CRC
                for i in range(0, len(body) - 3, 4):
                    prog = (body[i] << 8) | body[i + 1]
                    ppid = ((body[i + 2] & 0x1F) << 8) | body[i + 3]
                    if prog != 0:
                        pmt_pid = ppid
                        break
        elif pmt_pid is not None and pid == pmt_pid and streams is None:
            sec = _psi_section(pkt)
            if sec is not None and sec[0] == 0x02:
                length = ((sec[1] & 0x0F) << 8) | sec[2]
                pinfo = ((sec[10] & 0x0F) << 8) | sec[11]
                i = 12 + pinfo
                end = 3 + length - 4
                streams = {}
                while i + 5 <= end:
                    stype = sec[i]
                    epid = ((sec[i + 1] & 0x1F) << 8) | sec[i + 2]
                    esinfo = ((sec[i + 3] & 0x0F) << 8) | sec[i + 4]
                    streams[epid] = stype
                    i += 5 + esinfo
    if pmt_pid is None:
        raise AssertionError("no PAT (pid 0) naming a program in %d packets" % n)
    if streams is None:
        raise AssertionError("no PMT on pid 0x%x in %d packets" % (pmt_pid, n))
    return streams


def parse_pdt(s):
    s = s.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(s).timestamp()


def m3u8_parse(text):
    """Parses a media playlist. Segments carry uri, duration, pdt (epoch seconds or
    None), discontinuity and seq (media sequence + position)."""
    lines = [ln.strip() for ln in text.splitlines()]
    out = {"extm3u": bool(lines) and lines[0] == "#EXTM3U", "version": None,
           "target_duration": None, "media_sequence": None, "discontinuity_sequence": None,
           "endlist": False, "segments": [], "tags": []}
    pending = {"duration": None, "pdt": None, "discontinuity": False}
    for ln in lines:
        if not ln:
            continue
        if ln.startswith("#"):
            tag, _, value = ln.partition(":")
            out["tags"].append(tag)
            if tag == "#EXT-X-VERSION":
                out["version"] = int(value)
            elif tag == "#EXT-X-TARGETDURATION":
                out["target_duration"] = value  # kept as text: must be a decimal integer
            elif tag == "#EXT-X-MEDIA-SEQUENCE":
                out["media_sequence"] = int(value)
            elif tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
                out["discontinuity_sequence"] = int(value)
            elif tag == "#EXT-X-ENDLIST":
                out["endlist"] = True
            elif tag == "#EXTINF":
                pending["duration"] = float(value.split(",")[0])
            elif tag == "#EXT-X-PROGRAM-DATE-TIME":
                pending["pdt"] = parse_pdt(value)
            elif tag == "#EXT-X-DISCONTINUITY":
                pending["discontinuity"] = True
            continue
        seq = (out["media_sequence"] or 0) + len(out["segments"])
        out["segments"].append(dict(pending, uri=ln, seq=seq))
        pending = {"duration": None, "pdt": None, "discontinuity": False}
    return out


def ffprobe_json(path_or_bytes, *args):
    """Runs ffprobe -of json with args on a file or on bytes (written to a temp file)."""
    tmp = None
    path = path_or_bytes
    if isinstance(path_or_bytes, (bytes, bytearray)):
        fd, tmp = tempfile.mkstemp(suffix=".ts", prefix="retrovue-e2e-probe-")
        with os.fdopen(fd, "wb") as f:
            f.write(path_or_bytes)
        path = tmp
    try:
        r = subprocess.run([FFPROBE, "-v", "error", "-of", "json", *args, path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0:
            raise AssertionError("ffprobe failed: %s" % r.stderr.decode(errors="replace")[-2000:])
        return json.loads(r.stdout.decode())
    finally:
        if tmp:
            os.unlink(tmp)


def ffprobe_packets(path_or_bytes):
    """(streams, packets) from ffprobe -show_streams -show_packets; each packet has
    codec_type, pts_time/dts_time as floats (or None) and flags."""
    doc = ffprobe_json(path_or_bytes, "-show_streams", "-show_packets")
    streams = doc.get("streams", [])
    kinds = {s["index"]: s.get("codec_type") for s in streams}
    packets = []
    for p in doc.get("packets", []):
        p = dict(p)
        p["codec_type"] = p.get("codec_type") or kinds.get(p.get("stream_index"))
        for k in ("pts_time", "dts_time", "duration_time"):
            p[k] = float(p[k]) if p.get(k) not in (None, "N/A") else None
        packets.append(p)
    return streams, packets


def ffprobe_streams(path_or_bytes):
    """(format, streams) from ffprobe -show_format -show_streams."""
    doc = ffprobe_json(path_or_bytes, "-show_format", "-show_streams")
    return doc.get("format", {}), doc.get("streams", [])


def decode_check(path_or_bytes):
    """Decodes everything with ffmpeg; returns its error output (empty when clean)."""
    tmp = None
    path = path_or_bytes
    if isinstance(path_or_bytes, (bytes, bytearray)):
        fd, tmp = tempfile.mkstemp(suffix=".ts", prefix="retrovue-e2e-decode-")
        with os.fdopen(fd, "wb") as f:
            f.write(path_or_bytes)
        path = tmp
    try:
        r = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return r.returncode, r.stderr.decode(errors="replace")
    finally:
        if tmp:
            os.unlink(tmp)


def read_stream(port, path, seconds, timeout=5):
    """Reads an endless HTTP response for `seconds`; returns (status, headers,
    ttfb seconds, body bytes)."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        ttfb = None
        head = None
        while time.monotonic() - t0 < seconds:
            s.settimeout(max(0.05, min(timeout, seconds - (time.monotonic() - t0))))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            data += chunk
            if head is None and b"\r\n\r\n" in data:
                head, _, data = data.partition(b"\r\n\r\n")
            if head is not None and data and ttfb is None:
                ttfb = time.monotonic() - t0
    finally:
        s.close()
    if head is None:
        raise AssertionError("no HTTP response head for %s" % path)
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        data = dechunk(data)
    return status, headers, ttfb, data


def dechunk(data):
    """Removes HTTP/1.1 chunked framing (a cut final chunk is kept as far as it goes)."""
    out = bytearray()
    i = 0
    while i < len(data):
        j = data.find(b"\r\n", i)
        if j < 0:
            break
        size = int(data[i:j].split(b";")[0], 16)
        if size == 0:
            break
        out += data[j + 2:j + 2 + size]
        i = j + 2 + size + 2
    return bytes(out)
