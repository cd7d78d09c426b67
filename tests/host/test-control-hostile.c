// SPDX-License-Identifier: GPL-2.0-or-later
/* test-control-hostile.c - the real netbe-host's control socket against hostile local
 * clients: early close, slow and idle readers, floods, fd exhaustion, oversize requests,
 * other uids, stale and live socket files, and clients that leave during a migrate; and
 * netbe-ctl against hosts that are missing, silent or cut their reply. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <unistd.h>
#include "control.h"
#include "host-proc.h"
#include "sock-util.h"
#include "netns.h"

#define FILLERS                                                                                    \
    2000 /* netdevs with 60-character ids: stats --json is ~390 KB, more than                      \
          * a UNIX socket buffers (wmem_default: 208 KB) */

/* A protocol 2 request for the counters, as one line. */
#define STATS_REQUEST "{\"id\":1,\"command\":\"stats\"}\n"

static char *tmp_dir;

/* A hub of socket netdevs: one listening on loopback, @fillers that try a UNIX path where
 * nothing listens (no fd held, a long line each in stats). Deferred, so it can migrate. */
static char *hub_config(unsigned fillers)
{
    GString *ini = g_string_new("[netdev.lan0]\ntype = socket\nlisten = 127.0.0.1:0\n");
    GString *ports = g_string_new("lan0");

    for (unsigned i = 0; i < fillers; i++) {
        g_string_append_printf(ini,
                               "[netdev.f%059u]\ntype = socket\n"
                               "connect = unix:%s/nobody-listens.sock\nreconnect = 3600\n",
                               i, tmp_dir);
        g_string_append_printf(ports, ", f%059u", i);
    }
    g_string_append_printf(ini, "[hub.lan]\nports = %s\nconnect = deferred\n", ports->str);
    g_string_free(ports, true);
    return g_string_free(ini, false);
}

static TestHost *start_host(unsigned fillers, const char *const *args)
{
    g_autofree char *ini = hub_config(fillers);
    TestHost *h = test_host_start(ini, NULL, args);

    g_assert_nonnull(h);
    return h;
}

/* A client connected to @path (blocking: waits while the host's backlog is full). */
static int client_connect(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

static void client_send(int fd, const char *text, size_t len)
{
    g_assert_cmpint(send(fd, text, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* Read up to EOF (or a reset) within @ms, @chunk bytes per read.
 * Return: what came (NULL on timeout). */
static GString *read_to_eof(int fd, int ms, size_t chunk)
{
    GString *got = g_string_new(NULL);
    gint64 end = g_get_monotonic_time() + ms * G_TIME_SPAN_MILLISECOND;
    char buf[65536];

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (end - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left) <= 0) {
            g_string_free(got, true);
            return NULL;
        }
        n = read(fd, buf, MIN(chunk, sizeof(buf))); /* sockets and pipes */
        if (n <= 0) {
            return got;
        }
        g_string_append_len(got, buf, n);
    }
}

/* The host process has not exited (a SIGPIPE death shows here) and answers status. */
static void assert_serving(TestHost *h)
{
    g_autofree char *status = NULL;
    int wstatus;

    g_assert_cmpint(waitpid(h->pid, &wstatus, WNOHANG), ==, 0);
    status = test_host_ctl(h, "status");
    g_assert_nonnull(status);
    g_assert_nonnull(strstr(status, "hub    lan"));
}

/* Stop the host: it must exit 0 (clean shutdown; under ASan also: no leak, no error). */
static void finish(TestHost *h)
{
    g_assert_cmpint(test_host_stop(h), ==, 0);
    test_host_free(h);
}

static bool log_has(TestHost *h, const char *text)
{
    g_autofree char *log = NULL;

    return g_file_get_contents(h->log, &log, NULL, NULL) && strstr(log, text);
}

static bool wait_log(TestHost *h, const char *text, int ms)
{
    for (int waited = 0; waited < ms; waited += 20) {
        if (log_has(h, text)) {
            return true;
        }
        g_usleep(20000);
    }
    return log_has(h, text);
}

/* user + system CPU time of @pid in clock ticks, from /proc/PID/stat. */
static unsigned long cpu_ticks(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    unsigned long utime = 0, stime = 0;
    char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strrchr(text, ')'); /* the command name may hold blanks */
    g_assert_nonnull(p);
    g_assert_cmpint(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), ==,
        2);
    return utime + stime;
}

static unsigned open_fds(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", pid);
    GDir *dir = g_dir_open(path, 0, NULL);
    unsigned n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir)) {
        n++;
    }
    g_dir_close(dir);
    return n;
}

