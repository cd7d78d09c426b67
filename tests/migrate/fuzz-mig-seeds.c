// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-mig-seeds.c - write fuzz-mig's seed corpus: a real source's handover stream, recorded
 * by a fake destination that says yes to everything, then cut at each record and bent
 * (lock held or free, fds dropped or doubled). Usage: fuzz-mig-seeds DIR (not a test). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "fuzz-mig.h"
#include "mig-wire.h"
#include "netbe/migrate.h"
#include "netbe/netbe.h"

/* A recorded chunk: what one sendmsg() of the source carried. */
typedef struct Chunk {
    uint8_t spec;
    GBytes *data;
} Chunk;

typedef struct Recorder {
    char *path;
    GPtrArray *chunks; /* Chunk* */
} Recorder;

/* The fuzz-mig fd kind of a received fd (a best guess is enough for a seed). */
static uint8_t fd_kind(int fd)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(int);
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);

    if (fcntl(fd, F_GET_SEALS) >= 0) {
        return FUZZ_FD_LOCK;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        return FUZZ_FD_PIPE;
    }
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    getsockname(fd, (struct sockaddr *)&addr, &alen);
    if (addr.ss_family == AF_INET) {
        return FUZZ_FD_UDP;
    }
    return listening            ? FUZZ_FD_UNIX_LISTENER
           : type == SOCK_DGRAM ? FUZZ_FD_UNIX_DGRAM
                                : FUZZ_FD_UNIX_STREAM;
}

/* Read one record (header with its fds, then the payload) as a chunk. */
static Chunk *record_chunk(int fd, uint32_t *type)
{
    uint8_t head[16];
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {head, sizeof(head)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    GByteArray *data = g_byte_array_new();
    Chunk *c = g_new0(Chunk, 1);
    uint32_t len;
    ssize_t n = recvmsg(fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);

    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
        unsigned k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *fds = (int *)CMSG_DATA(cm);

        for (unsigned i = 0; i < k; i++) {
            c->spec |= 1u << fd_kind(fds[i]);
            close(fds[i]);
        }
    }
    if (n != sizeof(head)) {
        g_byte_array_unref(data);
        g_free(c);
        return NULL;
    }
    memcpy(type, head, 4);
    memcpy(&len, head + 4, 4);
    g_byte_array_append(data, head, sizeof(head));
    g_byte_array_set_size(data, sizeof(head) + len);
    if (len && recv(fd, data->data + sizeof(head), len, MSG_WAITALL) != (ssize_t)len) {
        g_byte_array_unref(data);
        g_free(c);
        return NULL;
    }
    c->data = g_byte_array_free_to_bytes(data);
    return c;
}

/* The fake destination: header both ways, then yes to hello, commit and go. */
static gpointer recorder_thread(gpointer data)
{
    Recorder *r = data;
    int lfd = wire_listen(r->path), fd = wire_accept(lfd, 5000);
    uint8_t header[16];
    Chunk *c;
    uint32_t type = 0;

    if (recv(fd, header, sizeof(header), MSG_WAITALL) == sizeof(header)) {
        c = g_new0(Chunk, 1);
        c->data = g_bytes_new(header, sizeof(header));
        g_ptr_array_add(r->chunks, c);
        wire_send_header(fd, WIRE_VERSION, WIRE_VERSION);
    }
    while ((c = record_chunk(fd, &type))) {
        g_ptr_array_add(r->chunks, c);
        if (type == WIRE_HELLO) {
            wire_send_status(fd, WIRE_REPLY, true, "");
        } else if (type == WIRE_COMMIT) {
            wire_send_status(fd, WIRE_READY, true, "");
        } else if (type == WIRE_GO || type == WIRE_ERROR) {
            break;
        }
    }
    close(fd);
    close(lfd);
    return NULL;
}

/* Write chunks [0, @count) of @r as one seed, with @spec_xor applied to chunk @bend. */
static void write_seed(const char *dir, const char *name, Recorder *r, guint count, guint bend,
                       uint8_t spec_xor)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    GByteArray *out = g_byte_array_new();

    for (guint i = 0; i < count && i < r->chunks->len; i++) {
        Chunk *c = g_ptr_array_index(r->chunks, i);
        gsize len;
        const uint8_t *d = g_bytes_get_data(c->data, &len);
        uint8_t head[3] = {c->spec ^ (i == bend ? spec_xor : 0), len & 0xff, len >> 8};

        g_byte_array_append(out, head, 3);
        g_byte_array_append(out, d, len);
    }
    g_assert_true(g_file_set_contents(path, (char *)out->data, out->len, NULL));
    g_byte_array_unref(out);
}

int main(int argc, char **argv)
{
    static const char config[] = "[netdev.a]\ntype = socket\nlisten = unix:@netbe-fuzz-mig-a\n"
                                 "[netdev.b]\ntype = socket\nlocal = unix:@netbe-fuzz-mig-bl\n"
                                 "remote = unix:@netbe-fuzz-mig-br\n"
                                 "[hub.h]\nports = a, b\nconnect = deferred\n";
    g_autoptr(GError) err = NULL;
    g_autofree char *tmp = g_dir_make_tmp("netbe-seeds-XXXXXX", NULL);
    Recorder r = {g_build_filename(tmp, "in.sock", NULL), g_ptr_array_new()};
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    GThread *t;

    if (argc != 2) {
        fprintf(stderr, "usage: fuzz-mig-seeds DIR\n");
        return 2;
    }
    g_mkdir_with_parents(argv[1], 0755);
    netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
    if (!netbe_runtime_load_config_string(rt, config, "seeds.ini", &err) ||
        !netbe_runtime_start(rt, &err)) {
        fprintf(stderr, "fuzz-mig-seeds: %s\n", err->message);
        return 1;
    }
    t = g_thread_new("recorder", recorder_thread, &r);
    for (int i = 0; i < 100 && !g_file_test(r.path, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10000);
    }
    netbe_runtime_migrate_to(rt, r.path, NULL, NULL); /* it resumes: nobody took the lock */
    g_thread_join(t);
    printf("recorded %u chunks\n", r.chunks->len);
    for (guint n = 1; n <= r.chunks->len; n++) {
        g_autofree char *cut = g_strdup_printf("stream-first-%u", n);

        write_seed(argv[1], cut, &r, n, G_MAXUINT, 0);
    }
    /* the whole stream with the hello's lock left free: the destination may start */
    write_seed(argv[1], "stream-lock-free", &r, r.chunks->len, 1,
               (1u << FUZZ_FD_LOCK) | (1u << FUZZ_FD_FREE_LOCK));
    write_seed(argv[1], "stream-no-lock", &r, r.chunks->len, 1, 1u << FUZZ_FD_LOCK);
    write_seed(argv[1], "stream-backend-fds-swapped", &r, r.chunks->len, 2,
               (1u << FUZZ_FD_UNIX_LISTENER) | (1u << FUZZ_FD_PIPE));
    write_seed(argv[1], "stream-extra-eventfd", &r, r.chunks->len, 3, 1u << FUZZ_FD_EVENTFD);
    netbe_runtime_free(rt);
    unlink(r.path);
    rmdir(tmp);
    return 0;
}
