/* fuzz-vu.c - fuzz libnetbe's vhost-user backend (message framing, size/fd checks, every
 * handler): a frontend sends arbitrary messages, with fds attached, to the real server of an
 * in-process runtime over its UNIX socket. libFuzzer entry point; tests/virtio/fuzz-replay.c
 * makes the replay test of it.
 *
 * Input: records, each [ctl u8][len le16][len bytes sent in one sendmsg()]. ctl bits 0-1:
 * fds attached (0..3); bit 2: eventfds instead of the guest memory memfd (4 MiB); bit 3:
 * stop after this record. The bytes are whatever the fuzzer makes of vhost-user headers and
 * payloads (fuzz-vu-seeds.py writes well-formed sessions as seeds). After each input the
 * connection is closed; the server must come back to "no VMM connected" and hold no more
 * fds than before. With -Dfuzz=true and clang: build/tests/vhost-user/fuzz-vu CORPUS_DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include "netbe/netbe.h"

#define FUZZ_SPINS 100000 /* iterations the server may take to drop a closed VMM */
#define GUEST_MEM (4u << 20)

static NetbeRuntime *rt;
static char *dir, *sock_path;
static int mem_fd;
static int event_fds[3];

static void silent(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

static int count_fds(void)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    int n = -1; /* the directory's own fd */

    while (d && g_dir_read_name(d)) {
        n++;
    }
    if (d) {
        g_dir_close(d);
    }
    return n;
}

/* At exit: the socket file and the private directory go (the runtime is left running). */
static void remove_dir(void)
{
    unlink(sock_path);
    rmdir(dir);
}

static void setup(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *config = NULL;

    if (!g_getenv("FUZZ_VU_VERBOSE")) {
        g_log_set_default_handler(silent, NULL);
    }
    dir = g_dir_make_tmp("netbe-fuzz-vu-XXXXXX", &err);
    if (!dir) {
        abort();
    }
    sock_path = g_build_filename(dir, "vu.sock", NULL);
    atexit(remove_dir);
    config = g_strdup_printf("[netdev.n]\ntype = socket\n"
                             "connect = unix:/nonexistent/netbe-fuzz-vu/n.sock\nreconnect = 3600\n"
                             "[device.d]\nmodel = virtio-net\ntransport = vhost-user\n"
                             "socket = %s\nnetdev = n\n", sock_path);
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    if (g_getenv("NETBE_PLUGIN_PATH")) {
        netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
    }
    if (!netbe_runtime_load_config_string(rt, config, "fuzz-vu.ini", &err) ||
        !netbe_runtime_start(rt, &err)) {
        fprintf(stderr, "fuzz-vu: %s (NETBE_PLUGIN_PATH must name the socket plugin)\n",
                err->message);
        abort();
    }
    mem_fd = memfd_create("fuzz-vu-guest", MFD_CLOEXEC);
    if (mem_fd < 0 || ftruncate(mem_fd, GUEST_MEM) < 0) {
        abort();
    }
    for (int i = 0; i < 3; i++) {
        event_fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
}

/* Run the runtime until it has nothing more to do right now. */
static void drain_runtime(void)
{
    for (int i = 0; i < 1000 && netbe_runtime_iterate(rt, false); i++) {
    }
}

static bool vmm_connected(void)
{
    g_autofree char *st = netbe_runtime_status(rt, false);

    return !strstr(st, "no VMM connected");
}

/* Send one record's bytes with @nfds fds; Return: false once the server closed on us. */
static bool send_record(int c, const uint8_t *p, size_t len, unsigned nfds, bool events)
{
    int fds[3] = { mem_fd, mem_fd, mem_fd };
    union {
        char buf[CMSG_SPACE(sizeof(fds))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { (void *)p, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (events) {
        memcpy(fds, event_fds, sizeof(fds));
    }
    if (nfds && len) {
        struct cmsghdr *cm;

        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    for (int tries = 0; len; tries++) {
        ssize_t n = sendmsg(c, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n >= 0) {
            return true; /* a stream socket takes all of a short record or some: enough */
        }
        if (errno == EPIPE || errno == ECONNRESET) {
            return false;
        }
        if (errno != EAGAIN || tries == 1000) {
            abort();
        }
        drain_runtime();
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    uint8_t scratch[8192];
    int c, before;

    if (!rt) {
        setup();
    }
    before = count_fds();
    c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
    if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        abort();
    }
    drain_runtime();
    while (size >= 3) {
        uint8_t ctl = data[0];
        size_t len = MIN((size_t)(data[1] | data[2] << 8), size - 3);

        if (!send_record(c, data + 3, len, ctl & 3, ctl & 4)) {
            break;
        }
        data += 3 + len;
        size -= 3 + len;
        drain_runtime();
        while (recv(c, scratch, sizeof(scratch), MSG_DONTWAIT) > 0) {
            /* replies: nobody checks them here, the tests do */
        }
        if (ctl & 8) {
            break;
        }
    }
    if (g_getenv("FUZZ_VU_VERBOSE")) {
        g_autofree char *st = netbe_runtime_status(rt, false);

        fprintf(stderr, "fuzz-vu: before closing:\n%s", st);
    }
    close(c);
    for (int i = 0; vmm_connected(); i++) {
        if (i == FUZZ_SPINS) {
            fprintf(stderr, "fuzz-vu: the server still holds a VMM that closed\n");
            abort();
        }
        netbe_runtime_iterate(rt, false);
    }
    drain_runtime();
    if (count_fds() > before) { /* fewer is fine: the first VMM replaces the device's fds */
        fprintf(stderr, "fuzz-vu: %d fds before the input, %d after\n", before, count_fds());
        abort();
    }
    return 0;
}
