// SPDX-License-Identifier: GPL-2.0-or-later
/* guest.c - test helpers: boot a real Linux guest in QEMU (TCG), drive it over its serial
 * console and QMP, migrate it, and take a TCP stream from it on the host. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>
#include "guest.h"
#include "host-proc.h"
#include "netns.h"

#define GUEST_BEGIN "__NETBE_BEGIN__ "
#define GUEST_DONE "__NETBE_DONE__ "
#define GUEST_CMDLINE "console=ttyS0 quiet panic=-1 mitigations=off"
#define TRANSCRIPT_MAX 8192 /* console bytes kept for a failure's diagnostics */

/**
 * struct TestGuest - one QEMU process and our ends of its serial console and QMP
 * @pid:        QEMU, 0 once reaped
 * @dir:        private temp dir (QMP socket, QEMU's stderr log, the test's sockets)
 * @log:        QEMU's stderr
 * @serial_in:  pipe to the guest's ttyS0 (QEMU's stdin), -1 when closed
 * @serial_out: pipe from it (QEMU's stdout), non-blocking, -1 when closed
 * @pending:    console bytes read but not yet split into lines
 * @transcript: the console's last TRANSCRIPT_MAX bytes or so
 * @qmp:        QMP connection, -1 before first use
 * @qmp_buf:    QMP bytes read but not yet split into lines
 * @boot_s:     seconds until the ready line
 */
struct TestGuest {
    GPid pid;
    char *dir;
    char *log;
    int serial_in;
    int serial_out;
    GString *pending;
    GString *transcript;
    int qmp;
    GString *qmp_buf;
    double boot_s;
};

GQuark test_guest_error_quark(void)
{
    return g_quark_from_static_string("test-guest-error");
}

/* Command numbers are unique in the process, so a migrated guest's answers never mix. */
static unsigned guest_seq;

static void print_file(const char *prefix, const char *path)
{
    g_autofree char *text = NULL;

    if (path && g_file_get_contents(path, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (int i = 0; lines[i]; i++) {
            if (*lines[i]) {
                g_printerr("# %s: %s\n", prefix, lines[i]);
            }
        }
    }
}

static void print_diagnostics(TestGuest *g)
{
    g_auto(GStrv) lines = g_strsplit(g->transcript->str, "\n", -1);

    print_file("qemu", g->log);
    for (int i = 0; lines[i]; i++) {
        if (*lines[i]) {
            g_printerr("# console: %s\n", lines[i]);
        }
    }
}

bool test_guest_image(const char **kernel, const char **initrd, GError **error)
{
    static char *paths[2];
    static char *failure;
    g_autofree char *script = NULL, *out = NULL, *err = NULL;
    const char *argv[] = {NULL, NULL};
    g_auto(GStrv) lines = NULL;
    int status = -1;

    if (!paths[0] && !failure) {
        script =
            g_build_filename(test_env_path("NETBE_SOURCE_ROOT"), "scripts", "guest-image.sh", NULL);
        argv[0] = script;
        if (!g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, error)) {
            return false;
        }
        lines = g_strsplit(out, "\n", -1);
        if (!g_spawn_check_wait_status(status, NULL) || g_strv_length(lines) < 2 ||
            !g_file_test(lines[0], G_FILE_TEST_EXISTS) ||
            !g_file_test(lines[1], G_FILE_TEST_EXISTS)) {
            failure = g_strdup_printf("%s failed: %s", script, g_strstrip(err));
        } else {
            paths[0] = g_strdup(lines[0]);
            paths[1] = g_strdup(lines[1]);
        }
    }
    if (failure) {
        g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_FAILED, "no guest image: %s",
                    failure);
        return false;
    }
    *kernel = paths[0];
    *initrd = paths[1];
    return true;
}

/* In QEMU's child: stderr to the log, and die with the test (a failed assertion must not
 * leave a guest behind). */
