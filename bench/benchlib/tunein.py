"""
Tune-in latency over loopback HTTP/1.1: the time from opening a new connection
(what a player does when it tunes in) to the first byte of the response body, with
a raw socket so nothing is buffered or parsed ahead of the measurement.
"""

import re
import socket
import time
import urllib.parse

_CHUNK_HEAD = re.compile(rb"[0-9a-fA-F]+[^\r\n]*\r\n")


class HttpError(Exception):
    pass


def timed_get(port, path, read_all=False, timeout=5.0):
    """GET path on 127.0.0.1:port.

    Returns {"status", "first_ms", "total_ms" (read_all only), "first_byte", "body"}.
    first_ms: from just before connect() to the arrival of the first body byte.
    """
    deadline = time.monotonic() + timeout
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: retrovue-bench\r\n"
                   "Connection: close\r\n\r\n" % (path, port)).encode())
        buf = b""

        def more():
            if time.monotonic() > deadline:
                raise HttpError("timeout on %s" % path)
            data = s.recv(65536)
            if not data:
                raise HttpError("connection closed early on %s" % path)
            return data

        while b"\r\n\r\n" not in buf:
            buf += more()
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = int(headers["content-length"]) if "content-length" in headers else None
        if length == 0:
            return {"status": status, "first_ms": None, "total_ms": None, "first_byte": None,
                    "body": b""}
        # Wait for the first byte of payload (after a chunk-size line when chunked).
        while True:
            if chunked:
                m = _CHUNK_HEAD.match(body)
                if m and len(body) > m.end():
                    first = body[m.end():m.end() + 1]
                    break
            elif body:
                first = body[:1]
                break
            body += more()
        first_ms = (time.perf_counter() - t0) * 1000.0
        out = {"status": status, "first_ms": first_ms, "total_ms": None, "first_byte": first,
               "body": None}
        if read_all:
            while length is None or len(body) < length:
                if time.monotonic() > deadline:
                    raise HttpError("timeout reading %s" % path)
                data = s.recv(65536)
                if not data:
                    break
                body += data
            out["total_ms"] = (time.perf_counter() - t0) * 1000.0
            out["body"] = _dechunk(body) if chunked else body
        return out
    finally:
        s.close()


def _dechunk(data):
    out = b""
    pos = 0
    for _ in range(1000000):
        m = _CHUNK_HEAD.match(data, pos)
        if not m:
            break
        size = int(m.group(0).split(b";")[0].strip(), 16)
        if size == 0:
            break
        out += data[m.end():m.end() + size]
        pos = m.end() + size + 2
    return out


def measure(port, number, requests, spacing=0.1, log=print):
    """Tune-in times for channel `number`: the playlist, its newest segment, the TS stream.

    Returns {"m3u8": [ms...], "segment": [...], "segment_full": [...], "ts": [...], "errors": [...]}.
    """
    out = {"m3u8": [], "segment": [], "segment_full": [], "ts": [], "errors": []}
    pl_path = "/channel/%s.m3u8" % number
    for i in range(requests):
        try:
            r = timed_get(port, pl_path, read_all=True)
            if r["status"] != 200:
                raise HttpError("%s: HTTP %d" % (pl_path, r["status"]))
            out["m3u8"].append(r["first_ms"])
            uris = [l.strip() for l in r["body"].decode(errors="replace").splitlines()
                    if l.strip() and not l.startswith("#")]
            if not uris:
                raise HttpError("%s lists no segment" % pl_path)
            seg_path = urllib.parse.urljoin(pl_path, uris[-1])
            time.sleep(spacing / 2)
            r = timed_get(port, seg_path, read_all=True)
            if r["status"] != 200 or r["first_byte"] != b"\x47":
                raise HttpError("%s: HTTP %d, first byte %r" % (seg_path, r["status"],
                                                                r["first_byte"]))
            out["segment"].append(r["first_ms"])
            out["segment_full"].append(r["total_ms"])
            time.sleep(spacing / 2)
            ts_path = "/channel/%s.ts" % number
            r = timed_get(port, ts_path)
            if r["status"] != 200 or r["first_byte"] != b"\x47":
                raise HttpError("%s: HTTP %d, first byte %r" % (ts_path, r["status"],
                                                                r["first_byte"]))
            out["ts"].append(r["first_ms"])
        except (OSError, HttpError, ValueError) as e:
            out["errors"].append(str(e))
            log("    tune-in request %d: %s" % (i + 1, e))
        time.sleep(spacing)
    return out
