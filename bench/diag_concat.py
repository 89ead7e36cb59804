#!/usr/bin/env python3
"""
Diagnostic: what does the way retrovue feeds ffmpeg cost, with no clock in the way?

Remuxes the same N items (the bench clips, stream copy to HLS, as fast as possible:
no -re) three ways and reports ffmpeg's CPU time (rusage of the child) per second
of media and its peak RSS:

  flat        one plain ffconcat list naming the files (what bare ffmpeg does)
  nested-file an outer ffconcat whose entries are small ffconcat scripts on disk,
              each naming one file (retrovue's nesting, without HTTP)
  nested-http the same with every entry fetched over loopback HTTP, like retrovue's
              /internal/next feed (-protocol_whitelist file,http,tcp)

  python3 bench/diag_concat.py [--items 40] [--repeats 3]

With --realtime S it instead runs --procs K processes of every variant at once, in
real time (-re, or -readrate 1 -output_ts_offset like retrovue), for S seconds after
a 10 s warm-up, and reports each variant's CPU % of one core per process
(utime+stime from /proc/PID/stat): this separates the cost of nesting from the cost
of pacing, which dominates a real-time copy-mode ffmpeg.
"""

import argparse
import http.server
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import media, procs  # noqa: E402


def run_ffmpeg(ffmpeg, extra_in, script, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "concat", "-safe", "0",
            *extra_in, "-i", script, "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
            "-f", "hls", "-hls_time", "2", "-hls_list_size", "8",
            "-hls_flags", "delete_segments+temp_file+omit_endlist",
            "-hls_segment_filename", os.path.join(out_dir, "seg%09d.ts"), "-y",
            os.path.join(out_dir, "index.m3u8")]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    try:
        _, status, ru = os.wait4(p.pid, 0)
    except BaseException:
        p.kill()
        p.wait()
        raise
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("ffmpeg failed: %d" % p.returncode)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def realtime(a, clips, tmp, url_base):
    """K processes of every variant at once, real time; CPU % per process over the window."""
    items = 200
    variants = [
        ("flat -re", "flat", ["-re"]),
        ("nested-file -re", "nested", ["-re"]),
        ("nested-file -readrate 1 +offset", "nested+offset", ["-readrate", "1"]),
        ("nested-http -re", "http", ["-re", "-protocol_whitelist", "file,http,tcp"]),
        ("nested-http -readrate 1 +offset", "http+offset",
         ["-readrate", "1", "-protocol_whitelist", "file,http,tcp"]),
    ]
    running = []
    try:
        for name, kind, extra in variants:
            for k in range(a.procs):
                order = [clips[(i + k) % len(clips)] for i in range(items)]
                script = os.path.join(tmp, "rt-%s-%d.ffconcat" % (kind.replace("+", "_"), k))
                with open(script, "w") as f:
                    f.write("ffconcat version 1.0\n")
                    for i, c in enumerate(order):
                        if kind == "flat":
                            f.write("file '%s'\n" % c)
                        elif kind.startswith("nested"):
                            f.write("file '%s'\noption safe 0\n" % os.path.join(
                                tmp, "inner-%s.ffconcat" % os.path.basename(c)))
                        else:
                            f.write("file '%s/%d'\noption safe 0\n" % (url_base, k))
                out = os.path.join(tmp, "rt-out-%s-%d" % (name.replace(" ", "_"), k))
                os.makedirs(out)
                argv = [a.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", *extra,
                        "-f", "concat", "-safe", "0", "-i", script, "-map", "0:v:0",
                        "-map", "0:a:0?", "-c", "copy"]
                if kind.endswith("+offset"):
                    argv += ["-output_ts_offset", "0.000000"]
                argv += ["-f", "hls", "-hls_time", "2", "-hls_list_size", "8",
                         "-hls_flags", "delete_segments+temp_file+omit_endlist",
                         "-hls_segment_filename", os.path.join(out, "seg%09d.ts"), "-y",
                         os.path.join(out, "index.m3u8")]
                running.append((name, subprocess.Popen(argv, stdin=subprocess.DEVNULL)))
        time.sleep(10)
        t0 = time.monotonic()
        s0 = {p.pid: procs.read_stat(p.pid) for _, p in running}
        time.sleep(a.realtime)
        s1 = {p.pid: procs.read_stat(p.pid) for _, p in running}
        wall = time.monotonic() - t0
        print("%d processes per variant, %.0f s window:" % (a.procs, wall))
        for name, _, _ in variants:
            ticks = [s1[p.pid]["ticks"] - s0[p.pid]["ticks"] for n, p in running
                     if n == name and s0[p.pid] and s1[p.pid]]
            pct = 100.0 * sum(ticks) / procs.CLK_TCK / wall / max(1, len(ticks))
            print("  %-34s %6.3f %% of a core per process (%d alive)" % (name, pct, len(ticks)))
    finally:
        for _, p in running:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--realtime", type=float, default=0,
                    help="real-time mode: measure this many seconds (see the docstring)")
    ap.add_argument("--procs", type=int, default=5, help="processes per variant (real-time mode)")
    ap.add_argument("--ffmpeg", default=os.environ.get("FFMPEG", "ffmpeg"))
    ap.add_argument("--media-dir", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "retrovue-bench-media-v1"))
    a = ap.parse_args()
    clips = media.clips(a.media_dir, a.ffmpeg)
    tmp = tempfile.mkdtemp(prefix="retrovue-bench-diag-")
    server = None
    try:
        order = [clips[i % len(clips)] for i in range(a.items)]
        flat = os.path.join(tmp, "flat.ffconcat")
        with open(flat, "w") as f:
            f.write("ffconcat version 1.0\n" + "".join("file '%s'\n" % c for c in order))
        inner = {}
        for c in clips:
            inner[c] = os.path.join(tmp, "inner-%s.ffconcat" % os.path.basename(c))
            with open(inner[c], "w") as f:
                f.write("ffconcat version 1.0\nfile 'file:%s'\n" % c)
        nested = os.path.join(tmp, "nested.ffconcat")
        with open(nested, "w") as f:
            f.write("ffconcat version 1.0\n" +
                    "".join("file '%s'\noption safe 0\n" % inner[c] for c in order))

        lock = threading.Lock()
        counter = [0]
        per_path = {}

        class Feed(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    key = self.path
                    n = per_path.get(key, 0)
                    per_path[key] = n + 1
                    k = int(key.rsplit("/", 1)[1]) if key.rsplit("/", 1)[1].isdigit() else 0
                    c = order[(n + k) % len(order)] if a.realtime else order[counter[0] % len(order)]
                    counter[0] += 1
                body = ("ffconcat version 1.0\nfile 'file:%s'\n" % c).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/next" % server.server_address[1]
        nested_http = os.path.join(tmp, "nested-http.ffconcat")
        with open(nested_http, "w") as f:
            f.write("ffconcat version 1.0\n" +
                    "".join("file '%s'\noption safe 0\n" % url for _ in order))

        if a.realtime:
            realtime(a, clips, tmp, url)
            return
        kinds = [("flat", [], flat), ("nested-file", [], nested),
                 ("nested-http", ["-protocol_whitelist", "file,http,tcp"], nested_http)]
        media_s = a.items * media.CLIP_SECONDS
        res = {k: ([], []) for k, _, _ in kinds}
        for rep in range(a.repeats):
            for k, extra, script in kinds:
                counter[0] = 0
                cpu, rss = run_ffmpeg(a.ffmpeg, extra, script, os.path.join(tmp, "out"))
                res[k][0].append(cpu)
                res[k][1].append(rss)
                print("  repeat %d %-12s cpu %.3f s  peak RSS %.1f MiB" % (rep + 1, k, cpu, rss),
                      flush=True)
        base = statistics.median(res["flat"][0])
        print("\n%d items, %.0f s of media, median of %d repeats:" % (a.items, media_s, a.repeats))
        print("  %-12s %12s %16s %10s %14s" % ("input", "CPU s", "CPU %/ch at 1x", "vs flat",
                                             "peak RSS MiB"))
        for k, _, _ in kinds:
            cpu = statistics.median(res[k][0])
            print("  %-12s %12.3f %16.3f %10.2f %14.1f" % (
                k, cpu, 100.0 * cpu / media_s, cpu / base, statistics.median(res[k][1])))
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