static void qemu_child_setup(gpointer log_path)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* The fixed part of QEMU's command line: TCG, q35, no default devices, serial on stdio. */
#define QEMU_FIXED_ARGS                                                                            \
    "qemu-system-x86_64 -accel tcg -M q35 -machine memory-backend=mem -nodefaults "                \
    "-display none -no-reboot -serial stdio"

static void add_arg(GPtrArray *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add_arg(GPtrArray *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(a, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/*
 * Guest RAM beyond the MiB asked for, in KiB. QEMU up to 8.2 loses stores of a TCG guest
 * during live migration when its RAM block is a whole number of 64-page chunks: the fast
 * path of its dirty bitmap sync clears the bits without re-arming the TCG TLB, so later
 * stores through it are not logged and the destination gets stale pages (fixed in QEMU 9.0,
 * commit 03bfc2188f "physmem: Fix migration dirty bitmap coherency with TCG memory
 * access"). The guest then oopses or its TCP stalls after the move, about once in 40
 * migrations here. Two more pages keep QEMU 7.2 on its slow path, which re-arms the TLB.
 */
#define GUEST_RAM_EXTRA_KIB 8

static GPtrArray *qemu_argv(TestGuest *g, const TestGuestOpts *opts, const char *kernel,
                            const char *initrd)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) fixed = g_strsplit(QEMU_FIXED_ARGS, " ", -1);
    unsigned mem = (opts->mem_mib ? opts->mem_mib : 256) * 1024 + GUEST_RAM_EXTRA_KIB;

    for (int i = 0; fixed[i]; i++) {
        add_arg(a, "%s", fixed[i]);
    }
    add_arg(a, "-kernel");
    add_arg(a, "%s", kernel);
    add_arg(a, "-initrd");
    add_arg(a, "%s", initrd);
    add_arg(a, "-append");
    add_arg(a, GUEST_CMDLINE);
    add_arg(a, "-m");
    add_arg(a, "%uk", mem);
    add_arg(a, "-object");
    add_arg(a, "memory-backend-memfd,id=mem,size=%uk,share=on", mem);
    add_arg(a, "-smp");
    add_arg(a, "%u", opts->cpus ? opts->cpus : 1);
    add_arg(a, "-qmp");
    add_arg(a, "unix:%s/qmp.sock,server=on,wait=off", g->dir);
    if (opts->incoming) {
        add_arg(a, "-incoming");
        add_arg(a, "%s", opts->incoming);
    }
    for (int i = 0; opts->args && opts->args[i]; i++) {
        add_arg(a, "%s", opts->args[i]);
    }
    g_ptr_array_add(a, NULL);
    return a;
}

static void keep_transcript(TestGuest *g, const char *bytes, size_t len)
{
    g_string_append_len(g->transcript, bytes, len);
    if (g->transcript->len > TRANSCRIPT_MAX) {
        g_string_erase(g->transcript, 0, g->transcript->len - TRANSCRIPT_MAX / 2);
    }
}

/* Reap QEMU if it exited (saying so unless @expected); Return: true if it is gone. */
static bool qemu_gone(TestGuest *g, bool expected)
{
    int status;

    if (g->pid > 0 && waitpid(g->pid, &status, WNOHANG) == g->pid) {
        if (!expected) {
            g_printerr("# qemu pid %d exited (wait status 0x%x)\n", (int)g->pid, status);
        }
        g->pid = 0;
    }
    return g->pid == 0;
}

/*
 * Read one console line (without its end) into *line before @deadline (monotonic µs).
 * Return: false with @error on timeout or when QEMU closed the console.
 */
static bool console_line(TestGuest *g, gint64 deadline, char **line, GError **error)
{
    char buf[4096];

    for (;;) {
        char *nl = memchr(g->pending->str, '\n', g->pending->len);
        struct pollfd p = {.fd = g->serial_out, .events = POLLIN};
        gint64 left = deadline - g_get_monotonic_time();
        ssize_t n;

        if (nl) {
            size_t len = nl - g->pending->str;

            *line = g_strndup(g->pending->str, len);
            g_strdelimit(*line, "\r", ' ');
            g_string_erase(g->pending, 0, len + 1);
            return true;
        }
        if (g->serial_out < 0 || left <= 0) {
            g_set_error(error, TEST_GUEST_ERROR,
                        g->serial_out < 0 ? TEST_GUEST_ERROR_GONE : TEST_GUEST_ERROR_TIMEOUT,
                        "guest (qemu pid %d): %s", (int)g->pid,
                        g->serial_out < 0 ? "qemu closed the console"
                                          : "no answer on the console in time");
            return false;
        }
        if (poll(&p, 1, (int)MIN(left / 1000 + 1, 1000)) < 0 && errno != EINTR) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_FAILED, "poll: %s",
                        g_strerror(errno));
            return false;
        }
        n = read(g->serial_out, buf, sizeof(buf));
        if (n > 0) {
            g_string_append_len(g->pending, buf, n);
            keep_transcript(g, buf, n);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close(g->serial_out);
            g->serial_out = -1;
            qemu_gone(g, false);
        }
    }
}