/* JSON that python's parser accepts, with @queues entries in "queues" (of "return" when
 * @reply: a whole reply line, not netbe-ctl's output). */
static void assert_stats_json(const GString *json, unsigned queues, bool reply)
{
    g_autofree char *file = g_build_filename(tmp_dir, "reply.json", NULL);

    g_assert_true(g_file_set_contents(file, json->str, json->len, NULL));
    g_assert_cmpint(test_sh("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                            "d=d[\"return\"] if %d else d; sys.exit(len(d[\"queues\"]) != %u)' "
                            "'%s'",
                            reply, queues, file),
                    ==, 0);
}

/* Whether a process's peak memory says what it holds: not under AddressSanitizer, whose
 * quarantine keeps freed memory from being used again (leaks are its own to find there). */
#ifdef __SANITIZE_ADDRESS__
static const bool memory_measurable = false;
#else
static const bool memory_measurable = true;
#endif

/* @key (kB) of /proc/PID/status ("VmRSS", "VmHWM"). */
static unsigned long proc_kb(GPid pid, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    g_autofree char *needle = g_strdup_printf("\n%s:", key);
    const char *line;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, needle);
    g_assert_nonnull(line);
    return g_ascii_strtoull(line + strlen(needle), NULL, 10);
}

/* Whether @pid ignores @signum, from SigIgn in /proc/PID/status. */
static bool ignores_signal(GPid pid, int signum)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    const char *line;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, "\nSigIgn:");
    g_assert_nonnull(line);
    return g_ascii_strtoull(line + strlen("\nSigIgn:"), NULL, 16) & (1ull << (signum - 1));
}

/* Fails if a client that asks for a large reply and closes without reading it (or after
 * a few bytes) kills the host (SIGPIPE: exit 141) or leaves it unable to answer, or if
 * netbe-host does not ignore SIGPIPE (a plugin's write to a gone peer would kill it). */
static void test_early_close_after_stats_json_leaves_host_serving(void)
{
    TestHost *h = start_host(FILLERS, NULL);

    g_assert_true(ignores_signal(h->pid, SIGPIPE));

    for (int i = 0; i < 20; i++) {
        int fd = client_connect(h->control);
        char buf[16];

        client_send(fd, STATS_REQUEST, strlen(STATS_REQUEST));
        if (i % 2) {
            g_assert_cmpint(recv(fd, buf, sizeof(buf), 0), >, 0); /* a few bytes, then go */
        }
        close(fd);
    }
    assert_serving(h);
    g_assert_false(log_has(h, "CRITICAL"));
    finish(h);
}

/* Fails if a reply larger than the socket buffers is cut when its client reads late (after
 * the 2 s the old blocking write allowed) and a byte at a time: the JSON would not parse. */
static void test_slow_reader_gets_whole_valid_json(void)
{
    const char *args[] = {"--control-timeout", "15000", NULL}; /* a byte a read is slow */
    TestHost *h = start_host(FILLERS, args);
    int fd = client_connect(h->control), small = 4096;
    g_autoptr(GString) got = NULL;

    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
    client_send(fd, STATS_REQUEST, strlen(STATS_REQUEST));
    shutdown(fd, SHUT_WR); /* that was all: the host closes once the reply is out */
    g_usleep(2500 * 1000); /* later than the 2 s the old blocking write waited */
    got = read_to_eof(fd, 12000, 1);
    close(fd);
    g_assert_nonnull(got);
    g_assert_cmpuint(got->len, >, 300000);
    g_assert_cmpint(got->str[got->len - 1], ==, '\n');
    assert_stats_json(got, FILLERS + 1, true);
    assert_serving(h);
    finish(h);
}

/* Fails if a client that sends many requests at once and reads slowly makes the host queue
 * their large replies (each ~390 KB): it must answer the next only once the last went out,
 * so its memory grows by about one reply, not by all of them; and all come, in order. Also
 * fails if a stats request leaks its tree (LeakSanitizer misses GLib's slices). */
