"""Summaries over runs (medians, min-max), tune-in percentiles, and the printed table."""

import math
import statistics


def p90(values):
    """Nearest-rank 90th percentile."""
    v = sorted(values)
    return v[max(0, math.ceil(0.9 * len(v)) - 1)] if v else None


def spread(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "runs": len(v)}


def get(d, path):
    for k in path.split("."):
        if d is None:
            return None
        d = d.get(k)
    return d


SCALARS = [
    "retrovue.cpu_pct_per_channel", "retrovue.ffmpeg_cpu_pct_per_channel",
    "retrovue.self_cpu_pct", "retrovue.self_cpu_pct_per_channel",
    "retrovue.pss_mib_per_channel", "retrovue.rss_mib_per_channel",
    "retrovue.ffmpeg_pss_mib_per_channel", "retrovue.ffmpeg_rss_mib_per_channel",
    "retrovue.self_pss_mib", "retrovue.self_rss_mib", "retrovue.segments_per_channel",
    "bare.cpu_pct_per_channel", "bare.pss_mib_per_channel", "bare.rss_mib_per_channel",
    "bare.segments_per_channel",
    "cpu_ratio", "ffmpeg_cpu_ratio", "pss_ratio", "machine_busy_pct", "on_air_after_s",
]


def summarize(runs):
    """Medians over runs of every scalar, and tune-in pooled over all runs' requests."""
    out = {}
    for path in SCALARS:
        out[path] = spread([get(r, path) for r in runs])
    tune = {}
    for key in ("m3u8", "segment", "segment_full", "ts"):
        pooled = [x for r in runs for x in r["tunein"][key]]
        tune[key] = {
            "median_ms": statistics.median(pooled) if pooled else None,
            "p90_ms": p90(pooled),
            "max_ms": max(pooled) if pooled else None,
            "requests": len(pooled),
        }
    tune["errors"] = sum(len(r["tunein"]["errors"]) for r in runs)
    out["tunein"] = tune
    return out


def _f(x, digits=2):
    return "-" if x is None else "%.*f" % (digits, x)


def _m(s, digits=2, show_range=True):
    """'median (min-max)' of a spread."""
    if s is None:
        return "-"
    if not show_range or s["runs"] < 2:
        return _f(s["median"], digits)
    return "%s (%s-%s)" % (_f(s["median"], digits), _f(s["min"], digits), _f(s["max"], digits))


def table(title, summary, n_channels, ratio_target=None, tune_target=100.0):
    """Lines of text for one phase."""
    s = summary
    w1, w2 = 44, 24
    lines = [title, "  %-*s %-*s %-*s %s" % (w1 - 2, "", w2, "retrovue", w2, "bare ffmpeg",
                                              "rv/bare")]

    def row(label, rv, bare="", ratio=""):
        lines.append("  %-*s %-*s %-*s %s" % (w1 - 2, label, w2, rv, w2, bare, ratio))

    ratio = s["cpu_ratio"]
    verdict = ""
    if ratio_target is not None and ratio is not None:
        verdict = "  (target <= %.1f: %s)" % (
            ratio_target, "met" if ratio["median"] <= ratio_target else "NOT met")
    row("CPU % of one core, per channel", _m(s["retrovue.cpu_pct_per_channel"], 3),
        _m(s["bare.cpu_pct_per_channel"], 3), _m(ratio, 2, False) + verdict)
    row("  ffmpeg children only, per channel", _m(s["retrovue.ffmpeg_cpu_pct_per_channel"], 3),
        "", _m(s["ffmpeg_cpu_ratio"], 2, False))
    row("  retrovue process, per channel", _m(s["retrovue.self_cpu_pct_per_channel"], 3))
    row("  retrovue process, total (%d ch)" % n_channels, _m(s["retrovue.self_cpu_pct"], 3))
    row("PSS MiB per channel", _m(s["retrovue.pss_mib_per_channel"]),
        _m(s["bare.pss_mib_per_channel"]), _m(s["pss_ratio"], 2, False))
    row("  ffmpeg children only, per channel", _m(s["retrovue.ffmpeg_pss_mib_per_channel"]))
    row("RSS MiB per channel", _m(s["retrovue.rss_mib_per_channel"]),
        _m(s["bare.rss_mib_per_channel"]))
    row("retrovue process PSS / RSS MiB (total)", "%s / %s" % (
        _m(s["retrovue.self_pss_mib"], 1, False), _m(s["retrovue.self_rss_mib"], 1, False)))
    row("segments per channel in window (sanity)", _m(s["retrovue.segments_per_channel"], 1, False),
        _m(s["bare.segments_per_channel"], 1, False))
    row("machine CPU busy during window, %", _m(s["machine_busy_pct"], 0))
    t = s["tunein"]
    lines.append("  tune-in, channel 1 (%d requests each, pooled)   median ms   p90 ms    max ms"
                 "   (target < %g ms)" % (t["m3u8"]["requests"], tune_target))
    for key, label in (("m3u8", "/channel/1.m3u8 first byte"),
                       ("segment", "newest segment first byte"),
                       ("segment_full", "newest segment whole file"),
                       ("ts", "/channel/1.ts first byte")):
        x = t[key]
        flag = ""
        if key != "segment_full" and x["p90_ms"] is not None:
            flag = "ok" if x["p90_ms"] < tune_target else "SLOW"
        lines.append("    %-44s %9s %8s %9s   %s" % (label, _f(x["median_ms"]), _f(x["p90_ms"]),
                                                      _f(x["max_ms"]), flag))
    if t["errors"]:
        lines.append("    %d tune-in requests failed (see results.json)" % t["errors"])
    return lines