bool test_guest_wait_console(TestGuest *g, const char *needle, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        g_autofree char *line = NULL;

        if (!console_line(g, deadline, &line, error)) {
            g_prefix_error(error, "waiting for '%s': ", needle);
            return false;
        }
        if (strstr(line, needle)) {
            return true;
        }
    }
}

TestGuest *test_guest_start(const TestGuestOpts *opts, GError **error)
{
    TestGuest *g = g_new0(TestGuest, 1);
    g_autoptr(GPtrArray) argv = NULL;
    const char *kernel, *initrd;
    gint64 t0 = g_get_monotonic_time();

    g->serial_in = g->serial_out = g->qmp = -1;
    g->pending = g_string_new(NULL);
    g->transcript = g_string_new(NULL);
    g->qmp_buf = g_string_new(NULL);
    if (!test_guest_image(&kernel, &initrd, error) ||
        !(g->dir = g_dir_make_tmp("netbe-guest-XXXXXX", error))) {
        goto fail;
    }
    g->log = g_build_filename(g->dir, "qemu.log", NULL);
    argv = qemu_argv(g, opts, kernel, initrd);
    if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, qemu_child_setup,
                                  g->log, &g->pid, &g->serial_in, &g->serial_out, NULL, error)) {
        goto fail;
    }
    g_unix_set_fd_nonblocking(g->serial_out, TRUE, NULL);
    if (!opts->incoming) {
        int timeout = opts->boot_timeout_ms ? opts->boot_timeout_ms : 120000;

        if (!test_guest_wait_console(g, TEST_GUEST_READY, timeout, error)) {
            print_diagnostics(g);
            goto fail;
        }
        g->boot_s = (g_get_monotonic_time() - t0) / 1e6;
    }
    return g;
fail:
    test_guest_free(g);
    return NULL;
}

const char *test_guest_dir(TestGuest *g)
{
    return g->dir;
}

GPid test_guest_pid(TestGuest *g)
{
    return g->pid;
}

double test_guest_boot_seconds(TestGuest *g)
{
    return g->boot_s;
}

/* Parse "...__NETBE_DONE__ SEQ STATUS" in @line: Return: true (and *@status, the text
 * before it in *@before_len) if it is the end of command @seq. */
static bool done_line(const char *line, unsigned seq, int *status, size_t *before_len)
{
    g_autofree char *marker = g_strdup_printf(GUEST_DONE "%u ", seq);
    const char *at = strstr(line, marker);
    char *end;
    long v;

    if (!at) {
        return false;
    }
    v = strtol(at + strlen(marker), &end, 10);
    if (end == at + strlen(marker)) {
        return false;
    }
    *status = (int)v;
    *before_len = at - line;
    return true;
}

static bool guest_vrun(TestGuest *g, int timeout_ms, int *status, char **output, GError **error,
                       const char *fmt, va_list ap) G_GNUC_PRINTF(6, 0);
