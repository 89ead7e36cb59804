"""
Fixtures for the content-manager benchmark (bench/content), generated once with
ffmpeg's lavfi sources and cached:

- clips/clip-K.mp4: ten small, distinct clips (320x240 25 fps H.264 + AAC 44.1 kHz,
  1.0 s to 1.9 s), the raw material of a probe-speed library;
- sd/sd-source.mp4: 60 s of SD as it comes from a DVD rip or a capture card:
  720x480 interlaced (top field first) 29.97 fps H.264 with B-frames, display aspect
  4:3, stereo AAC at 44.1 kHz in MP4. Not the house format, so a channel airing it
  encodes live until the content manager has conformed it.

The cache is built in a temporary directory next to it and renamed into place, so
two runs started at once never see a half-written cache.
"""

import os
import shutil
import subprocess
import tempfile

N_CLIPS = 10
SD_SECONDS = 60
VERSION = "v1"


def _ffmpeg(ffmpeg, args, timeout=600):
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (
            r.returncode, " ".join(cmd), r.stderr.decode(errors="replace")[-3000:]))


def clip_seconds(k):
    return 1.0 + 0.1 * k


def _make_clip(ffmpeg, path, k):
    seconds = clip_seconds(k)
    _ffmpeg(ffmpeg, [
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=%g,hue=H=%g" % (seconds, 0.6 * k),
        "-f", "lavfi", "-i", "sine=frequency=%d:sample_rate=44100:duration=%g" % (300 + 50 * k, seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-shortest", path])


def _make_sd_source(ffmpeg, path):
    # A 59.94p source woven into 29.97i, so the two fields of a frame really differ.
    video = ("testsrc2=size=720x480:rate=60000/1001:duration=%d,"
             "tinterlace=interleave_top,setfield=tff" % SD_SECONDS)
    audio = "sine=frequency=440:sample_rate=44100:duration=%d,pan=stereo|c0=c0|c1=0.5*c0" % SD_SECONDS
    _ffmpeg(ffmpeg, [
        "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio,
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-flags", "+ildct+ilme", "-x264-params", "tff=1", "-b:v", "3M", "-maxrate", "4M",
        "-bufsize", "4M", "-aspect", "4:3",
        "-c:a", "aac", "-b:a", "160k", "-ar", "44100", "-ac", "2",
        "-shortest", "-movflags", "+faststart", path])


def _build(d, ffmpeg, log):
    os.makedirs(os.path.join(d, "clips"))
    os.makedirs(os.path.join(d, "sd"))
    for k in range(N_CLIPS):
        path = os.path.join(d, "clips", "clip-%d.mp4" % k)
        log("  generating %s (%.1f s)" % (os.path.basename(path), clip_seconds(k)))
        _make_clip(ffmpeg, path, k)
    path = os.path.join(d, "sd", "sd-source.mp4")
    log("  generating %s (%d s of 720x480i 29.97 H.264, AAC 44.1 kHz)" % (
        os.path.basename(path), SD_SECONDS))
    _make_sd_source(ffmpeg, path)
    with open(os.path.join(d, "READY"), "w") as f:
        f.write(VERSION + "\n")


def ensure(cache_dir, ffmpeg="ffmpeg", log=print):
    """Makes the cache on first use; returns (clip paths, SD source path)."""
    cache_dir = os.path.abspath(cache_dir)
    if not os.path.exists(os.path.join(cache_dir, "READY")):
        parent = os.path.dirname(cache_dir)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".build-" + os.path.basename(cache_dir) + "-", dir=parent)
        try:
            log("media cache %s: generating fixtures" % cache_dir)
            _build(tmp, ffmpeg, log)
            try:
                os.rename(tmp, cache_dir)
                tmp = None
            except OSError:
                if not os.path.exists(os.path.join(cache_dir, "READY")):
                    raise
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    clips = [os.path.join(cache_dir, "clips", "clip-%d.mp4" % k) for k in range(N_CLIPS)]
    return clips, os.path.join(cache_dir, "sd", "sd-source.mp4")


def fill_root(root, clips, n):
    """n distinct file names in root, each a hard link to (or a copy of) one of the clips."""
    os.makedirs(root, exist_ok=True)
    paths = []
    for i in range(n):
        src = clips[i % len(clips)]
        dst = os.path.join(root, "spot-%04d.mp4" % i)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        paths.append(dst)
    return paths
