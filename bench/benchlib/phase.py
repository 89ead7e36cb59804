"""
One measured phase: a retrovue with N channels and, at the same time, N bare
ffmpeg processes doing the same job on the same media; CPU and memory sampled over
a window that starts after a warm-up, then tune-in times against channel 1.
"""

import os
import re
import shutil
import tempfile
import time

from . import media, procs, station, tunein

MIB = 1024.0

# The live-mode encoder arguments retrovue's build_args() uses (supervisor/channel.c),
# with the default house format (640x480, 30000/1001, GOP 60, 1500k video, 128k audio).
LIVE_ARGS = [
    "-vf", "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,"
    "setsar=1,fps=30000/1001",
    "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
    "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
    "-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "3000k",
    "-af", "aresample=async=1000", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
]
COPY_ARGS = ["-c", "copy"]


def _rotate(items, k):
    k %= len(items)
    return items[k:] + items[:k]


def _sleep_checked(seconds, procs_to_check, deadline_msg):
    """Sleeps in short steps, failing at once if a measured process dies."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        for name, p in procs_to_check:
            if not p.running():
                raise RuntimeError("%s exited %s" % (name, deadline_msg))
        time.sleep(min(0.5, left))


def _mem_sample(rv, bare):
    kids = rv.children()
    self_m = procs.memory(rv.pid) or (0, 0)
    kid_m = [procs.memory(p) for p in kids]
    kid_m = [m for m in kid_m if m]
    bare_m = [procs.memory(b.pid) for b in bare]
    bare_m = [m for m in bare_m if m]
    return {
        "self_pss": self_m[0], "self_rss": self_m[1],
        "kids_pss": sum(m[0] for m in kid_m), "kids_rss": sum(m[1] for m in kid_m),
        "kids": len(kid_m),
        "bare_pss": sum(m[0] for m in bare_m), "bare_rss": sum(m[1] for m in bare_m),
        "bare": len(bare_m),
    }


def _loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def _per_s(d, seconds, n):
    return {k: round(v / seconds / n, 2) for k, v in sorted(d.items())}


def run_phase(kind, n, seconds, opts, clips, log):
    """kind: "copy" or "live". Returns a dict of figures (see bench/README.md)."""
    mode = "copy" if kind == "copy" else "live"
    codec_args = COPY_ARGS if kind == "copy" else LIVE_ARGS
    tmp = tempfile.mkdtemp(prefix="retrovue-bench-%s-" % kind)
    notes = []
    try:
        channels = [(str(k + 1), mode, _rotate(clips, k)) for k in range(n)]
        rv = station.Retrovue(opts.bin, tmp, channels, opts.ffmpeg, opts.ffprobe)
        list_seconds = opts.warmup + seconds + 300
        bare = []
        for k in range(n):
            lst = station.write_loop_list(os.path.join(tmp, "bare-%d.ffconcat" % (k + 1)), clips, k,
                                          list_seconds, media.CLIP_SECONDS)
            bare.append(station.BareFfmpeg(opts.ffmpeg, os.path.join(tmp, "bare", str(k + 1)), lst,
                                           codec_args))
        t_spawn = time.monotonic()
        rv.start()
        for b in bare:
            b.start()
        rv.wait_listening(20)
        # Everyone on the air: each side has written its first segment.
        deadline = t_spawn + 90
        while True:
            if not rv.running():
                raise RuntimeError("retrovue exited during start-up\n" + rv.log_tail())
            dead = [b for b in bare if not b.running()]
            if dead:
                raise RuntimeError("bare ffmpeg exited during start-up; see %s" % dead[0].log_path)
            if all(rv.on_air(c[0]) for c in channels) and all(b.on_air() for b in bare):
                break
            if time.monotonic() > deadline:
                missing = [c[0] for c in channels if not rv.on_air(c[0])]
                raise RuntimeError("not on the air within 90 s (retrovue channels %s, bare %d)\n%s"
                                   % (missing, sum(not b.on_air() for b in bare), rv.log_tail()))
            time.sleep(0.2)
        on_air_after = time.monotonic() - t_spawn
        log("    on the air after %.1f s; warming up %g s" % (on_air_after, opts.warmup))
        checks = [("retrovue", rv)] + [("bare ffmpeg %d" % (i + 1), b) for i, b in enumerate(bare)]
        _sleep_checked(opts.warmup, checks, "during the warm-up")

        # ---- the measured window
        kids0 = rv.children()
        bare_pids = [b.pid for b in bare]
        m0 = procs.machine_ticks()
        t0 = time.monotonic()
        rv0 = procs.Snapshot(rv.pid, kids0)
        bare0 = procs.Snapshot(None, bare_pids)
        seq0 = [rv.newest_seq(c[0]) for c in channels], [b.newest_seq() for b in bare]
        log("    measuring %g s (%d retrovue children, %d bare ffmpeg)" % (
            seconds, len(kids0), len(bare_pids)))
        samples = []
        end = t0 + seconds
        next_sample = t0 + min(2.5, seconds / 2)
        for _ in range(int(seconds) * 4 + 10):  # bounded; exits on time
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_sample:
                samples.append(_mem_sample(rv, bare))
                next_sample += 5.0
            for name, p in checks:
                if not p.running():
                    raise RuntimeError("%s exited during the measured window" % name)
            time.sleep(max(0.0, min(0.25, end - time.monotonic(), next_sample - time.monotonic())))
        t1 = time.monotonic()
        rv1 = procs.Snapshot(rv.pid, rv.children())
        bare1 = procs.Snapshot(None, bare_pids)
        m1 = procs.machine_ticks()
        seq1 = [rv.newest_seq(c[0]) for c in channels], [b.newest_seq() for b in bare]
        samples.append(_mem_sample(rv, bare))
        wall = t1 - t0

        own, kids, n1 = procs.cpu_delta(rv0, rv1)
        _, bare_ticks, n2 = procs.cpu_delta(bare0, bare1)
        notes += n1 + n2
        tck = float(procs.CLK_TCK)

        def pct(ticks, per=1):
            return 100.0 * ticks / tck / wall / per

        def mean(key):
            return sum(s[key] for s in samples) / len(samples)

        def seg_delta(a, b):
            d = [y - x for x, y in zip(a, b) if x is not None and y is not None]
            return sum(d) / len(d) if d else None

        threads = {}
        for name, t in rv1.root_threads.items():
            d = t - rv0.root_threads.get(name, 0)
            if d:
                threads[name] = round(pct(d), 3)
        rv_io = procs.counter_delta(rv0.counters, rv1.counters)
        bare_io = procs.counter_delta(bare0.counters, bare1.counters)
        self_io = procs.counter_delta({0: rv0.root_counters or {}}, {0: rv1.root_counters or {}})
        res = {
            "channels": n,
            "window_s": round(wall, 3),
            "on_air_after_s": round(on_air_after, 2),
            "loadavg_after": _loadavg(),
            "machine_busy_pct": round(100.0 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 1),
            "cpu_count": os.cpu_count(),
            "memory_samples": len(samples),
            "retrovue": {
                "cpu_pct_per_channel": pct(own + kids, n),
                "ffmpeg_cpu_pct_per_channel": pct(kids, n),
                "self_cpu_pct": pct(own),
                "self_cpu_pct_per_channel": pct(own, n),
                "self_sys_cpu_pct": pct(rv1.root["sys"] - rv0.root["sys"]),
                "ffmpeg_sys_cpu_pct_per_channel": pct(procs.sys_delta(rv0, rv1), n),
                "pss_mib_per_channel": (mean("self_pss") + mean("kids_pss")) / MIB / n,
                "rss_mib_per_channel": (mean("self_rss") + mean("kids_rss")) / MIB / n,
                "ffmpeg_pss_mib_per_channel": mean("kids_pss") / MIB / n,
                "ffmpeg_rss_mib_per_channel": mean("kids_rss") / MIB / n,
                "self_pss_mib": mean("self_pss") / MIB,
                "self_rss_mib": mean("self_rss") / MIB,
                "segments_per_channel": seg_delta(*[seq0[0], seq1[0]]),
                "self_threads_cpu_pct": threads,
                "ffmpeg_counters_per_channel_per_s": _per_s(rv_io, wall, n),
                "self_counters_per_s": _per_s(self_io, wall, 1),
            },
            "bare": {
                "cpu_pct_per_channel": pct(bare_ticks, n),
                "sys_cpu_pct_per_channel": pct(procs.sys_delta(bare0, bare1), n),
                "pss_mib_per_channel": mean("bare_pss") / MIB / n,
                "rss_mib_per_channel": mean("bare_rss") / MIB / n,
                "segments_per_channel": seg_delta(seq0[1], seq1[1]),
                "ffmpeg_counters_per_channel_per_s": _per_s(bare_io, wall, n),
            },
        }
        b = res["bare"]["cpu_pct_per_channel"]
        res["cpu_ratio"] = res["retrovue"]["cpu_pct_per_channel"] / b if b > 0 else None
        res["ffmpeg_cpu_ratio"] = res["retrovue"]["ffmpeg_cpu_pct_per_channel"] / b if b > 0 else None
        bp = res["bare"]["pss_mib_per_channel"]
        res["pss_ratio"] = res["retrovue"]["pss_mib_per_channel"] / bp if bp > 0 else None
        kid = kids0[0] if kids0 else None
        res["retrovue_ffmpeg_argv"] = procs.cmdline(kid) if kid else None
        res["bare_ffmpeg_argv"] = bare[0].argv

        # ---- tune-in, on the running station (after the window, so it does not count)
        log("    tune-in: %d requests each for channel 1" % opts.requests)
        res["tunein"] = tunein.measure(rv.port, "1", opts.requests, log=log)

        text = rv.log_text()
        res["retrovue_log"] = {
            "lines": len(text.splitlines()),
            "ffmpeg_stderr_lines": len(re.findall(r"ffmpeg: ", text)),
            "stalls": text.count("ffmpeg stalled"),
            "exits": len(re.findall(r"ffmpeg (exited|killed|finished)", text)),
        }
        # Warnings and errors (stalls, exits, relayed ffmpeg messages), first 40.
        res["retrovue_log"]["warnings"] = [
            l for l in text.splitlines() if " warn " in l or " error " in l][:40]
        res["notes"] = notes
        return res
    finally:
        station.cleanup_all()
        if opts.keep:
            log("    kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