static bool guest_vrun(TestGuest *g, int timeout_ms, int *status, char **output, GError **error,
                       const char *fmt, va_list ap)
{
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    g_autofree char *begin = NULL, *request = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    unsigned seq = ++guest_seq;
    bool begun = false;

    g_assert_null(strchr(cmd, '\n'));
    begin = g_strdup_printf(GUEST_BEGIN "%u", seq);
    request = g_strdup_printf("%u %s\n", seq, cmd);
    if (g->serial_in < 0 ||
        write(g->serial_in, request, strlen(request)) != (ssize_t)strlen(request)) {
        g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_GONE,
                    "guest (qemu pid %d): cannot send '%s': %s", (int)g->pid, cmd,
                    g_strerror(errno));
        return false;
    }
    for (;;) {
        g_autofree char *line = NULL;
        size_t before;

        if (!console_line(g, deadline, &line, error)) {
            g_prefix_error(error, "command '%s' (%d ms): ", cmd, timeout_ms);
            print_diagnostics(g);
            return false;
        }
        if (!begun) {
            begun = strcmp(g_strchomp(line), begin) == 0;
        } else if (done_line(line, seq, status, &before)) {
            g_string_append_len(out, line, before);
            break;
        } else {
            g_string_append_printf(out, "%s\n", line);
        }
    }
    if (output) {
        *output = g_string_free(g_steal_pointer(&out), FALSE);
    }
    return true;
}

bool test_guest_run(TestGuest *g, int timeout_ms, int *status, char **output, GError **error,
                    const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = guest_vrun(g, timeout_ms, status, output, error, fmt, ap);
    va_end(ap);
    return ok;
}

char *test_guest_ok(TestGuest *g, int timeout_ms, const char *fmt, ...)
{
    g_autoptr(GError) err = NULL;
    char *out = NULL;
    int status = -1;
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = guest_vrun(g, timeout_ms, &status, &out, &err, fmt, ap);
    va_end(ap);
    g_assert_no_error(err);
    g_assert_true(ok);
    if (status != 0) {
        g_printerr("# guest command failed (exit status %d); its output:\n%s\n", status, out);
    }
    g_assert_cmpint(status, ==, 0);
    return out;
}

/* Read one QMP line before @deadline; Return: NULL with @error. */
static char *qmp_line(TestGuest *g, gint64 deadline, GError **error)
{
    char buf[4096];

    for (;;) {
        char *nl = memchr(g->qmp_buf->str, '\n', g->qmp_buf->len);
        struct pollfd p = {.fd = g->qmp, .events = POLLIN};
        gint64 left = deadline - g_get_monotonic_time();
        ssize_t n;

        if (nl) {
            char *line = g_strndup(g->qmp_buf->str, nl - g->qmp_buf->str);

            g_string_erase(g->qmp_buf, 0, nl - g->qmp_buf->str + 1);
            return g_strchomp(line);
        }
        if (left <= 0 || poll(&p, 1, (int)(left / 1000 + 1)) <= 0) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_TIMEOUT,
                        "QMP of qemu pid %d: no answer in time", (int)g->pid);
            return NULL;
        }
        n = read(g->qmp, buf, sizeof(buf));
        if (n <= 0) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_GONE,
                        "QMP of qemu pid %d: connection closed", (int)g->pid);
            return NULL;
        }
        g_string_append_len(g->qmp_buf, buf, n);
    }
}

/* Send @json; Return: the answer line (events skipped), NULL with @error. */
static char *qmp_exchange(TestGuest *g, const char *json, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    g_autofree char *msg = g_strdup_printf("%s\n", json);

    if (write(g->qmp, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
        g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_GONE,
                    "QMP of qemu pid %d: cannot send %s", (int)g->pid, json);
        return NULL;
    }
    for (;;) {
        char *line = qmp_line(g, deadline, error);

        if (!line || g_str_has_prefix(line, "{\"return\"")) {
            return line;
        }
        if (g_str_has_prefix(line, "{\"error\"")) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_FAILED, "QMP %s: %s", json, line);
            g_free(line);
            return NULL;
        }
        g_free(line); /* an event */
    }
}