static void test_pipelined_requests_queue_one_reply_at_a_time(void)
{
    enum { REQUESTS = 30 };
    /* the daemon builds the replies one after another: ASan takes seconds for each */
    const char *args[] = {"--control-timeout", "600000", NULL};
    TestHost *h = start_host(FILLERS, args);
    int fd = client_connect(h->control), small = 4096;
    g_autoptr(GString) batch = g_string_new(NULL);
    unsigned long hwm0, hwm1;
    size_t got = 0, lines = 0;
    char buf[4096];
    gint64 t_stats = g_get_monotonic_time();

    g_free(test_host_ctl(h, "stats")); /* one reply's worth of memory, before measuring */
    t_stats = g_get_monotonic_time() - t_stats;
    hwm0 = proc_kb(h->pid, "VmHWM");
    g_free(test_host_ctl(h, "stats")); /* a second one costs nothing more (no leak) */
    g_assert_true(!memory_measurable || proc_kb(h->pid, "VmHWM") < hwm0 + 1024);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
    for (int i = 0; i < REQUESTS; i++) {
        g_string_append(batch, STATS_REQUEST);
    }
    client_send(fd, batch->str, batch->len); /* 30 requests in one write: one read takes all */
    for (int i = 0; i < 100; i++) {          /* slowly: 400 KB/s */
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        for (ssize_t j = 0; j < n; j++) {
            lines += buf[j] == '\n';
        }
        got += n > 0 ? (size_t)n : 0;
        g_usleep(10000);
    }
    hwm1 = proc_kb(h->pid, "VmHWM");
    g_test_message("read %zu bytes (%zu replies) slowly; peak memory %lu -> %lu kB", got, lines,
                   hwm0, hwm1);
    g_assert_true(!memory_measurable || hwm1 < hwm0 + 4 * 1024); /* 30 queued: ~12 MB */
    shutdown(fd, SHUT_WR);
    {
        g_autoptr(GString) rest =
            read_to_eof(fd, 30000 + (int)(2 * REQUESTS * t_stats / 1000), 65536);

        g_assert_nonnull(rest);
        for (gsize j = 0; j < rest->len; j++) {
            lines += rest->str[j] == '\n';
        }
    }
    g_assert_cmpuint(lines, ==, REQUESTS);
    close(fd);
    assert_serving(h);
    finish(h);
}

/* Fails if clients that send nothing, half a request, or never read their reply hold
 * their connection past --control-timeout (by more than 2 s beyond the time the daemon
 * spends on the one large reply it builds meanwhile, measured first: ASan slows that). */
