"""
House-format fixture clips, generated once with ffmpeg's lavfi sources and cached.

Four clips of exactly 900 frames (30.03 s, 15 GOPs of 60 frames) at 640x480,
30000/1001 fps, H.264 main 1500 kbit/s capped, AAC 128 kbit/s 48 kHz stereo, in
MPEG-TS: what retrovue calls the house format, so copy mode airs them unchanged
and live mode re-encodes them to the same format (a like-for-like SD comparison).

The cache directory is built in a temporary directory next to it and renamed into
place, so two benchmark runs started at once do not see a half-written cache.
"""

import os
import shutil
import subprocess
import tempfile

FRAMES = 900
FPS_NUM, FPS_DEN = 30000, 1001
CLIP_SECONDS = FRAMES * FPS_DEN / FPS_NUM  # 30.03
GOP = 60
SEGMENT_SECONDS = GOP * FPS_DEN / FPS_NUM  # 2.002

# name -> (sine frequency, hue shift in radians): each clip looks and sounds different.
CLIPS = {"a": (440, 0.0), "b": (550, 1.5708), "c": (660, 3.1416), "d": (880, 4.7124)}

HOUSE_ARGS = [
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-profile:v", "main",
    "-s", "640x480", "-r", "30000/1001", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
    "-bf", "0", "-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "3000k",
    "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
    "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0",
]


def _run(cmd):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (
            r.returncode, " ".join(cmd), r.stderr.decode(errors="replace")[-3000:]))
    return r.stdout.decode(errors="replace")


def _verify(ffprobe, path):
    out = _run([ffprobe, "-v", "error", "-show_entries",
                "packet=codec_type,pts_time,duration_time,flags", "-of", "csv", path])
    video = audio = keys = 0
    v_end = a_end = 0.0
    for line in out.splitlines():
        f = line.split(",")
        if len(f) < 5 or f[0] != "packet":
            continue
        if f[1] == "video":
            video += 1
            keys += "K" in f[4]
            v_end = max(v_end, float(f[2]) + FPS_DEN / FPS_NUM)
        elif f[1] == "audio":
            audio += 1
            a_end = max(a_end, float(f[2]) + float(f[3]))
    if video != FRAMES or keys != FRAMES // GOP:
        raise RuntimeError("%s: %d video frames, %d keyframes (want %d, %d)" % (
            path, video, keys, FRAMES, FRAMES // GOP))
    # AAC ends on a 1024-sample frame boundary: at most one frame (21.3 ms) past the video.
    if abs(a_end - v_end) > 0.05:
        raise RuntimeError("%s: audio ends at %.3f s, video at %.3f s" % (path, a_end, v_end))


def _make(d, ffmpeg, ffprobe, log):
    for name, (freq, hue) in CLIPS.items():
        path = os.path.join(d, name + ".ts")
        log("  generating %s (%.2f s, %d frames)" % (path, CLIP_SECONDS, FRAMES))
        # The lavfi sources end by themselves after exactly 900 frames / 30.03 s of audio.
        # `-frames:v 900` is deliberately not passed: in ffmpeg 5.1 reaching a stream's
        # frame limit closes the whole output at once, which cut the audio 0.44 s short.
        _run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
              "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30000/1001:duration=%.6f,hue=H=%g"
              % (CLIP_SECONDS, hue),
              "-f", "lavfi", "-i", "sine=frequency=%d:sample_rate=48000:duration=%.6f"
              % (freq, CLIP_SECONDS + 1),
              "-af", "atrim=duration=%.6f,asetpts=PTS-STARTPTS" % CLIP_SECONDS,
              *HOUSE_ARGS, path])
        _verify(ffprobe, path)
    with open(os.path.join(d, "READY"), "w") as f:
        f.write("v1\n")


def clips(cache_dir, ffmpeg="ffmpeg", ffprobe="ffprobe", log=print):
    """Absolute paths of the four clips, generating the cache on first use."""
    cache_dir = os.path.abspath(cache_dir)
    if not os.path.exists(os.path.join(cache_dir, "READY")):
        parent = os.path.dirname(cache_dir)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".build-" + os.path.basename(cache_dir) + "-", dir=parent)
        try:
            log("media cache %s: generating fixtures" % cache_dir)
            _make(tmp, ffmpeg, ffprobe, log)
            try:
                os.rename(tmp, cache_dir)
                tmp = None
            except OSError:
                if not os.path.exists(os.path.join(cache_dir, "READY")):
                    raise
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    return [os.path.join(cache_dir, n + ".ts") for n in sorted(CLIPS)]