/* Connect to QEMU's QMP socket (it may not exist yet) and leave capabilities negotiation. */
static bool qmp_connect(TestGuest *g, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    g_autofree char *greeting = NULL, *ok = NULL;

    g_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp.sock", g->dir);
    g->qmp = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    while (connect(g->qmp, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (g_get_monotonic_time() > deadline || qemu_gone(g, false)) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_FAILED,
                        "QMP %s: cannot connect: %s", sa.sun_path, g_strerror(errno));
            close(g->qmp);
            g->qmp = -1;
            return false;
        }
        g_usleep(20000);
    }
    if (!(greeting = qmp_line(g, deadline, error)) ||
        !(ok = qmp_exchange(g, "{\"execute\": \"qmp_capabilities\"}", error))) {
        close(g->qmp);
        g->qmp = -1;
        return false;
    }
    return true;
}

char *test_guest_qmp(TestGuest *g, const char *json, GError **error)
{
    if (g->qmp < 0 && !qmp_connect(g, error)) {
        return NULL;
    }
    return qmp_exchange(g, json, error);
}

bool test_guest_migrate(TestGuest *src, const char *uri, int timeout_ms, GError **error)
{
    g_autofree char *cmd =
        g_strdup_printf("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}", uri);
    /* QEMU 7.2 caps migration at 32 MiB/s by default; on one host, let it run */
    g_autofree char *fast = test_guest_qmp(src,
                                           "{\"execute\": \"migrate-set-parameters\", "
                                           "\"arguments\": {\"max-bandwidth\": 4294967296}}",
                                           error);
    g_autofree char *started = fast ? test_guest_qmp(src, cmd, error) : NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (started) {
        g_autofree char *state = test_guest_qmp(src, "{\"execute\": \"query-migrate\"}", error);

        if (!state) {
            return false;
        }
        if (strstr(state, "\"status\": \"completed\"")) {
            return true;
        }
        if (strstr(state, "\"status\": \"failed\"") || strstr(state, "\"status\": \"cancelled\"") ||
            g_get_monotonic_time() > deadline) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_FAILED, "migration to %s: %s",
                        uri, state);
            print_file("qemu (source)", src->log);
            return false;
        }
        g_usleep(20000);
    }
    return false;
}

bool test_guest_wait_incoming(TestGuest *g, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        g_autofree char *state = test_guest_qmp(g, "{\"execute\": \"query-status\"}", error);

        if (!state) {
            return false;
        }
        if (!strstr(state, "\"inmigrate\"")) {
            return true;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, TEST_GUEST_ERROR, TEST_GUEST_ERROR_TIMEOUT,
                        "the incoming guest still loads the migration: %s", state);
            return false;
        }
        g_usleep(20000);
    }
}

