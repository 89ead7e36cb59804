/*
 * Benchmark for conforming: makes a 60 s SD source like a DVD or capture (720x480
 * MPEG-2, interlaced, 29.97, stereo), conforms it into the default house format RUNS
 * times (default 3) at the default nice, once with ffmpeg's own thread count and once
 * with one encoder thread (what each of several parallel conform workers gets), and
 * prints the median speed as a multiple of real time and the CPU it took.
 * Usage: bench_conform [RUNS] [DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "conform.h"
#include "probe.h"
#include "run.h"
#include "util.h"

#define SOURCE_SECONDS 60
#define MAX_RUNS 25

/* User plus system time of every child waited for so far. */
static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Fields really move between the two halves of each frame (60p source woven into 30i),
   so deinterlacing does real work. */
static int make_source(const char *path)
{
    char *video = xasprintf("testsrc2=size=720x480:rate=60000/1001:duration=%d,"
                            "tinterlace=interleave_top,setfield=tff",
                            SOURCE_SECONDS);
    char *audio = xasprintf("sine=f=440:r=48000:d=%d,pan=stereo|c0=c0|c1=0.5*c0",
                            SOURCE_SECONDS);
    const char *argv[] = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                          "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio,
                          "-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", "1",
                          "-b:v", "6M", "-maxrate", "8M", "-bufsize", "2M", "-aspect", "4:3",
                          "-c:a", "ac3", "-b:a", "192k", "-f", "mpegts", path, NULL};
    run_result_t res;
    int rc = run_program(argv, NULL, &res);
    if (rc != 0 || res.exit_code != 0) {
        fprintf(stderr, "bench_conform: unable to make the source: %s\n", res.err.data);
        rc = -1;
    }
    run_result_dispose(&res);
    free(video);
    free(audio);
    return rc;
}

/* Conforms src RUNS times with the given thread count; prints and returns the median
   speed (media seconds per wall second), or -1 on failure. */
static double measure(const char *label, const char *src, const probe_t *p, const char *dst,
                      int runs, int threads)
{
    static const house_format_t house = {640, 480, 30000, 1001, 60, 48000, 2, 1500, 128};
    double speed[MAX_RUNS], cpu[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        conform_opts_t o;
        conform_opts_init(&o);
        o.threads = threads;
        conform_result_t res;
        double t0 = bench_now(), c0 = children_cpu_s();
        int rc = conform_file(NULL, NULL, src, p, &house, dst, &o, &res);
        double wall = bench_now() - t0;
        cpu[r] = children_cpu_s() - c0;
        if (rc != 0) {
            fprintf(stderr, "bench_conform: conform failed: %s\n", res.error);
            conform_result_dispose(&res);
            return -1;
        }
        speed[r] = res.duration / wall;
        fprintf(stderr, "%s run %d: %.1f s of media in %.2f s wall (%.1fx), %.2f s CPU\n", label,
                r + 1, res.duration, wall, speed[r], cpu[r]);
        conform_result_dispose(&res);
        unlink(dst);
    }
    bench_sort(speed, (size_t)runs);
    bench_sort(cpu, (size_t)runs);
    printf("bench_conform: %s: median %.1fx real time (min %.1fx, max %.1fx), "
           "%.3f CPU-s per media second\n",
           label, speed[runs / 2], speed[0], speed[runs - 1],
           cpu[runs / 2] / SOURCE_SECONDS);
    return speed[runs / 2];
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: bench_conform [RUNS (1..%d)] [DIR]\n", MAX_RUNS);
        return 2;
    }
    char *dir = xasprintf("%s/bench-conform-%d", base, (int)getpid());
    char *src = xasprintf("%s/source.ts", dir), *dst = xasprintf("%s/out.ts", dir);
    int rc = util_mkdirs(dir, 0755) == 0 && make_source(src) == 0 ? 0 : 1;
    probe_t p = {0};
    if (rc == 0 && probe_file(NULL, src, &p) != 0) {
        fprintf(stderr, "bench_conform: %s\n", p.error);
        rc = 1;
    }
    if (rc == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        printf("bench_conform: %d s of 720x480 interlaced MPEG-2 + AC-3 into "
               "640x480@30000/1001, nice %d, %ld cores\n",
               SOURCE_SECONDS, CONFORM_DEFAULT_NICE, cores);
        if (measure("default threads", src, &p, dst, runs, 0) < 0 ||
            measure("one thread", src, &p, dst, runs, 1) < 0)
            rc = 1;
    }
    probe_dispose(&p);
    unlink(src);
    unlink(dst);
    rmdir(dir);
    free(src);
    free(dst);
    free(dir);
    return rc;
}
