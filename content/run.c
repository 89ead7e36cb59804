/*
 * Runs a helper program with its output captured: fork and exec with pipes, a poll
 * loop that reads stdout and stderr together (so neither pipe fills and stalls the
 * child), a deadline, and an optional nice level for long analysis passes.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long to keep draining a killed child's pipes; only a grandchild holding them
 * open could make this matter, and then we give up rather than hang. */
#define DRAIN_AFTER_KILL_MS 2000

/* One output stream of the child: its pipe, what is captured, the line being built. */
typedef struct stream {
    int fd;
    enum run_stream which;
    strbuf_t *capture;
    strbuf_t line;
} stream_t;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Searches PATH here rather than with execvp in the child: after fork in a threaded
   process the child may only make async-signal-safe calls, and a missing program is
   then reported before anything is forked. */
static char *find_program(const char *name)
{
    if (name == NULL || name[0] == '\0')
        return NULL;
    if (strchr(name, '/') != NULL)
        return is_executable(name) ? xstrdup(name) : NULL;
    const char *path = getenv("PATH");
    if (path == NULL || path[0] == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
        if (is_executable(cand))
            return cand;
        free(cand);
        if (end == NULL)
            return NULL;
        p = end + 1;
    }
}

/* In the child between fork and exec: async-signal-safe calls only. The pipe ends are
   first moved above 2 (copies, closed by the exec), because a parent started with a closed stdin or stdout could
   have been handed fd 0 or 1 for them. Exec failure is reported through fail_fd. */
static void child_exec(const char *exe, char *const argv[], int out_fd, int err_fd,
                       int fail_fd, int nice_inc)
{
    int f = fcntl(fail_fd, F_DUPFD_CLOEXEC, 3);
    if (f >= 0)
        fail_fd = f;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int o = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
    int e = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
    int n = devnull >= 0 ? fcntl(devnull, F_DUPFD_CLOEXEC, 3) : -1;
    if (o < 0 || e < 0 || n < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
        goto fail;
    /* A worker thread may run with signals blocked or SIGPIPE ignored; the child
       should start with the defaults, so a killed reader stops it. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (nice_inc > 0) {
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, 0);
        if (errno == 0)
            setpriority(PRIO_PROCESS, 0, cur + nice_inc);
    }
    execv(exe, argv);
fail:;
    int err = errno;
    ssize_t w = write(fail_fd, &err, sizeof(err));
    (void)w;
    _exit(127);
}

/* Appends a chunk to the capture (up to the cap) and hands complete lines to the
   callback. ffmpeg ends progress lines with "\r", so both terminators end a line. */
static int feed(stream_t *s, const char *buf, size_t n, const run_opts_t *o, size_t cap,
                int *truncated)
{
    size_t room = s->capture->len < cap ? cap - s->capture->len : 0;
    strbuf_append(s->capture, buf, n < room ? n : room);
    if (n > room)
        *truncated = 1;
    if (o->on_line == NULL)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && buf[j] != '\n' && buf[j] != '\r')
            j++;
        /* A line longer than the cap is kept only in part: nothing parses those. */
        size_t take = s->line.len < cap ? j - i : 0;
        strbuf_append(&s->line, buf + i, take);
        if (j == n)
            break;
        i = j + 1;
        if (s->line.len > 0) {
            int stop = o->on_line(o->arg, s->which, s->line.data, s->line.len);
            s->line.len = 0;
            s->line.data[0] = '\0';
            if (stop)
                return -ECANCELED;
        }
    }
    return 0;
}

/* The last line may lack a newline; it still counts. */
static int flush_line(stream_t *s, const run_opts_t *o)
{
    if (o->on_line == NULL || s->line.len == 0)
        return 0;
    int stop = o->on_line(o->arg, s->which, s->line.data, s->line.len);
    s->line.len = 0;
    return stop ? -ECANCELED : 0;
}

/* The state of one run's read loop. */
typedef struct pump {
    pid_t pid;
    const run_opts_t *o;
    run_result_t *res;
    size_t cap;
    double deadline; /* CLOCK_MONOTONIC ms; 0 = none */
    int killed;
    int rc;
} pump_t;

/* Kills the child with SIGKILL (ffmpeg may ignore SIGTERM while stuck in I/O) and
   gives its pipes a short while to drain. */
static void stop_child(pump_t *p, int rc)
{
    if (p->killed)
        return;
    kill(p->pid, SIGKILL);
    p->killed = 1;
    p->rc = rc;
    p->deadline = now_ms() + DRAIN_AFTER_KILL_MS;
}

/* Reads what one stream has ready; closes it at end of file. After a kill the rest is
   read and dropped. */
static void read_stream(pump_t *p, stream_t *s, char *buf, size_t size)
{
    ssize_t n = read(s->fd, buf, size);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        if (!p->killed && flush_line(s, p->o) != 0)
            stop_child(p, -ECANCELED);
        return;
    }
    if (!p->killed && feed(s, buf, (size_t)n, p->o, p->cap, &p->res->truncated) != 0)
        stop_child(p, -ECANCELED);
}

/* Reads both pipes together until both reach end of file, so neither fills and stalls
   the child. Returns 0, -ETIMEDOUT, -ECANCELED or a poll error. */