void test_guest_kill(TestGuest *g)
{
    int status;

    if (g->pid > 0) {
        kill(g->pid, SIGKILL);
        waitpid(g->pid, &status, 0);
        g->pid = 0;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void test_guest_free(TestGuest *g)
{
    int status;

    if (!g) {
        return;
    }
    if (g->pid > 0) {
        kill(g->pid, SIGTERM);
        for (int i = 0; i < 250 && !qemu_gone(g, true); i++) {
            g_usleep(20000);
        }
        if (g->pid > 0) {
            kill(g->pid, SIGKILL);
            waitpid(g->pid, &status, 0);
        }
    }
    close_fd(&g->serial_in);
    close_fd(&g->serial_out);
    close_fd(&g->qmp);
    if (g->dir) {
        test_sh("rm -rf '%s'", g->dir);
    }
    g_free(g->dir);
    g_free(g->log);
    g_string_free(g->pending, TRUE);
    g_string_free(g->transcript, TRUE);
    g_string_free(g->qmp_buf, TRUE);
    g_free(g);
}

/**
 * struct TestSink - a TCP listener whose thread hashes the one stream it accepts
 * @listen_fd: the listener
 * @thread:    accepts, reads to EOF, hashes
 * @lock:      guards @done, @bytes and @digest
 * @cond:      signalled when the stream ended
 * @stop:      set to make the thread give up
 * @done:      the sender closed (the stream is complete)
 * @bytes:     bytes read so far
 * @digest:    SHA-256 of the stream, hex, once @done
 */
struct TestSink {
    int listen_fd;
    GThread *thread;
    GMutex lock;
    GCond cond;
    gint stop;
    bool done;
    int64_t bytes;
    char *digest;
};

/* Wait for @fd to be readable, giving up when the sink stops. Return: false to stop. */
static bool sink_wait(TestSink *s, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (!g_atomic_int_get(&s->stop)) {
        if (poll(&p, 1, 100) > 0) {
            return true;
        }
    }
    return false;
}

static gpointer sink_thread(gpointer data)
{
    TestSink *s = data;
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *buf = g_malloc(1 << 16);
    int fd = -1;
    ssize_t n = -1;

    if (!sink_wait(s, s->listen_fd) || (fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
        return NULL;
    }
    while (sink_wait(s, fd) && (n = read(fd, buf, 1 << 16)) > 0) {
        g_checksum_update(sum, (const guchar *)buf, n);
        g_mutex_lock(&s->lock);
        s->bytes += n;
        g_mutex_unlock(&s->lock);
    }
    g_mutex_lock(&s->lock);
    if (n == 0) {
        s->done = true;
        s->digest = g_strdup(g_checksum_get_string(sum));
        g_cond_broadcast(&s->cond);
    }
    g_mutex_unlock(&s->lock);
    close(fd);
    return NULL;
}

TestSink *test_sink_start(const char *netns, const char *addr, uint16_t *port)
{
    TestSink *s = g_new0(TestSink, 1);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int saved = netns ? test_netns_enter(netns) : -1;

    g_assert_true(!netns || saved >= 0);
    g_assert_cmpint(inet_pton(AF_INET, addr, &sa.sin_addr), ==, 1);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    test_netns_leave(saved);
    g_assert_cmpint(s->listen_fd, >=, 0);
    g_assert_cmpint(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(s->listen_fd, 1), ==, 0);
    g_assert_cmpint(getsockname(s->listen_fd, (struct sockaddr *)&sa, &len), ==, 0);
    *port = ntohs(sa.sin_port);
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->thread = g_thread_new("test-sink", sink_thread, s);
    return s;
}

int64_t test_sink_received(TestSink *s)
{
    int64_t n;

    g_mutex_lock(&s->lock);
    n = s->bytes;
    g_mutex_unlock(&s->lock);
    return n;
}

int64_t test_sink_finish(TestSink *s, int timeout_ms, char **sha256)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int64_t n = -1;

    g_mutex_lock(&s->lock);
    while (!s->done && g_cond_wait_until(&s->cond, &s->lock, deadline)) {
    }
    if (s->done) {
        n = s->bytes;
        *sha256 = g_strdup(s->digest);
    }
    g_mutex_unlock(&s->lock);
    return n;
}

void test_sink_free(TestSink *s)
{
    if (!s) {
        return;
    }
    g_atomic_int_set(&s->stop, 1);
    g_thread_join(s->thread);
    close(s->listen_fd);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s->digest);
    g_free(s);
}

/* Connect a TCP socket (made in namespace @netns) to @addr:@port before @deadline. */
static int stream_connect(const char *netns, const char *addr, uint16_t port, gint64 deadline)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

    g_assert_cmpint(inet_pton(AF_INET, addr, &sa.sin_addr), ==, 1);
    while (g_get_monotonic_time() < deadline) {
        int saved = netns ? test_netns_enter(netns) : -1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        test_netns_leave(saved);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return fd;
        }
        if (fd >= 0) {
            close(fd);
        }
        g_usleep(50000);
    }
    return -1;
}

