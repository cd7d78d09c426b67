// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-vu.c - fuzz netbe's vhost-user back-end: arbitrary messages, with arbitrary fds and fd
 * counts, from a fake VMM into a runtime serving one vhost-user device. Whatever comes, the
 * back-end must neither crash nor leak an fd, and the next VMM must get a device afresh.
 * libFuzzer entry point; tests/virtio/fuzz-replay.c makes the replay test of it.
 *
 * Input: chunks of  u8 fdspec, u16 length (LE), length bytes; each chunk goes out in one
 * sendmsg() with the fds fdspec names (FUZZ_VU_FD_* bits, in bit order), the runtime runs
 * until it is idle, then the fake VMM closes. fuzz-vu-seeds.py writes the seed corpus (a
 * real start-up sequence: features, memory table, rings, log, and bent versions of it).
 * With -Dfuzz=true and clang:
 *   build/tests/vhost-user/fuzz-vu -max_total_time=60 CORPUS tests/vhost-user/fuzz-corpus-vu */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "fuzz-plugins.h"
#include "netbe/netbe.h"

/* What the bits of a chunk's fdspec attach, in this order. */
enum {
    FUZZ_VU_FD_MEM = 0, /* memfd of FUZZ_VU_MEM bytes: guest memory, zeroed */
    FUZZ_VU_FD_MEM2,    /* a second one (a second region) */
    FUZZ_VU_FD_SMALL,   /* memfd of 4 KiB: smaller than any region claims */
    FUZZ_VU_FD_EVENTFD,
    FUZZ_VU_FD_EVENTFD2,
    FUZZ_VU_FD_PIPE, /* not mappable */
    FUZZ_VU_FD_SOCKET,
    FUZZ_VU_FD_LOG, /* memfd of 64 bytes: a dirty log for FUZZ_VU_MEM */
};
#define FUZZ_VU_MEM (1u << 20)

static char fuzz_dir[] = "/tmp/netbe-fuzz-vu-XXXXXX";
static char *sock_path;
static NetbeRuntime *rt;

static void silent(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

/* A memfd of @size bytes. */
static int make_memfd(size_t size)
{
    int fd = memfd_create("netbe-fuzz-vu", MFD_CLOEXEC);

    if (fd >= 0 && ftruncate(fd, size) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Make the fds @spec names into @fds; all of them also go into @mine, to close. */
static unsigned make_fds(uint8_t spec, int *fds, GArray *mine)
{
    unsigned n = 0;

    for (unsigned bit = 0; bit < 8; bit++) {
        int fd = -1, pair[2];

        if (!(spec & (1u << bit))) {
            continue;
        }
        switch (bit) {
        case FUZZ_VU_FD_MEM:
        case FUZZ_VU_FD_MEM2:
            fd = make_memfd(FUZZ_VU_MEM);
            break;
        case FUZZ_VU_FD_SMALL:
            fd = make_memfd(4096);
            break;
        case FUZZ_VU_FD_EVENTFD:
        case FUZZ_VU_FD_EVENTFD2:
            fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            break;
        case FUZZ_VU_FD_PIPE:
            if (pipe2(pair, O_CLOEXEC) == 0) {
                g_array_append_val(mine, pair[1]);
                fd = pair[0];
            }
            break;
        case FUZZ_VU_FD_SOCKET:
            fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            break;
        case FUZZ_VU_FD_LOG:
            fd = make_memfd(64);
            break;
        }
        if (fd >= 0) {
            g_array_append_val(mine, fd);
            fds[n++] = fd;
        }
    }
    return n;
}

static unsigned count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;

    while (d && readdir(d)) {
        n++;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static void run_until_idle(void)
{
    for (int i = 0; i < 64 && netbe_runtime_iterate(rt, false); i++) {
    }
}

/* At exit: the runtime removes its socket file, then the directory goes. */
static void fuzz_teardown(void)
{
    netbe_runtime_free(rt);
    rmdir(fuzz_dir);
}

/* The runtime, once: one vhost-user device on a socket netdev of abstract addresses. */
static void fuzz_setup(void)
{
    g_autofree char *conf = NULL;
    GError *err = NULL;

    if (rt) {
        return;
    }
    if (!g_getenv("FUZZ_VU_VERBOSE")) {
        g_log_set_default_handler(silent, NULL);
    }
    fuzz_keep_plugins_loaded();
    if (!mkdtemp(fuzz_dir)) {
        abort();
    }
    sock_path = g_build_filename(fuzz_dir, "vu.sock", NULL);
    conf = g_strdup_printf("[netdev.n]\ntype = socket\nlocal = unix:@netbe-fuzz-vu-%d-l\n"
                           "remote = unix:@netbe-fuzz-vu-%d-r\n"
                           "[device.d]\nmodel = virtio-net\ntransport = vhost-user\n"
                           "socket = %s\nnetdev = n\nqueues = 1\nrx_queue_size = 64\n"
                           "tx_queue_size = 64\n",
                           getpid(), getpid(), sock_path);
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
    if (!netbe_runtime_load_config_string(rt, conf, "fuzz-vu.ini", &err) ||
        !netbe_runtime_start(rt, &err)) {
        fprintf(stderr, "fuzz-vu: %s\n", err->message);
        abort();
    }
    atexit(fuzz_teardown);
}

static int connect_vmm(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, sock_path, sizeof(a.sun_path));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        abort();
    }
    return fd;
}

/* Send one chunk with its fds; replies are drained so the back-end never finds us full. */
static void send_chunk(int fd, const uint8_t *data, size_t len, const int *fds, unsigned nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 8)] = {0};
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    char sink[4096];

    if (nfds) {
        struct cmsghdr *cm;

        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    if (len || nfds) {
        sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    run_until_idle();
    while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GArray) mine = g_array_new(false, false, sizeof(int));
    unsigned before;
    int fd;

    fuzz_setup();
    run_until_idle();
    before = count_fds();
    fd = connect_vmm();
    run_until_idle(); /* accepted */
    while (size >= 3) {
        size_t len = MIN((size_t)(data[1] | data[2] << 8), size - 3);
        int fds[8];
        unsigned nfds = make_fds(data[0], fds, mine);

        send_chunk(fd, data + 3, len, fds, nfds);
        for (guint i = 0; i < mine->len; i++) {
            close(g_array_index(mine, int, i));
        }
        g_array_set_size(mine, 0);
        data += 3 + len;
        size -= 3 + len;
    }
    close(fd);
    run_until_idle(); /* the back-end sees the VMM go and resets the device */
    if (count_fds() > before) {
        fprintf(stderr, "fuzz-vu: %u fds before the VMM came, %u after it left\n", before,
                count_fds());
        abort();
    }
    return 0;
}