static int pump(pid_t pid, stream_t *s, const run_opts_t *o, run_result_t *res)
{
    pump_t p = {.pid = pid, .o = o, .res = res,
                .cap = o->max_capture ? o->max_capture : RUN_DEFAULT_MAX_CAPTURE,
                .deadline = o->timeout > 0 ? now_ms() + o->timeout * 1000.0 : 0};
    char buf[16384];
    while (s[0].fd >= 0 || s[1].fd >= 0) {
        int wait = -1;
        if (p.deadline > 0) {
            double left = p.deadline - now_ms();
            if (left <= 0) {
                if (p.killed)
                    break; /* drained long enough */
                stop_child(&p, -ETIMEDOUT);
                continue;
            }
            wait = (int)left + 1;
        }
        struct pollfd fds[2];
        stream_t *which[2];
        int n = 0;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0) {
                fds[n] = (struct pollfd){.fd = s[i].fd, .events = POLLIN};
                which[n++] = &s[i];
            }
        int ready = poll(fds, (nfds_t)n, wait);
        if (ready < 0 && errno != EINTR) {
            stop_child(&p, -errno);
            break;
        }
        for (int i = 0; ready > 0 && i < n; i++)
            if (fds[i].revents != 0)
                read_stream(&p, which[i], buf, sizeof(buf));
    }
    for (int i = 0; i < 2; i++)
        if (s[i].fd >= 0) {
            close(s[i].fd);
            s[i].fd = -1;
        }
    return p.rc;
}

static void reap(pid_t pid, run_result_t *res)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status)) {
        res->exit_code = WEXITSTATUS(status);
    } else {
        res->exit_code = -1;
        res->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
}

int run_program(const char *const *argv, const run_opts_t *opts, run_result_t *res)
{
    static const run_opts_t defaults;
    const run_opts_t *o = opts ? opts : &defaults;
    memset(res, 0, sizeof(*res));
    strbuf_init(&res->out);
    strbuf_init(&res->err);
    strbuf_puts(&res->out, ""); /* so data is never NULL, even when nothing is printed */
    strbuf_puts(&res->err, "");
    res->exit_code = -1;

    char *exe = find_program(argv[0]);
    if (exe == NULL)
        return -ENOENT;
    int out[2] = {-1, -1}, err[2] = {-1, -1}, fail[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
        pipe2(fail, O_CLOEXEC) != 0) {
        int e = -errno;
        close_pair(out);
        close_pair(err);
        close_pair(fail);
        free(exe);
        return e;
    }
    pid_t pid = fork();
    if (pid == 0)
        child_exec(exe, (char *const *)argv, out[1], err[1], fail[1], o->nice);
    int fork_errno = errno;
    free(exe);
    close(out[1]);
    close(err[1]);
    close(fail[1]);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        close(fail[0]);
        return -fork_errno;
    }

    /* The fail pipe closes on a successful exec; otherwise it carries the errno. */
    int exec_errno = 0;
    ssize_t n;
    while ((n = read(fail[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
        ;
    close(fail[0]);
    if (n == (ssize_t)sizeof(exec_errno)) {
        close(out[0]);
        close(err[0]);
        reap(pid, res);
        res->exit_code = -1;
        return -exec_errno;
    }

    stream_t s[2] = {{.fd = out[0], .which = RUN_STDOUT, .capture = &res->out},
                     {.fd = err[0], .which = RUN_STDERR, .capture = &res->err}};
    strbuf_init(&s[0].line);
    strbuf_init(&s[1].line);
    int rc = pump(pid, s, o, res);
    strbuf_dispose(&s[0].line);
    strbuf_dispose(&s[1].line);
    reap(pid, res);
    return rc;
}

void run_result_dispose(run_result_t *res)
{
    strbuf_dispose(&res->out);
    strbuf_dispose(&res->err);
}

/* Strips "[h264 @ 0x55d0c8a4e1c0] " style prefixes (possibly several). */
static const char *skip_component(const char *s, const char *end)
{
    while (s < end && *s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (close == NULL || memmem(s, (size_t)(close - s), " @ ", 3) == NULL)
            break;
        s = close + 1;
        while (s < end && *s == ' ')
            s++;
    }
    return s;
}

/* One line of output cleaned for a message: prefixes gone, control characters made
   spaces. NULL when nothing is left. */
static char *clean_line(const char *line, const char *end, const char *input)
{
    line = skip_component(line, end);
    size_t ilen = input ? strlen(input) : 0;
    if (ilen && (size_t)(end - line) > ilen && strncmp(line, input, ilen) == 0 &&
        line[ilen] == ':')
        line += ilen + 1;
    while (line < end && *line == ' ')
        line++;
    if (line == end)
        return NULL;
    char *out = xasprintf("%.*s", (int)(end - line), line);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    return out;
}

char *run_error_line(const char *text, const char *input, int max_lines)
{
    if (text == NULL || max_lines < 1)
        return NULL;
    char *lines[8];
    int n = 0;
    if (max_lines > (int)RV_ARRAY_SIZE(lines))
        max_lines = (int)RV_ARRAY_SIZE(lines);
    /* Walk lines from the end, keeping the last max_lines distinct ones. */
    const char *end = text + strlen(text);
    while (end > text && n < max_lines) {
        while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
            end--;
        const char *line = end;
        while (line > text && line[-1] != '\n' && line[-1] != '\r')
            line--;
        char *c = line < end ? clean_line(line, end, input) : NULL;
        if (c != NULL && (n == 0 || strcmp(c, lines[n - 1]) != 0))
            lines[n++] = c;
        else
            free(c);
        end = line;
    }
    if (n == 0)
        return NULL;
    strbuf_t sb;
    strbuf_init(&sb);
    for (int i = n - 1; i >= 0; i--) {
        if (sb.len < 300)
            strbuf_printf(&sb, "%s%s", i == n - 1 ? "" : "; ", lines[i]);
        free(lines[i]);
    }
    if (sb.len > 300) {
        sb.len = 297;
        while (sb.len > 0 && ((unsigned char)sb.data[sb.len] & 0xC0) == 0x80)
            sb.len--; /* not in the middle of a UTF-8 character */
        strbuf_puts(&sb, "...");
    }
    return strbuf_steal(&sb);
}
