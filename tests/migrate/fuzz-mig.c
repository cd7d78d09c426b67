// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-mig.c - fuzz the destination's side of a live handover: arbitrary records, with
 * arbitrary fds and fd counts, from a fake source into netbe_runtime_migrate_from() on a
 * runtime of socket netdevs behind a deferred hub. Whatever comes, the destination must
 * neither crash nor leak an fd. libFuzzer entry point; tests/virtio/fuzz-replay.c makes the
 * replay test of it.
 *
 * Input: chunks of  u8 fdspec, u16 length (LE), length bytes; each chunk goes out in one
 * sendmsg() with the fds fdspec names (FUZZ_FD_* bits, in bit order), then the fake source
 * closes its end. With -Dfuzz=true and clang:
 *   build/tests/migrate/fuzz-mig -max_total_time=60 CORPUS_DIR tests/migrate/fuzz-corpus-mig
 * fuzz-mig-seeds.c writes the seed corpus (real streams, cut and bent). */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "fuzz-mig.h"
#include "fuzz-plugins.h"
#include "mig-wire.h"
#include "netbe/migrate.h"
#include "netbe/netbe.h"

/* The same netdevs as fuzz-mig-seeds.c's source, on abstract addresses. */
static const char fuzz_config[] = "[runtime]\nhandover_timeout = 100\n"
                                  "[netdev.a]\ntype = socket\nlisten = unix:@netbe-fuzz-mig-a\n"
                                  "[netdev.b]\ntype = socket\nlocal = unix:@netbe-fuzz-mig-bl\n"
                                  "remote = unix:@netbe-fuzz-mig-br\n"
                                  "[hub.h]\nports = a, b\nconnect = deferred\n";

static void silent(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

/* A serving lock as a source makes it (sealed memfd), flock()ed if @locked. */
static int make_lock(bool locked)
{
    int fd = memfd_create("netbe-serving-lock", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd >= 0) {
        fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
        if (locked) {
            flock(fd, LOCK_EX | LOCK_NB);
        }
    }
    return fd;
}

/* A UNIX socket of @type bound to the abstract @name (NULL: one the kernel picks). */
static int abstract_socket(int type, const char *name)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    socklen_t len = sizeof(sa_family_t);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

    if (name) {
        strcpy(a.sun_path + 1, name);
        len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
    }
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, len) < 0) {
        close(fd);
        fd = name ? abstract_socket(type, NULL) : -1; /* taken: any address will do */
    }
    return fd;
}

/* A listening UNIX stream socket, at netdev a's address when it is free. */
static int abstract_listener(const char *name)
{
    int fd = abstract_socket(SOCK_STREAM, name);

    if (fd >= 0 && listen(fd, 1) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* netdev b's datagram socket: bound to its local address, connected to its remote one
 * (@peer gets the remote's socket). */
static int dgram_pair(int *peer)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    static const char remote[] = "netbe-fuzz-mig-br";
    int fd = abstract_socket(SOCK_DGRAM, "netbe-fuzz-mig-bl");

    *peer = abstract_socket(SOCK_DGRAM, remote);
    strcpy(a.sun_path + 1, remote);
    if (fd >= 0) {
        connect(fd, (struct sockaddr *)&a,
                offsetof(struct sockaddr_un, sun_path) + 1 + sizeof(remote) - 1);
    }
    return fd;
}

/* Make the fds @spec names; they stay the caller's (kept in @mine to close). */
static unsigned make_fds(uint8_t spec, int *fds, GArray *mine)
{
    unsigned n = 0;

    for (unsigned bit = 0; bit < 8; bit++) {
        int fd = -1, pair[2];

        if (!(spec & (1u << bit))) {
            continue;
        }
        switch (bit) {
        case FUZZ_FD_LOCK:
            fd = make_lock(true);
            break;
        case FUZZ_FD_FREE_LOCK:
            fd = make_lock(false);
            break;
        case FUZZ_FD_EVENTFD:
            fd = eventfd(0, EFD_CLOEXEC);
            break;
        case FUZZ_FD_UNIX_STREAM:
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
                g_array_append_val(mine, pair[1]);
                fd = pair[0];
            }
            break;
        case FUZZ_FD_UNIX_DGRAM:
            fd = dgram_pair(&pair[1]);
            if (pair[1] >= 0) {
                g_array_append_val(mine, pair[1]);
            }
            break;
        case FUZZ_FD_UNIX_LISTENER:
            fd = abstract_listener("netbe-fuzz-mig-a");
            break;
        case FUZZ_FD_UDP:
            fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            break;
        case FUZZ_FD_PIPE:
            if (pipe2(pair, O_CLOEXEC) == 0) {
                g_array_append_val(mine, pair[1]);
                fd = pair[0];
            }
            break;
        }
        if (fd >= 0) {
            g_array_append_val(mine, fd);
            fds[n++] = fd;
        }
    }
    return n;
}

/* Open fds of this process. */
static int count_fds(void)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    int n = 0;

    while (d && g_dir_read_name(d)) {
        n++;
    }
    if (d) {
        g_dir_close(d);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t alen = sizeof(addr);
    GArray *mine = g_array_new(false, false, sizeof(int));
    int buf = 4 << 20, lfd, src, before = count_fds();
    NetbeRuntime *rt;

    fuzz_keep_plugins_loaded();
    if (!quiet && !getenv("FUZZ_MIG_VERBOSE")) {
        g_log_set_default_handler(silent, NULL); /* FUZZ_MIG_VERBOSE=1 shows what it says */
        quiet = true;
    }
    rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
    if (!netbe_runtime_load_config_string(rt, fuzz_config, "fuzz-mig.ini", NULL)) {
        abort(); /* the harness itself is broken */
    }
    /* a listening socket and a source already connected to it: everything is queued before
     * the destination starts reading, then the source's end closes */
    lfd = abstract_listener(NULL);
    src = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || src < 0 || getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0 ||
        connect(src, (struct sockaddr *)&addr, alen) < 0) {
        abort();
    }
    setsockopt(src, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    for (size_t off = 0; off + 3 <= size;) {
        uint8_t spec = data[off];
        size_t len = MIN((size_t)(data[off + 1] | data[off + 2] << 8), size - off - 3);
        int fds[8];
        unsigned nfds = make_fds(spec, fds, mine);

        if (len) { /* fds cannot travel without a byte */
            wire_send_with_fds(src, data + off + 3, len, fds, nfds);
        }
        off += 3 + len;
    }
    shutdown(src, SHUT_WR);
    netbe_runtime_migrate_from(rt, lfd, 1000, NULL, NULL);
    netbe_runtime_free(rt);
    close(src);
    close(lfd);
    for (guint i = 0; i < mine->len; i++) {
        close(g_array_index(mine, int, i));
    }
    g_array_unref(mine);
    if (count_fds() != before) {
        fprintf(stderr, "fuzz-mig: %d fds before, %d after: the destination leaked\n", before,
                count_fds());
        abort();
    }
    return 0;
}