static void test_idle_and_slow_clients_time_out(void)
{
    const char *args[] = {"--control-timeout", "300", NULL};
    TestHost *h = start_host(FILLERS, args);
    gint64 t_stats = g_get_monotonic_time();
    int probe = client_connect(h->control);
    g_autoptr(GString) whole = NULL;
    int silent, half, unread, small = 4096;
    g_autoptr(GString) a = NULL;
    g_autoptr(GString) b = NULL;
    gint64 t0;

    client_send(probe, STATS_REQUEST, strlen(STATS_REQUEST));
    shutdown(probe, SHUT_WR);
    whole = read_to_eof(probe, 30000, 65536);
    g_assert_nonnull(whole);
    close(probe);
    t_stats = g_get_monotonic_time() - t_stats;
    g_test_message("one stats reply of %zu bytes took %.0f ms", whole->len, t_stats / 1e3);
    silent = client_connect(h->control);
    half = client_connect(h->control);
    unread = client_connect(h->control);
    t0 = g_get_monotonic_time();

    client_send(half, "sta", 3);
    g_assert_cmpint(setsockopt(unread, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
    client_send(unread, STATS_REQUEST, strlen(STATS_REQUEST));
    a = read_to_eof(silent, 3000 + (int)(t_stats / 1000), 4096);
    b = read_to_eof(half, 3000 + (int)(t_stats / 1000), 4096);
    g_assert_nonnull(a); /* NULL: not closed within 3 s */
    g_assert_nonnull(b);
    g_assert_cmpuint(a->len + b->len, ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_TIME_SPAN_SECOND + t_stats);
    g_assert_true(wait_log(h, "did not read its reply within 300 ms", 3000));
    g_assert_true(log_has(h, "sent no complete request within 300 ms"));
    close(silent);
    close(half);
    close(unread);
    assert_serving(h);
    finish(h);
}

/* Fails if clients beyond the bound are served (no bound), get no clear refusal, or if the
 * host does not serve again as soon as the flood leaves. */
static void test_flood_beyond_bound_refused_then_served(void)
{
    enum { FLOOD = CONTROL_MAX_CLIENTS + 36 };
    TestHost *h = start_host(2, NULL);
    int fds[FLOOD];
    unsigned busy = 0, held = 0;
    g_autofree char *refused = NULL;

    for (int i = 0; i < FLOOD; i++) {
        fds[i] = client_connect(h->control);
    }
    g_usleep(300 * 1000);
    for (int i = 0; i < FLOOD; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        char buf[256] = "";

        if (poll(&p, 1, 0) == 1 && recv(fds[i], buf, sizeof(buf) - 1, 0) > 0) {
            g_assert_nonnull(strstr(buf, "{\"error\":{\"class\":\"Busy\",\"message\":\"busy"));
            busy++;
        } else {
            held++;
        }
    }
    g_assert_cmpuint(held, ==, CONTROL_MAX_CLIENTS);
    g_assert_cmpuint(busy, ==, FLOOD - CONTROL_MAX_CLIENTS);
    refused = test_host_ctl(h, "status");
    g_assert_null(refused); /* busy: netbe-ctl exits 1 */
    for (int i = 0; i < FLOOD; i++) {
        close(fds[i]);
    }
    /* served again as soon as the host has seen them go, not after the 5 s idle timeout */
    g_assert_true(wait_log(h, "serving new ones again", 2000));
    assert_serving(h);
    finish(h);
}

/* Fails if accept() failing with EMFILE makes the host spin (CPU) or stop listening for
 * good: under a low fd limit, idle clients use up the fds; once they time out, status
 * must answer again. */
static void test_fd_exhaustion_neither_spins_nor_stops_listener(void)
{
    const char *args[] = {"--control-timeout", "1500", NULL};
    TestHost *h = start_host(2, args);
    struct rlimit lim;
    int fds[10];
    unsigned long ticks;
    long hz = sysconf(_SC_CLK_TCK);
    g_autofree char *status = NULL;
    gint64 t0;

    lim.rlim_cur = lim.rlim_max = open_fds(h->pid) + 4;
    g_assert_cmpint(prlimit(h->pid, RLIMIT_NOFILE, &lim, NULL), ==, 0);
    for (int i = 0; i < 10; i++) {
        fds[i] = client_connect(h->control); /* 4 are accepted, 6 wait in the backlog */
    }
    g_assert_true(wait_log(h, "Too many open files", 2000));
    ticks = cpu_ticks(h->pid);
    g_usleep(1000 * 1000);
    ticks = cpu_ticks(h->pid) - ticks;
    g_test_message("CPU while accept() fails with EMFILE: %lu ticks of %ld in 1 s", ticks, hz);
    g_assert_cmpuint(ticks * 100, <=, 5 * (unsigned long)hz); /* at most 5 % */
    t0 = g_get_monotonic_time();
    status = test_host_ctl(h, "status"); /* waits while the idle clients time out */
    g_assert_nonnull(status);
    g_test_message("status answered %.1f s after the fds ran out",
                   (g_get_monotonic_time() - t0) / 1e6);
    g_assert_true(log_has(h, "accepting again"));
    for (int i = 0; i < 10; i++) {
        close(fds[i]);
    }
    assert_serving(h);
    finish(h);
}

/* Fails if a request beyond CONTROL_MAX_REQUEST is read on (memory) or not refused
 * clearly, or if one of exactly the limit is refused as too long (it is answered: an
 * unknown command, its id echoed). */
static void test_oversize_request_refused(void)
{
    TestHost *h = start_host(2, NULL);
    g_autofree char *big = g_strnfill(3 * CONTROL_MAX_REQUEST, 'x');
    g_autofree char *limit = g_strnfill(CONTROL_MAX_REQUEST + 1, 'y');
    const char frame[] = "{\"command\":\"frobnicate\",\"id\":\"";
    int fd = client_connect(h->control), fd2;
    g_autoptr(GString) got = NULL;
    g_autoptr(GString) got2 = NULL;

    client_send(fd, big, 2 * CONTROL_MAX_REQUEST); /* no newline: it never ends */
    got = read_to_eof(fd, 3000, 4096);
    close(fd);
    g_assert_nonnull(got);
    g_assert_cmpstr(got->str, ==,
                    "{\"error\":{\"class\":\"InvalidRequest\",\"message\":\"request longer than "
                    "4096 bytes; closing\"}}\n");
    /* {"command":"frobnicate","id":"yyy...y"} of exactly CONTROL_MAX_REQUEST bytes */
    memcpy(limit, frame, strlen(frame));
    memcpy(limit + CONTROL_MAX_REQUEST - 2, "\"}\n", 3);
    fd2 = client_connect(h->control);
    client_send(fd2, limit, CONTROL_MAX_REQUEST + 1);
    shutdown(fd2, SHUT_WR);
    got2 = read_to_eof(fd2, 3000, 4096);
    close(fd2);
    g_assert_nonnull(got2);
    g_assert_true(g_str_has_prefix(got2->str, "{\"id\":\"yyyy"));
    g_assert_nonnull(strstr(got2->str, "\"error\":{\"class\":\"UnknownCommand\""));
    assert_serving(h);
    finish(h);
}

/*
 * Fails if a line with more than one JSON value is served (json-glib took the first and
 * leaked the others: a 4 KiB line of "{}" cost the daemon ~800 KB), or if netbe-host's memory
 * grows with such lines. Also single quotes, comments and an object cut short are refused
 * before the parser, each with a reason, and the host serves on.
 */
static void test_one_object_per_line(void)
{
    static const char *const bad[] = {
        "{\"id\":1,\"command\":\"status\"}{\"id\":2}\n",
        "{\"id\":1,\"command\":\"status\"} 7\n",
        "2{\"id\":1,\"command\":\"status\"}\n",
        "{\"id\":1,\"command\":\"status\"} /* x */\n",
        "{'id':1,\"command\":\"status\"}\n",
        "{\"id\":1,\"command\":\"sta}tus\"\n",
    };
    TestHost *h = start_host(2, NULL);
    g_autoptr(GString) flood = g_string_new("{\"id\":1,\"command\":\"status\"}");
    unsigned long rss0;
    int fd;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GString) got = NULL;

        fd = client_connect(h->control);
        client_send(fd, bad[i], strlen(bad[i]));
        shutdown(fd, SHUT_WR);
        got = read_to_eof(fd, 3000, 4096);
        close(fd);
        g_test_message("%s-> %s", bad[i], got ? got->str : "(nothing)");
        g_assert_nonnull(got);
        g_assert_true(g_str_has_prefix(got->str, "{\"error\":{\"class\":\"InvalidRequest\""));
    }
    while (flood->len + 3 < CONTROL_MAX_REQUEST) {
        g_string_append(flood, "{}");
    }
    g_string_append_c(flood, '\n');
    rss0 = proc_kb(h->pid, "VmRSS");
    fd = client_connect(h->control);
    for (int i = 0; i < 200; i++) { /* one at a time: each reply before the next request */
        char reply[512];
        ssize_t n;

        client_send(fd, flood->str, flood->len);
        n = recv(fd, reply, sizeof(reply) - 1, 0);
        g_assert_cmpint(n, >, 0);
        reply[n] = 0;
        g_assert_nonnull(strstr(reply, "InvalidRequest"));
    }
    close(fd);
    /* 200 lines leaked ~160 MB before */
    g_assert_true(!memory_measurable || proc_kb(h->pid, "VmRSS") < rss0 + 8192);
    assert_serving(h);
    finish(h);
}