char *test_stream_send(const char *netns, const char *addr, uint16_t port, size_t bytes,
                       unsigned pause_us, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autoptr(GRand) rand = g_rand_new();
    guint32 buf[4096];
    int fd = stream_connect(netns, addr, port, deadline);
    size_t sent = 0;
    char *digest = NULL;

    if (fd < 0) {
        g_printerr("# cannot connect to %s:%u\n", addr, port);
        return NULL;
    }
    while (bytes > 0 && g_get_monotonic_time() < deadline) {
        size_t chunk = MIN(bytes, sizeof(buf)), off = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(buf); i++) {
            buf[i] = g_rand_int(rand);
        }
        while (off < chunk) {
            ssize_t n = write(fd, (char *)buf + off, chunk - off);

            if (n <= 0) {
                g_printerr("# sending to %s:%u: %s\n", addr, port, g_strerror(errno));
                goto out;
            }
            off += n;
        }
        g_checksum_update(sum, (const guchar *)buf, chunk);
        bytes -= chunk;
        sent += chunk;
        if (pause_us && sent % (1 << 20) == 0) {
            g_usleep(pause_us);
        }
    }
    if (bytes == 0) {
        digest = g_strdup(g_checksum_get_string(sum));
    }
out:
    close(fd);
    return digest;
}

/**
 * struct TestStream - test_stream_send() running on a thread
 * @thread: the sender; returns the digest
 * @netns, @addr, @port, @bytes, @pause_us, @timeout_ms: its arguments
 */
struct TestStream {
    GThread *thread;
    char *netns;
    char *addr;
    uint16_t port;
    size_t bytes;
    unsigned pause_us;
    int timeout_ms;
};

static gpointer stream_thread(gpointer data)
{
    TestStream *s = data;

    return test_stream_send(s->netns, s->addr, s->port, s->bytes, s->pause_us, s->timeout_ms);
}

TestStream *test_stream_start(const char *netns, const char *addr, uint16_t port, size_t bytes,
                              unsigned pause_us, int timeout_ms)
{
    TestStream *s = g_new0(TestStream, 1);

    s->netns = g_strdup(netns);
    s->addr = g_strdup(addr);
    s->port = port;
    s->bytes = bytes;
    s->pause_us = pause_us;
    s->timeout_ms = timeout_ms;
    s->thread = g_thread_new("test-stream", stream_thread, s);
    return s;
}

char *test_stream_finish(TestStream *s)
{
    char *digest = g_thread_join(s->thread);

    g_free(s->netns);
    g_free(s->addr);
    g_free(s);
    return digest;
}

#define PINGER_SEQS 65536 /* sequence numbers; a run sends fewer */

/**
 * struct TestPinger - ICMP echo to one address at a fixed interval, on a thread
 * @fd:          raw ICMP socket (made in the namespace)
 * @dst:         where to
 * @id:          ICMP identifier of our requests
 * @interval_us: between requests
 * @thread:      sends and receives
 * @stop:        set: stop sending, wait a second for the last answers, end
 * @lock:        guards @sent and @answers (test_pinger_peek reads them)
 * @sent:        requests sent
 * @seen:        per sequence number: answered
 * @answers:     monotonic µs of each first answer, in arrival order (gint64)
 */
struct TestPinger {
    int fd;
    struct sockaddr_in dst;
    uint16_t id;
    gint64 interval_us;
    GThread *thread;
    gint stop;
    GMutex lock;
    unsigned sent;
    guint8 *seen;
    GArray *answers;
};

static uint16_t inet_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return htons(~sum & 0xffff);
}

static void pinger_send(TestPinger *p)
{
    struct icmphdr h = {.type = ICMP_ECHO};

    h.un.echo.id = htons(p->id);
    h.un.echo.sequence = htons(p->sent % PINGER_SEQS);
    h.checksum = inet_checksum(&h, sizeof(h));
    if (sendto(p->fd, &h, sizeof(h), 0, (struct sockaddr *)&p->dst, sizeof(p->dst)) > 0) {
        g_mutex_lock(&p->lock);
        p->sent++;
        g_mutex_unlock(&p->lock);
    }
}

