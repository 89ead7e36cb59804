/*
 * Unit tests for probing: media made with ffmpeg's lavfi sources at the start of the run
 * (16:9 and 4:3 with non-square pixels, 25 and 30000/1001 fps, interlaced, no audio,
 * chapters, several audio and subtitle streams), broken inputs that must give a clear
 * one-line error, the frame-rate choice, the colour matrix, and the house-format rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "probe.h"
#include "run.h"

static char dir[] = "/tmp/rv-probe-XXXXXX";

static char *media(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

/* Runs ffmpeg with the given arguments (NULL-terminated); 0 when it made the file. */
static int ffmpeg(const char *arg, ...)
{
    const char *argv[64] = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"};
    int n = 6;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    run_result_t r;
    run_opts_t o = {.timeout = 60};
    int rc = run_program(argv, &o, &r);
    if (rc != 0 || r.exit_code != 0)
        fprintf(stderr, "ffmpeg failed (%d, exit %d): %s\n", rc, r.exit_code, r.err.data);
    rc = rc != 0 ? rc : r.exit_code != 0 ? -EIO : 0;
    run_result_dispose(&r);
    return rc;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* The first n bytes of src, as a download cut short would leave them. */
static void truncate_copy(const char *src, const char *dst, size_t n)
{
    char *data = NULL;
    size_t len = 0;
    CHECK(util_read_file(src, &data, &len) == 0);
    CHECK(len > n);
    CHECK(util_write_file_atomic(dst, data, len < n ? len : n) == 0);
    free(data);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

#define X264 "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1"

static void make_media(void)
{
    char *p, *chap, *srt;
    /* 16:9, square pixels, 25 fps, no audio, High profile with B-frames in MPEG-TS
       (ultrafast alone would make Constrained Baseline), tagged with the HD matrix. */
    p = media("wide-noaudio.ts");
    CHECK(ffmpeg("-f", "lavfi", "-i", "testsrc=s=640x360:r=25:d=2,setsar=1", X264, "-x264-params",
                 "cabac=1:bframes=2:8x8dct=1", "-colorspace", "bt709", "-f", "mpegts", p,
                 NULL) == 0);
    free(p);
    /* 4:3 NTSC DV-style: 720x480 with 10:11 pixels at 30000/1001, stereo AAC in MP4. */
    p = media("ntsc-43.mp4");
    CHECK(ffmpeg("-f", "lavfi", "-i", "testsrc=s=720x480:r=30000/1001:d=2,setsar=10/11", "-f",
                 "lavfi", "-i", "sine=f=440:r=48000:d=2", X264, "-c:a", "aac", "-ac", "2",
                 "-shortest", p, NULL) == 0);
    free(p);
    /* Interlaced, top field first, mono 44.1 kHz audio. */
    p = media("interlaced.ts");
    CHECK(ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=2,setfield=tff", "-f", "lavfi",
                 "-i", "sine=r=44100:d=2", X264, "-flags", "+ilme+ildct", "-top", "1", "-c:a",
                 "aac", "-ac", "1", "-f", "mpegts", p, NULL) == 0);
    free(p);
    /* Chapters from an ffmetadata file, two audio and two subtitle streams, in Matroska. */
    chap = media("chapters.txt");
    write_text(chap, ";FFMETADATA1\n"
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Cold Open\n"
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Act One\n"
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=3000\nEND=4000\n");
    srt = media("subs.srt");
    write_text(srt, "1\n00:00:00,500 --> 00:00:01,500\nHello\n");
    p = media("chapters.mkv");
    CHECK(ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:r=25:d=4", "-f", "lavfi", "-i",
                 "sine=r=48000:d=4", "-i", chap, "-i", srt, "-map", "0:v", "-map", "1:a", "-map",
                 "1:a", "-map", "3:s", "-map", "3:s", "-map_chapters", "2", X264, "-c:a", "aac",
                 "-c:s", "srt", p, NULL) == 0);
    free(p);
    free(chap);
    free(srt);
    /* The demo's house format: 640x480 30000/1001 Main, no B-frames, AAC 48 kHz stereo. */
    p = media("house.ts");
    CHECK(ffmpeg("-f", "lavfi", "-i", "testsrc=s=640x480:r=30000/1001:d=2,setsar=1", "-f",
                 "lavfi", "-i", "sine=r=48000:d=2", X264, "-profile:v", "main", "-bf", "0",
                 "-x264-params", "cabac=1", "-c:a", "aac", "-ac", "2", "-shortest", "-f",
                 "mpegts", p, NULL) == 0);
    free(p);
}

static void test_wide_noaudio(void)
{
    char *p = media("wide-noaudio.ts");
    probe_t pr;
    CHECK(probe_file(NULL, p, &pr) == 0);
    CHECK(pr.error == NULL);
    CHECK_STR(pr.path, p);
    CHECK_NEAR(pr.duration, 2.0, 0.05);
    CHECK(pr.start_time > 0); /* MPEG-TS starts its clock at 1.4 s */
    CHECK(pr.size == file_size(p));
    CHECK(pr.bit_rate > 0);
    CHECK_STR(pr.format, "mpegts");
    CHECK(pr.has_video);
    CHECK_STR(pr.video.codec, "h264");
    CHECK_STR(pr.video.profile, "High");
    CHECK(pr.video.width == 640 && pr.video.height == 360);
    CHECK(pr.video.fps_num == 25 && pr.video.fps_den == 1);
    CHECK(pr.video.field_order == PROBE_FIELD_PROGRESSIVE);
    CHECK(!pr.video.interlaced);
    CHECK(pr.video.sar_num == 1 && pr.video.sar_den == 1);
    CHECK(pr.video.dar_num == 16 && pr.video.dar_den == 9);
    CHECK_STR(pr.video.pix_fmt, "yuv420p");
    CHECK_STR(pr.video.color_space, "bt709");
    CHECK(pr.video.tb_num == 1 && pr.video.tb_den == 90000);
    CHECK(pr.video.has_b_frames > 0);
    CHECK(!pr.has_audio);
    CHECK(pr.audio_count == 0);
    CHECK(pr.audio.codec == NULL && pr.audio.sample_rate == 0 && pr.audio.channels == 0);
    CHECK(pr.subtitle_count == 0);
    CHECK(pr.n_chapters == 0 && pr.chapters == NULL);
    probe_dispose(&pr);
    free(p);
}

static void test_ntsc_43(void)
{
    char *p = media("ntsc-43.mp4");
    probe_t pr;
    CHECK(probe_file("ffprobe", p, &pr) == 0);
    CHECK_NEAR(pr.duration, 2.0, 0.05);
    CHECK_NEAR(pr.start_time, 0.0, 0.001);
    CHECK(pr.size == file_size(p));
    CHECK(pr.bit_rate > 0);
    CHECK_STR(pr.format, "mov,mp4,m4a,3gp,3g2,mj2");
    CHECK_STR(pr.video.codec, "h264");
    CHECK(pr.video.width == 720 && pr.video.height == 480);
    CHECK(pr.video.fps_num == 30000 && pr.video.fps_den == 1001);
    CHECK(pr.video.field_order == PROBE_FIELD_PROGRESSIVE);
    CHECK(pr.video.sar_num == 10 && pr.video.sar_den == 11);
    CHECK(pr.video.dar_num == 15 && pr.video.dar_den == 11); /* 720*10 : 480*11 */
    CHECK_STR(pr.video.pix_fmt, "yuv420p");
    CHECK(pr.video.color_space == NULL); /* untagged */
    CHECK(pr.video.tb_num == 1 && pr.video.tb_den == 30000);
    CHECK(pr.has_audio && pr.audio_count == 1);
    CHECK_STR(pr.audio.codec, "aac");
    CHECK(pr.audio.sample_rate == 48000);
    CHECK(pr.audio.channels == 2);
    CHECK_STR(pr.audio.channel_layout, "stereo");
    CHECK(pr.subtitle_count == 0 && pr.n_chapters == 0);
    probe_dispose(&pr);
    free(p);
}

static void test_interlaced(void)
{
    char *p = media("interlaced.ts");
    probe_t pr;
    CHECK(probe_file(NULL, p, &pr) == 0);
    CHECK(pr.video.field_order == PROBE_FIELD_TT);
    CHECK_STR(probe_field_order_name(pr.video.field_order), "tt");
    CHECK(pr.video.interlaced);
    CHECK(pr.video.width == 320 && pr.video.height == 240);
    CHECK(pr.video.fps_num == 25 && pr.video.fps_den == 1);
    CHECK(pr.video.dar_num == 4 && pr.video.dar_den == 3);
    CHECK(pr.has_audio && pr.audio_count == 1);
    CHECK_STR(pr.audio.codec, "aac");
    CHECK(pr.audio.sample_rate == 44100);
    CHECK(pr.audio.channels == 1);
    CHECK_STR(pr.audio.channel_layout, "mono");
    probe_dispose(&pr);
    free(p);
}

static void test_chapters(void)
{
    char *p = media("chapters.mkv");
    probe_t pr;
    CHECK(probe_file(NULL, p, &pr) == 0);
    CHECK_STR(pr.format, "matroska,webm");
    CHECK_NEAR(pr.duration, 4.0, 0.1);
    CHECK(pr.video.tb_num == 1 && pr.video.tb_den == 1000);
    CHECK(pr.audio_count == 2);
    CHECK(pr.subtitle_count == 2);
    CHECK(pr.n_chapters == 3);
    if (pr.n_chapters == 3) {
        CHECK_NEAR(pr.chapters[0].start, 0.0, 0.001);
        CHECK_NEAR(pr.chapters[0].end, 1.5, 0.001);
        CHECK_STR(pr.chapters[0].title, "Cold Open");
        CHECK_NEAR(pr.chapters[1].start, 1.5, 0.001);
        CHECK_NEAR(pr.chapters[1].end, 3.0, 0.001);
        CHECK_STR(pr.chapters[1].title, "Act One");
        CHECK_NEAR(pr.chapters[2].start, 3.0, 0.001);
        CHECK(pr.chapters[2].title == NULL);
    }
    probe_dispose(&pr);
    free(p);
}

/* Every failure is one line naming the file, and never a crash or a hang. */
static void test_broken(void)
{
    probe_t pr;
    char *src = media("ntsc-43.mp4"), *p = media("truncated.mp4");
    truncate_copy(src, p, 3072);
    CHECK(probe_file(NULL, p, &pr) == -EINVAL);
    CHECK_CONTAINS(pr.error, p);
    CHECK_CONTAINS(pr.error, "ffprobe: moov atom not found");
    CHECK(strchr(pr.error, '\n') == NULL);
    probe_dispose(&pr);
    free(src);
    free(p);

    /* A cut-short transport stream parses, but holds too little to be a program. */
    src = media("interlaced.ts");
    p = media("truncated.ts");
    truncate_copy(src, p, 3072);
    CHECK(probe_file(NULL, p, &pr) == -EINVAL);
    CHECK_CONTAINS(pr.error, p);
    CHECK_CONTAINS(pr.error, "truncated");
    CHECK(strchr(pr.error, '\n') == NULL);
    probe_dispose(&pr);
    free(src);
    free(p);

    p = media("notes.mp4");
    write_text(p, "these are my notes, not a video\n");
    CHECK(probe_file(NULL, p, &pr) == -EINVAL);
    CHECK_CONTAINS(pr.error, p);
    CHECK_CONTAINS(pr.error, "Invalid data found when processing input");
    CHECK(strchr(pr.error, '\n') == NULL);
    CHECK(strstr(pr.error, "file:") == NULL); /* the URL form stays internal */
    probe_dispose(&pr);
    free(p);

    p = media("empty.ts");
    write_text(p, "");
    CHECK(probe_file(NULL, p, &pr) < 0);
    CHECK_CONTAINS(pr.error, p);
    probe_dispose(&pr);
    free(p);

    p = media("missing.mp4");
    CHECK(probe_file(NULL, p, &pr) == -ENOENT);
    CHECK_CONTAINS(pr.error, p);
    CHECK_CONTAINS(pr.error, "No such file or directory");
    probe_dispose(&pr);
    free(p);

    CHECK(probe_file(NULL, dir, &pr) == -EINVAL);
    CHECK_CONTAINS(pr.error, "not a regular file");
    probe_dispose(&pr);

    /* A FIFO would block ffprobe in open(); it is refused before ffprobe runs. */
    p = media("fifo.ts");
    CHECK(mkfifo(p, 0600) == 0);
    CHECK(probe_file(NULL, p, &pr) == -EINVAL);
    probe_dispose(&pr);
    free(p);

    p = media("house.ts");
    CHECK(probe_file("/nonexistent/ffprobe", p, &pr) == -ENOENT);
    CHECK_CONTAINS(pr.error, "unable to run /nonexistent/ffprobe");
    probe_dispose(&pr);
    free(p);

    /* Names ffprobe would read as a protocol or an option are still plain files. */
    char *odd = media("-s01e01: pilot.ts");
    p = media("house.ts");
    CHECK(link(p, odd) == 0);
    CHECK(probe_file(NULL, odd, &pr) == 0);
    CHECK_STR(pr.path, odd);
    probe_dispose(&pr);
    free(odd);
    free(p);

    CHECK(probe_parse_json("/x.ts", "not json", &pr) == -EINVAL);
    CHECK_STR(pr.error, "/x.ts: ffprobe gave no format information");
    probe_dispose(&pr);
}

/* Parses a one-video-stream answer with the given rates and aspect fields. */
static int parse_video_json(const char *fields, probe_t *pr)
{
    char *json = xasprintf("{\"format\":{\"format_name\":\"mpegts\",\"duration\":\"10.0\"},"
                           "\"streams\":[{\"codec_type\":\"video\",\"codec_name\":\"h264\","
                           "\"width\":720,\"height\":480%s}]}",
                           fields);
    int rc = probe_parse_json("/x.ts", json, pr);
    free(json);
    return rc;
}

static void test_frame_rate_and_aspect(void)
{
    probe_t pr;
    /* Interlaced H.264: r_frame_rate is the field rate, avg the frame rate. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"50/1\",\"avg_frame_rate\":\"25/1\"", &pr) == 0);
    CHECK(pr.video.fps_num == 25 && pr.video.fps_den == 1);
    probe_dispose(&pr);
    /* A measured average close to r is written as r. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"30000/1001\",\"avg_frame_rate\":\"1318000/43979\"",
                           &pr) == 0);
    CHECK(pr.video.fps_num == 30000 && pr.video.fps_den == 1001);
    probe_dispose(&pr);
    /* Telecined film: r says 30000/1001, avg (measured) is about 23.976: a standard rate. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"30000/1001\",\"avg_frame_rate\":\"2397/100\"",
                           &pr) == 0);
    CHECK(pr.video.fps_num == 24000 && pr.video.fps_den == 1001);
    probe_dispose(&pr);
    /* No average (a stream ffprobe could not measure): r it is, reduced. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"50/2\",\"avg_frame_rate\":\"0/0\"", &pr) == 0);
    CHECK(pr.video.fps_num == 25 && pr.video.fps_den == 1);
    probe_dispose(&pr);
    /* An unusual but sane average stays as it is. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"90000/1\",\"avg_frame_rate\":\"15/1\"", &pr) ==
          0);
    CHECK(pr.video.fps_num == 15 && pr.video.fps_den == 1);
    probe_dispose(&pr);
    /* No rate at all: not usable. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"0/0\",\"avg_frame_rate\":\"0/0\"", &pr) ==
          -EINVAL);
    CHECK_CONTAINS(pr.error, "no size or frame rate");
    probe_dispose(&pr);
    /* SAR "0:1" (unknown) means square; DAR then follows from the size. */
    CHECK(parse_video_json(",\"r_frame_rate\":\"25/1\",\"sample_aspect_ratio\":\"0:1\"", &pr) ==
          0);
    CHECK(pr.video.sar_num == 1 && pr.video.sar_den == 1);
    CHECK(pr.video.dar_num == 3 && pr.video.dar_den == 2);
    CHECK(pr.video.field_order == PROBE_FIELD_UNKNOWN && !pr.video.interlaced);
    probe_dispose(&pr);
    /* Cover art is not the video. */
    const char *cover = "{\"format\":{\"format_name\":\"matroska,webm\",\"duration\":\"5\"},"
                        "\"streams\":[{\"codec_type\":\"video\",\"codec_name\":\"mjpeg\","
                        "\"width\":600,\"height\":600,\"r_frame_rate\":\"90000/1\","
                        "\"disposition\":{\"attached_pic\":1}},"
                        "{\"codec_type\":\"audio\",\"codec_name\":\"mp3\"}]}";
    CHECK(probe_parse_json("/x.mkv", cover, &pr) == 0);
    CHECK(!pr.has_video && pr.has_audio);
    probe_dispose(&pr);
}

/* The matrix is kept as ffprobe names it; "unknown" is the same as no tag. */
static void test_color_space(void)
{
    probe_t pr;
    CHECK(parse_video_json(",\"r_frame_rate\":\"25/1\",\"color_space\":\"smpte170m\"", &pr) ==
          0);
    CHECK_STR(pr.video.color_space, "smpte170m");
    probe_dispose(&pr);
    CHECK(parse_video_json(",\"r_frame_rate\":\"25/1\",\"color_space\":\"unknown\"", &pr) ==
          0);
    CHECK(pr.video.color_space == NULL);
    probe_dispose(&pr);
}

static void check_why(const probe_t *pr, const house_format_t *h, const char *expected)
{
    const char *why = NULL;
    CHECK(!probe_is_house(pr, h, &why));
    CHECK_STR(why, expected);
}

static void test_house(void)
{
    house_format_t h = {.width = 640, .height = 480, .fps_num = 30000, .fps_den = 1001,
                        .audio_rate = 48000, .audio_channels = 2};
    char *p = media("house.ts");
    probe_t pr;
    CHECK(probe_file(NULL, p, &pr) == 0);
    const char *why = "unset";
    CHECK(probe_is_house(&pr, &h, &why));
    CHECK(why == NULL);
    CHECK(probe_is_house(&pr, &h, NULL));

    /* Each rule on its own, by changing one field of the good probe. */
    probe_t bad = pr;
    bad.format = "matroska,webm";
    check_why(&bad, &h, "container is not MPEG-TS");
    bad = pr;
    bad.video.codec = "mpeg2video";
    check_why(&bad, &h, "video is not H.264");
    bad = pr;
    bad.video.profile = "High 4:2:2";
    check_why(&bad, &h, "H.264 profile is not Baseline, Main or High");
    bad.video.profile = "High 10";
    check_why(&bad, &h, "H.264 profile is not Baseline, Main or High");
    bad.video.profile = "Constrained Baseline";
    CHECK(probe_is_house(&bad, &h, NULL));
    bad.video.profile = "High";
    CHECK(probe_is_house(&bad, &h, NULL));
    bad = pr;
    bad.video.width = 720;
    check_why(&bad, &h, "frame size differs from the house format");
    bad = pr;
    bad.video.fps_num = 30;
    bad.video.fps_den = 1;
    check_why(&bad, &h, "frame rate differs from the house format");
    bad.video.fps_num = 60000; /* the same rate written differently is the same rate */
    bad.video.fps_den = 2002;
    CHECK(probe_is_house(&bad, &h, NULL));
    bad = pr;
    bad.video.has_b_frames = 2;
    check_why(&bad, &h, "has B-frames (cuts would not be clean)");
    bad = pr;
    bad.video.pix_fmt = "yuv422p";
    check_why(&bad, &h, "pixel format is not yuv420p");
    bad = pr;
    bad.video.sar_num = 10;
    bad.video.sar_den = 11;
    check_why(&bad, &h, "pixels are not square (SAR is not 1:1)");
    bad = pr;
    bad.video.field_order = PROBE_FIELD_TT;
    bad.video.interlaced = 1;
    check_why(&bad, &h, "video is not progressive");
    bad = pr;
    bad.has_audio = 0;
    check_why(&bad, &h, "audio is missing or not AAC");
    bad = pr;
    bad.audio.codec = "ac3";
    check_why(&bad, &h, "audio is missing or not AAC");
    bad = pr;
    bad.audio.channels = 6;
    check_why(&bad, &h, "audio rate or layout differs from the house format");
    bad = pr;
    bad.has_video = 0;
    check_why(&bad, &h, "no video stream");
    probe_dispose(&pr);
    free(p);

    /* Real files that differ: B-frames (x264's default) and a missing audio track. */
    p = media("wide-noaudio.ts");
    CHECK(probe_file(NULL, p, &pr) == 0);
    h.width = 640;
    h.height = 360;
    h.fps_num = 25;
    h.fps_den = 1;
    check_why(&pr, &h, "has B-frames (cuts would not be clean)");
    pr.video.has_b_frames = 0;
    check_why(&pr, &h, "audio is missing or not AAC");
    probe_dispose(&pr);
    free(p);
    p = media("interlaced.ts");
    CHECK(probe_file(NULL, p, &pr) == 0);
    h.width = 320;
    h.height = 240;
    pr.video.has_b_frames = 0;
    check_why(&pr, &h, "video is not progressive");
    probe_dispose(&pr);
    free(p);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    make_media();
    test_wide_noaudio();
    test_ntsc_43();
    test_interlaced();
    test_chapters();
    test_broken();
    test_frame_rate_and_aspect();
    test_color_space();
    test_house();
    char *cmd = xasprintf("rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
    return CHECK_DONE();
}