/* In a child running as nobody: connect, ask for status, write the reply to @out. */
static void ask_as_nobody(const char *path, int out)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    char buf[512];
    ssize_t n;
    int fd;

    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
        _exit(2);
    }
    strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        _exit(3);
    }
    send(fd, "{\"command\":\"status\"}\n", 21, MSG_NOSIGNAL); /* EPIPE if refused already */
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        if (write(out, buf, n) != n) {
            _exit(4);
        }
    }
    _exit(0);
}

/* Fails if a client of another uid is served once the file mode lets it connect: the
 * SO_PEERCRED check must refuse it with its uid and pid, and the host must log it. */
static void test_other_uid_refused_by_peercred(void)
{
    TestHost *h;
    int pipefd[2], wstatus;
    g_autoptr(GString) got = NULL;
    g_autofree char *want = NULL;
    pid_t child;

    if (geteuid() != 0) {
        g_test_skip("needs root to connect as nobody");
        return;
    }
    h = start_host(2, NULL);
    g_assert_cmpint(chmod(h->dir, 0755), ==, 0);
    g_assert_cmpint(chmod(h->control, 0666), ==, 0); /* only SO_PEERCRED stands in the way */
    g_assert_cmpint(pipe(pipefd), ==, 0);
    child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        close(pipefd[0]);
        ask_as_nobody(h->control, pipefd[1]);
    }
    close(pipefd[1]);
    got = read_to_eof(pipefd[0], 5000, 512);
    close(pipefd[0]);
    g_assert_cmpint(waitpid(child, &wstatus, 0), ==, child);
    g_assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    g_assert_nonnull(got);
    want = g_strdup_printf("{\"error\":{\"class\":\"Denied\",\"message\":\"uid 65534 (pid %d) "
                           "may not use this control socket",
                           child);
    g_string_truncate(got, MIN(got->len, strlen(want)));
    g_assert_cmpstr(got->str, ==, want);
    g_assert_true(log_has(h, "refused: uid 65534"));
    assert_serving(h);
    finish(h);
}