static void pinger_receive(TestPinger *p)
{
    uint8_t buf[256];
    ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
    size_t ihl = n > 0 ? (size_t)(buf[0] & 0xf) * 4 : 0;
    struct icmphdr h;
    uint16_t seq;

    if (n <= 0 || (size_t)n < ihl + sizeof(h)) {
        return;
    }
    memcpy(&h, buf + ihl, sizeof(h));
    seq = ntohs(h.un.echo.sequence);
    if (h.type == ICMP_ECHOREPLY && ntohs(h.un.echo.id) == p->id && seq < p->sent &&
        !p->seen[seq]) {
        gint64 now = g_get_monotonic_time();

        p->seen[seq] = 1;
        g_mutex_lock(&p->lock);
        g_array_append_val(p->answers, now);
        g_mutex_unlock(&p->lock);
    }
}

static gpointer pinger_thread(gpointer data)
{
    TestPinger *p = data;
    gint64 next = g_get_monotonic_time(), quiet_until = 0;

    for (;;) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        gint64 now = g_get_monotonic_time();
        int stop = g_atomic_int_get(&p->stop);

        if (stop == 1 && !quiet_until) {
            quiet_until = now + G_USEC_PER_SEC; /* the last answers may still come */
        }
        if (quiet_until && now >= quiet_until) {
            return NULL;
        }
        if (!quiet_until && now >= next && p->sent < PINGER_SEQS) {
            pinger_send(p);
            next += p->interval_us;
        }
        if (poll(&pfd, 1, (int)MAX(0, MIN(next - now, 10000) / 1000)) > 0) {
            pinger_receive(p);
        }
    }
}

TestPinger *test_pinger_start(const char *netns, const char *addr, unsigned interval_ms)
{
    TestPinger *p = g_new0(TestPinger, 1);
    int saved = netns ? test_netns_enter(netns) : -1;

    g_assert_true(!netns || saved >= 0);
    p->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    test_netns_leave(saved);
    g_assert_cmpint(p->fd, >=, 0);
    p->dst.sin_family = AF_INET;
    g_assert_cmpint(inet_pton(AF_INET, addr, &p->dst.sin_addr), ==, 1);
    p->id = (uint16_t)(getpid() ^ g_random_int());
    p->interval_us = (gint64)interval_ms * 1000;
    p->seen = g_malloc0(PINGER_SEQS);
    p->answers = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_mutex_init(&p->lock);
    p->thread = g_thread_new("test-pinger", pinger_thread, p);
    return p;
}

static gint cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

TestPingerResult test_pinger_peek(TestPinger *p)
{
    g_autoptr(GArray) gaps = g_array_new(FALSE, FALSE, sizeof(double));
    TestPingerResult r = {0};

    g_mutex_lock(&p->lock);
    r.sent = p->sent;
    r.answered = p->answers->len;
    for (unsigned i = 1; i < p->answers->len; i++) {
        double gap =
            (g_array_index(p->answers, gint64, i) - g_array_index(p->answers, gint64, i - 1)) /
            1000.0;

        g_array_append_val(gaps, gap);
    }
    g_mutex_unlock(&p->lock);
    if (gaps->len) {
        g_array_sort(gaps, cmp_double);
        r.median_ms = g_array_index(gaps, double, gaps->len / 2);
        r.longest_ms = g_array_index(gaps, double, gaps->len - 1);
    }
    return r;
}

TestPingerResult test_pinger_stop(TestPinger *p)
{
    TestPingerResult r;

    g_atomic_int_set(&p->stop, 1);
    g_thread_join(p->thread);
    r = test_pinger_peek(p);
    close(p->fd);
    g_mutex_clear(&p->lock);
    g_free(p->seen);
    g_array_free(p->answers, TRUE);
    g_free(p);
    return r;
}