/* A second netbe-host on @control; Return: it, started but not waited for. */
static TestHost *spawn_on(const char *control)
{
    const char *args[] = {"--control", control, NULL}; /* the last --control wins */
    g_autofree char *ini = hub_config(2);
    TestHost *h = test_host_spawn(ini, NULL, args, NULL);

    g_assert_nonnull(h);
    g_free(h->control);
    h->control = g_strdup(control);
    return h;
}

/* Fails if a live host's socket is taken over, a file that is not a socket is replaced,
 * or the socket file a SIGKILLed host left behind blocks a restart. */
static void test_stale_socket_replaced_live_refused(void)
{
    TestHost *a = start_host(2, NULL), *b, *c, *d;
    g_autofree char *plain = g_build_filename(a->dir, "not-a-socket", NULL);
    g_autofree char *text = NULL;
    int wstatus;

    b = spawn_on(a->control); /* a listens: refused */
    g_assert_cmpint(test_host_wait(b, 10000), ==, 1);
    g_assert_true(log_has(b, "another process listens on it"));
    assert_serving(a);
    g_assert_true(g_file_set_contents(plain, "keep me", -1, NULL));
    d = spawn_on(plain);
    g_assert_cmpint(test_host_wait(d, 10000), ==, 1);
    g_assert_true(log_has(d, "exists and is not a socket"));
    g_assert_true(g_file_get_contents(plain, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "keep me");
    kill(a->pid, SIGKILL);
    g_assert_cmpint(waitpid(a->pid, &wstatus, 0), ==, a->pid);
    a->pid = -1;
    g_assert_true(g_file_test(a->control, G_FILE_TEST_EXISTS)); /* left behind */
    c = spawn_on(a->control);
    g_assert_true(test_host_wait_serving(c, 10000));
    g_assert_true(log_has(c, "replaced a stale socket file"));
    assert_serving(c);
    finish(c);
    test_host_free(b);
    test_host_free(d);
    test_host_free(a);
}

/*
 * Fails if a second host on a live host's control socket opens its backends before it
 * refuses (a second host's TAP queues would join the live host's TAP). Its one backend
 * listens on a TCP port the test holds: a host that starts it first fails on that port
 * and never names the control socket.
 */
static void test_second_host_refuses_before_opening_backends(void)
{
    TestHost *a = start_host(0, NULL), *b;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int held = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const char *args[] = {"--control", a->control, NULL}; /* the last --control wins */
    g_autofree char *ini = NULL;

    g_assert_cmpint(bind(held, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(getsockname(held, (struct sockaddr *)&sin, &len), ==, 0);
    ini =
        g_strdup_printf("[netdev.x]\ntype = socket\nlisten = 127.0.0.1:%u\n", ntohs(sin.sin_port));
    b = test_host_spawn(ini, NULL, args, NULL);
    g_assert_nonnull(b);
    g_assert_cmpint(test_host_wait(b, 10000), ==, 1);
    g_assert_true(log_has(b, "another process listens on it"));
    g_assert_false(log_has(b, "in use")); /* the port: it never tried the backend */
    assert_serving(a);
    close(held);
    test_host_free(b);
    finish(a);
}

/* Accept the host's handover connection. Return: it (the test keeps it silent). */
static int accept_handover(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int fd;

    g_assert_cmpint(poll(&p, 1, 10000), ==, 1);
    fd = accept(lfd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

/* Fails if the host dies writing the answer of a migrate to a client that left while the
 * handover was under way, or if a client that waits does not get its whole answer when the
 * handover deadline passes (the destination stays silent and connected all along). */
static void test_migrate_survives_gone_client_and_answers_waiting_one(void)
{
    const char *args[] = {"--handover-timeout", "1000", NULL};
    TestHost *h = start_host(2, args);
    g_autofree char *dst = g_build_filename(h->dir, "dst.sock", NULL);
    g_autofree char *req = g_strdup_printf(
        "{\"id\":7,\"command\":\"migrate\",\"arguments\":{\"path\":\"%s\"}}\n", dst);
    int lfd = test_unix_listener(dst, 4), fd, silent;
    g_autoptr(GString) got = NULL;
    gint64 t0;

    fd = client_connect(h->control);
    client_send(fd, req, strlen(req));
    close(fd); /* gone before the handover even starts */
    silent = accept_handover(lfd);
    g_assert_true(wait_log(h, "still running here", 5000)); /* gave up at its deadline */
    close(silent);
    assert_serving(h);
    fd = client_connect(h->control);
    t0 = g_get_monotonic_time();
    client_send(fd, req, strlen(req));
    shutdown(fd, SHUT_WR);
    silent = accept_handover(lfd);
    got = read_to_eof(fd, 5000, 4096);
    g_test_message("migrate to a silent destination answered in %.2f s",
                   (g_get_monotonic_time() - t0) / 1e6);
    close(silent);
    close(fd);
    g_assert_nonnull(got);
    g_assert_true(g_str_has_prefix(got->str, "{\"id\":7,\"error\":{\"class\":\"Failed\""));
    g_assert_true(g_str_has_suffix(got->str, "the source keeps running\"}}\n"));
    close(lfd);
    assert_serving(h);
    finish(h);
}

/* Start netbe-ctl with @args. Return: its pid; *err_fd reads its stderr. */
static GPid ctl_spawn(const char *args, int *err_fd)
{
    g_autofree char *cmd = g_strdup_printf("exec '%s' %s", test_env_path("NETBE_CTL"), args);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    GPid pid;

    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, NULL, err_fd, NULL));
    return pid;
}

/* Wait for netbe-ctl. Return: its exit status; *err: its stderr (caller frees). */
static int ctl_wait(GPid pid, int err_fd, char **err)
{
    GString *text = read_to_eof(err_fd, 10000, 4096);
    int wstatus;

    g_assert_nonnull(text);
    close(err_fd);
    g_assert_cmpint(waitpid(pid, &wstatus, 0), ==, pid);
    *err = g_string_free(text, false);
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

/* Run netbe-ctl with @args to the end. Return: its exit status; *err: its stderr. */
static int ctl_run(const char *args, char **err)
{
    int err_fd;
    GPid pid = ctl_spawn(args, &err_fd);

    return ctl_wait(pid, err_fd, err);
}

/* Fails if netbe-ctl cuts a reply larger than the socket buffers. */
static void test_ctl_reads_whole_large_reply(void)
{
    TestHost *h = start_host(FILLERS, NULL);
    g_autofree char *out = test_host_ctl(h, "stats --json");
    g_autoptr(GString) json = NULL;

    g_assert_nonnull(out);
    json = g_string_new(out);
    assert_stats_json(json, FILLERS + 1, false);
    finish(h);
}

/* Fails if netbe-ctl does not tell a missing socket from a dead host's leftover file. */
static void test_ctl_connect_errors_say_why(void)
{
    g_autofree char *missing = g_build_filename(tmp_dir, "missing.sock", NULL);
    g_autofree char *stale = g_build_filename(tmp_dir, "stale.sock", NULL);
    g_autofree char *args1 = g_strdup_printf("'%s' status", missing);
    g_autofree char *args2 = g_strdup_printf("'%s' status", stale);
    g_autofree char *err1 = NULL, *err2 = NULL;

    close(test_unix_listener(stale, 4)); /* the file stays, nothing listens */
    g_assert_cmpint(ctl_run(args1, &err1), ==, 1);
    g_assert_nonnull(strstr(err1, "is netbe-host running with --control"));
    g_assert_cmpint(ctl_run(args2, &err2), ==, 1);
    g_assert_nonnull(strstr(err2, "nothing listens"));
}

/* Fails if netbe-ctl waits past --timeout for a host that never answers. */
static void test_ctl_times_out_on_silent_host(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "silent.sock", NULL);
    g_autofree char *args = g_strdup_printf("--timeout 300 '%s' status", path);
    g_autofree char *err = NULL;
    int lfd = test_unix_listener(path, 4); /* the backlog takes the connection; nobody answers */
    gint64 t0 = g_get_monotonic_time();

    g_assert_cmpint(ctl_run(args, &err), ==, 1);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 3 * G_TIME_SPAN_SECOND);
    g_assert_nonnull(strstr(err, "no complete reply within 300 ms"));
    close(lfd);
    unlink(path);
}

/* Fails if netbe-ctl prints a reply that ends without its newline as if it were whole. */
static void test_ctl_reports_cut_reply(void)
{
    g_autofree char *path = g_build_filename(tmp_dir, "cut.sock", NULL);
    g_autofree char *args = g_strdup_printf("'%s' stats --json", path);
    g_autofree char *err = NULL;
    g_autoptr(GString) req = NULL;
    int lfd = test_unix_listener(path, 4), err_fd, fd;
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    GPid pid = ctl_spawn(args, &err_fd);

    g_assert_cmpint(poll(&p, 1, 10000), ==, 1);
    fd = accept(lfd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    client_send(fd, "{\"id\":1,\"return\":{\"queues\":[", 28);
    shutdown(fd, SHUT_WR);
    req = read_to_eof(fd, 10000, 4096); /* netbe-ctl reads to EOF, then closes */
    close(fd);
    g_assert_nonnull(req);
    g_assert_cmpstr(req->str, ==, STATS_REQUEST);
    g_assert_cmpint(ctl_wait(pid, err_fd, &err), ==, 1);
    g_assert_nonnull(strstr(err, "cut short"));
    close(lfd);
    unlink(path);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("netbe-ctl-hostile-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    g_test_add_func("/control/early-close-after-stats-json",
                    test_early_close_after_stats_json_leaves_host_serving);
    g_test_add_func("/control/slow-reader-gets-whole-json", test_slow_reader_gets_whole_valid_json);
    g_test_add_func("/control/idle-and-slow-clients-time-out", test_idle_and_slow_clients_time_out);
    g_test_add_func("/control/pipelined-requests-one-reply-at-a-time",
                    test_pipelined_requests_queue_one_reply_at_a_time);
    g_test_add_func("/control/flood-refused-beyond-bound",
                    test_flood_beyond_bound_refused_then_served);
    g_test_add_func("/control/fd-exhaustion-backs-off",
                    test_fd_exhaustion_neither_spins_nor_stops_listener);
    g_test_add_func("/control/oversize-request-refused", test_oversize_request_refused);
    g_test_add_func("/control/one-object-per-line", test_one_object_per_line);
    g_test_add_func("/control/other-uid-refused", test_other_uid_refused_by_peercred);
    g_test_add_func("/control/stale-socket-replaced-live-refused",
                    test_stale_socket_replaced_live_refused);
    g_test_add_func("/control/second-host-refuses-before-opening-backends",
                    test_second_host_refuses_before_opening_backends);
    g_test_add_func("/control/migrate-client-gone-or-waiting",
                    test_migrate_survives_gone_client_and_answers_waiting_one);
    g_test_add_func("/ctl/reads-whole-large-reply", test_ctl_reads_whole_large_reply);
    g_test_add_func("/ctl/connect-errors-say-why", test_ctl_connect_errors_say_why);
    g_test_add_func("/ctl/times-out-on-silent-host", test_ctl_times_out_on_silent_host);
    g_test_add_func("/ctl/reports-cut-reply", test_ctl_reports_cut_reply);
    rc = g_test_run();
    test_sh("rm -rf '%s'", tmp_dir);
    g_free(tmp_dir);
    return rc;
}
