// SPDX-License-Identifier: GPL-2.0-or-later
/* vu-front.c - our own vhost-user frontend (the VMM side) for tests and benches. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "vu-front.h"

#define DEFAULT_MEM (128u << 20)
#define DEFAULT_GPA (1ull << 30)
#define DEFAULT_UVA_OFFSET 0x7f0000000000ull
#define DEFAULT_QUEUE 256
#define TX_BUF (VU_NET_HDR_LEN + 65550) /* header + the largest GSO frame */
#define RX_BUF_BIG (VU_NET_HDR_LEN + 65550)
#define RX_BUF_MRG 4096
#define REPLY_MS 5000

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define USED_F_NO_NOTIFY 1

#define F(bit) (1ull << (bit))
/* Virtio-net feature bits this driver understands (others offered are refused). */
static const unsigned driver_feature_bits[] = {
    0,  /* CSUM */
    1,  /* GUEST_CSUM */
    3,  /* MTU */
    5,  /* MAC */
    7,  /* GUEST_TSO4 */
    8,  /* GUEST_TSO6 */
    9,  /* GUEST_ECN */
    10, /* GUEST_UFO */
    11, /* HOST_TSO4 */
    12, /* HOST_TSO6 */
    13, /* HOST_ECN */
    14, /* HOST_UFO */
    15, /* MRG_RXBUF */
    16, /* STATUS */
    22, /* MQ */
    29, /* RING_EVENT_IDX */
    30, /* VHOST_USER_F_PROTOCOL_FEATURES */
    32, /* VERSION_1 */
};
/* Protocol features it uses. */
static const unsigned driver_protocol_bits[] = {
    VU_PF_MQ, VU_PF_LOG_SHMFD, VU_PF_RARP, VU_PF_REPLY_ACK, VU_PF_MTU, VU_PF_CONFIG,
};
#define F_MRG_RXBUF 15
#define F_EVENT_IDX 29

// clang-format off
G_DEFINE_QUARK(vu-front-error-quark, vu_front_error)
// clang-format on
#define VU_FRONT_ERROR vu_front_error_quark()

static bool has(uint64_t set, unsigned bit)
{
    return set & F(bit);
}

/* The mask of @n bit numbers. */
static uint64_t mask_of(const unsigned *bits, size_t n)
{
    uint64_t m = 0;

    for (size_t i = 0; i < n; i++) {
        m |= F(bits[i]);
    }
    return m;
}

/* ---- memory ---- */

/* Split the memfd into the regions: a hole of one region's size between two. */
static void layout_regions(VuFront *f)
{
    size_t piece = (f->mem_size / f->nregions) & ~(size_t)0x1fffff;

    for (unsigned i = 0; i < f->nregions; i++) {
        VuWireRegion *r = &f->regions[i];

        r->gpa = f->opt.gpa_base + 2ull * i * piece;
        r->size = i + 1 < f->nregions ? piece : f->mem_size - (size_t)i * piece;
        r->uva = r->gpa + f->opt.uva_offset;
        r->mmap_offset = (uint64_t)i * piece;
    }
}

void *vu_front_alloc(VuFront *f, size_t size, size_t align)
{
    for (unsigned i = 0; i < f->nregions; i++) {
        size_t at = (f->brk[i] + align - 1) & ~(align - 1);

        if (at + size <= f->regions[i].size) {
            f->brk[i] = at + size;
            return f->mem + f->regions[i].mmap_offset + at;
        }
    }
    g_error("vu-front: guest memory of %zu bytes is full (%zu more wanted)", f->mem_size, size);
    return NULL;
}

uint64_t vu_front_gpa(VuFront *f, const void *p)
{
    uint64_t off = (uint64_t)((const uint8_t *)p - f->mem);

    for (unsigned i = 0; i < f->nregions; i++) {
        const VuWireRegion *r = &f->regions[i];

        if (off >= r->mmap_offset && off - r->mmap_offset < r->size) {
            return r->gpa + (off - r->mmap_offset);
        }
    }
    g_error("vu-front: %p is not in guest memory", p);
    return 0;
}

uint64_t vu_front_uva(VuFront *f, const void *p)
{
    return vu_front_gpa(f, p) + f->opt.uva_offset;
}

/* ---- socket ---- */

VuFront *vu_front_connect(const char *path, const VuFrontOptions *opt, GError **errp)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    VuFront *f = g_new0(VuFront, 1);

    f->sock = f->mem_fd = f->log_fd = -1;
    for (unsigned i = 0; i < VU_MAX_QUEUES; i++) {
        f->q[i].kick_fd = f->q[i].call_fd = -1;
    }
    f->opt = opt ? *opt : (VuFrontOptions){0};
    f->opt.mem_size = f->opt.mem_size ? f->opt.mem_size : DEFAULT_MEM;
    f->opt.nregions = CLAMP(f->opt.nregions, 1, VU_MAX_REGIONS);
    f->opt.gpa_base = f->opt.gpa_base ? f->opt.gpa_base : DEFAULT_GPA;
    f->opt.uva_offset = f->opt.uva_offset ? f->opt.uva_offset : DEFAULT_UVA_OFFSET;
    f->opt.queue_size = f->opt.queue_size ? f->opt.queue_size : DEFAULT_QUEUE;
    f->opt.pairs = CLAMP(f->opt.pairs, 1, VU_MAX_QUEUES / 2);
    f->mem_size = f->opt.mem_size;
    f->nregions = f->opt.nregions;
    f->max_pairs = 1;

    /* a VMM that serves vhost-user backends usually backs guest memory by huge pages */
    f->mem_fd = memfd_create("vu-front-guest", MFD_CLOEXEC | (f->opt.hugepages ? MFD_HUGETLB : 0));
    if (f->mem_fd < 0 || ftruncate(f->mem_fd, (off_t)f->mem_size) < 0) {
        g_set_error(errp, VU_FRONT_ERROR, errno, "vu-front: guest memory memfd of %zu bytes: %s",
                    f->mem_size, g_strerror(errno));
        goto fail;
    }
    f->mem = mmap(NULL, f->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, f->mem_fd, 0);
    if (f->mem == MAP_FAILED) {
        f->mem = NULL;
        g_set_error(errp, VU_FRONT_ERROR, errno, "vu-front: mapping guest memory: %s",
                    g_strerror(errno));
        goto fail;
    }
    layout_regions(f);
    f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if (f->sock < 0 || connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        g_set_error(errp, VU_FRONT_ERROR, errno, "vu-front: connecting to %s: %s", path,
                    g_strerror(errno));
        goto fail;
    }
    return f;
fail:
    vu_front_free(f);
    return NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void vu_front_free(VuFront *f)
{
    if (!f) {
        return;
    }
    close_fd(&f->sock);
    for (unsigned i = 0; i < VU_MAX_QUEUES; i++) {
        close_fd(&f->q[i].kick_fd);
        close_fd(&f->q[i].call_fd);
        g_free(f->q[i].free_ids);
    }
    if (f->mem) {
        munmap(f->mem, f->mem_size);
    }
    if (f->log) {
        munmap(f->log, f->log_size);
    }
    close_fd(&f->mem_fd);
    close_fd(&f->log_fd);
    g_free(f);
}

bool vu_front_send_bytes(VuFront *f, const void *buf, size_t len)
{
    return f->sock >= 0 && send(f->sock, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

bool vu_front_send_raw(VuFront *f, uint32_t request, uint32_t flags, uint32_t size,
                       const void *payload, size_t len, const int *fds, unsigned nfds)
{
    uint32_t hdr[3] = {htole32(request), htole32(flags), htole32(size)};
    struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)payload, len}};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 64)];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    size_t total = sizeof(hdr) + len;

    g_assert(nfds <= 64);
    if (f->sock < 0) {
        return false;
    }
    if (nfds) {
        struct cmsghdr *c;

        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    return sendmsg(f->sock, &msg, MSG_NOSIGNAL) == (ssize_t)total;
}

/* Read exactly @len bytes before @deadline (monotonic µs). Return: false on EOF, error or
 * timeout, with @errp saying which. */
static bool read_full(VuFront *f, void *buf, size_t len, gint64 deadline, GError **errp)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {f->sock, POLLIN, 0};
        int ms = (int)MAX(0, (deadline - g_get_monotonic_time()) / 1000);
        ssize_t r;

        if (poll(&p, 1, ms) <= 0) {
            g_set_error(errp, VU_FRONT_ERROR, ETIMEDOUT,
                        "vu-front: no reply from the backend within %d ms", REPLY_MS);
            return false;
        }
        r = read(f->sock, (uint8_t *)buf + got, len - got);
        if (r <= 0) {
            g_set_error(errp, VU_FRONT_ERROR, r < 0 ? errno : ECONNRESET,
                        "vu-front: the backend closed the connection%s%s", r < 0 ? ": " : "",
                        r < 0 ? g_strerror(errno) : "");
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

/* Read the reply to @request: @len payload bytes exactly. */
static bool read_reply(VuFront *f, uint32_t request, void *buf, size_t len, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + REPLY_MS * 1000;
    uint32_t hdr[3];

    if (!read_full(f, hdr, sizeof(hdr), deadline, errp)) {
        return false;
    }
    if (le32toh(hdr[0]) != request || le32toh(hdr[1]) != (VU_FLAG_VERSION | VU_FLAG_REPLY) ||
        le32toh(hdr[2]) != len) {
        g_set_error(errp, VU_FRONT_ERROR, EPROTO,
                    "vu-front: reply to request %u is request %u, flags 0x%x, size %u (expected "
                    "flags 0x%x, size %zu)",
                    request, le32toh(hdr[0]), le32toh(hdr[1]), le32toh(hdr[2]),
                    VU_FLAG_VERSION | VU_FLAG_REPLY, len);
        return false;
    }
    return read_full(f, buf, len, deadline, errp);
}

bool vu_front_request(VuFront *f, uint32_t request, const void *payload, size_t len, const int *fds,
                      unsigned nfds, void *reply, size_t reply_len, GError **errp)
{
    bool ack = !reply && has(f->protocol, VU_PF_REPLY_ACK);
    uint64_t status = 0;

    if (!vu_front_send_raw(f, request, VU_FLAG_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0),
                           (uint32_t)len, payload, len, fds, nfds)) {
        g_set_error(errp, VU_FRONT_ERROR, errno, "vu-front: sending request %u: %s", request,
                    f->sock < 0 ? "not connected" : g_strerror(errno));
        return false;
    }
    if (reply) {
        return read_reply(f, request, reply, reply_len, errp);
    }
    if (ack) {
        if (!read_reply(f, request, &status, sizeof(status), errp)) {
            return false;
        }
        if (status) {
            g_set_error(
                errp, VU_FRONT_ERROR, EINVAL,
                "vu-front: the backend refused request %u (REPLY_ACK status %" G_GUINT64_FORMAT ")",
                request, le64toh(status));
            return false;
        }
    }
    return true;
}

bool vu_front_request_u64(VuFront *f, uint32_t request, uint64_t value, GError **errp)
{
    uint64_t le = htole64(value);

    return vu_front_request(f, request, &le, sizeof(le), NULL, 0, NULL, 0, errp);
}

/* A request whose reply is one u64 (GET_FEATURES, ...). */
static bool get_u64(VuFront *f, uint32_t request, uint64_t *out, GError **errp)
{
    uint64_t le;

    if (!vu_front_request(f, request, NULL, 0, NULL, 0, &le, sizeof(le), errp)) {
        return false;
    }
    *out = le64toh(le);
    return true;
}

bool vu_front_wait_closed(VuFront *f, int ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    uint8_t scratch[4096];

    while (f->sock >= 0) {
        struct pollfd p = {f->sock, POLLIN, 0};
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        ssize_t r;

        if (left < 0 || poll(&p, 1, left) <= 0) {
            return false;
        }
        r = read(f->sock, scratch, sizeof(scratch));
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
            close_fd(&f->sock);
        }
    }
    return true;
}

bool vu_front_set_mem_table(VuFront *f, GError **errp)
{
    struct __attribute__((packed)) {
        uint32_t num, padding;
        VuWireRegion r[VU_MAX_REGIONS];
    } t = {htole32(f->nregions), 0, {{0}}};
    int fds[VU_MAX_REGIONS];

    for (unsigned i = 0; i < f->nregions; i++) {
        t.r[i] = (VuWireRegion){htole64(f->regions[i].gpa), htole64(f->regions[i].size),
                                htole64(f->regions[i].uva), htole64(f->regions[i].mmap_offset)};
        fds[i] = f->mem_fd;
    }
    return vu_front_request(f, VU_REQ_SET_MEM_TABLE, &t, 8 + sizeof(VuWireRegion) * f->nregions,
                            fds, f->nregions, NULL, 0, errp);
}

bool vu_front_get_vring_base(VuFront *f, unsigned vq, uint32_t *base, GError **errp)
{
    VuWireVringState s = {htole32(vq), 0}, r;

    if (!vu_front_request(f, VU_REQ_GET_VRING_BASE, &s, sizeof(s), NULL, 0, &r, sizeof(r), errp)) {
        return false;
    }
    if (le32toh(r.index) != vq) {
        g_set_error(errp, VU_FRONT_ERROR, EPROTO,
                    "vu-front: GET_VRING_BASE of ring %u answered for ring %u", vq,
                    le32toh(r.index));
        return false;
    }
    *base = le32toh(r.num);
    return true;
}

bool vu_front_get_config(VuFront *f, uint32_t offset, void *buf, uint32_t len, GError **errp)
{
    g_autofree uint8_t *msg = g_malloc0(12 + len), *reply = g_malloc0(12 + len);
    uint32_t head[3] = {htole32(offset), htole32(len), 0};

    memcpy(msg, head, sizeof(head));
    if (!vu_front_request(f, VU_REQ_GET_CONFIG, msg, 12 + len, NULL, 0, reply, 12 + len, errp)) {
        return false;
    }
    memcpy(buf, reply + 12, len);
    return true;
}

/* ---- queues ---- */

static VuWireVringAddr ring_addr(VuFront *f, unsigned vq, bool log)
{
    VuQueue *q = &f->q[vq];

    return (VuWireVringAddr){htole32(vq),
                             htole32(log ? VU_VRING_F_LOG : 0),
                             htole64(vu_front_uva(f, q->desc)),
                             htole64(vu_front_uva(f, q->used)),
                             htole64(vu_front_uva(f, q->avail)),
                             htole64(q->used_gpa)};
}

static void set_desc(VuQueue *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
    uint8_t *d = q->desc + 16 * (size_t)i;
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t fl = htole16(flags), next = 0;

    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &fl, 2);
    memcpy(d + 14, &next, 2);
}

/* Place the rings and buffers of @vq in guest memory (once) and make its eventfds. */
static void layout_queue(VuFront *f, unsigned vq)
{
    VuQueue *q = &f->q[vq];
    bool rx = vq % 2 == 0;
    unsigned size = f->opt.queue_size;

    if (q->desc) {
        return;
    }
    q->size = size;
    q->desc = vu_front_alloc(f, 16 * (size_t)size, 4096);
    q->avail = vu_front_alloc(f, 6 + 2 * (size_t)size, 4096);
    q->used = vu_front_alloc(f, 6 + 8 * (size_t)size, 4096);
    q->desc_gpa = vu_front_gpa(f, q->desc);
    q->avail_gpa = vu_front_gpa(f, q->avail);
    q->used_gpa = vu_front_gpa(f, q->used);
    if (rx) {
        q->buf_size = f->opt.rx_buf_size              ? f->opt.rx_buf_size
                      : has(f->features, F_MRG_RXBUF) ? RX_BUF_MRG
                                                      : RX_BUF_BIG;
    } else {
        q->buf_size = TX_BUF;
    }
    q->bufs = vu_front_alloc(f, q->buf_size * size, 4096);
    q->bufs_gpa = vu_front_gpa(f, q->bufs);
    q->free_ids = g_new(uint16_t, size);
    for (unsigned i = 0; i < size; i++) {
        q->free_ids[q->nfree++] = (uint16_t)(size - 1 - i);
        if (rx) {
            set_desc(q, i, q->bufs_gpa + i * q->buf_size, (uint32_t)q->buf_size, DESC_F_WRITE);
        }
    }
    q->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    q->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_assert_cmpint(q->kick_fd, >=, 0);
    g_assert_cmpint(q->call_fd, >=, 0);
}

bool vu_front_setup_queue(VuFront *f, unsigned vq, GError **errp)
{
    VuQueue *q = &f->q[vq];
    VuWireVringState num = {htole32(vq), htole32(f->opt.queue_size)};
    VuWireVringState base = {htole32(vq), 0};
    VuWireVringAddr addr;
    uint64_t idx = htole64(vq);

    g_assert_cmpuint(vq, <, VU_MAX_QUEUES);
    layout_queue(f, vq);
    addr = ring_addr(f, vq, false);
    if (!vu_front_request(f, VU_REQ_SET_VRING_NUM, &num, sizeof(num), NULL, 0, NULL, 0, errp) ||
        !vu_front_request(f, VU_REQ_SET_VRING_BASE, &base, sizeof(base), NULL, 0, NULL, 0, errp) ||
        !vu_front_request(f, VU_REQ_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0, NULL, 0, errp) ||
        !vu_front_request(f, VU_REQ_SET_VRING_CALL, &idx, sizeof(idx), &q->call_fd, 1, NULL, 0,
                          errp) ||
        !vu_front_request(f, VU_REQ_SET_VRING_KICK, &idx, sizeof(idx), &q->kick_fd, 1, NULL, 0,
                          errp)) {
        g_prefix_error(errp, "ring %u: ", vq);
        return false;
    }
    q->ready = true;
    return true;
}

bool vu_front_start(VuFront *f, GError **errp)
{
    unsigned nvq = 2 * f->opt.pairs;
    uint64_t queues = 1;
    uint64_t want_protocol = mask_of(driver_protocol_bits, G_N_ELEMENTS(driver_protocol_bits));

    if (!get_u64(f, VU_REQ_GET_FEATURES, &f->device_features, errp)) {
        goto fail;
    }
    if (has(f->device_features, VU_F_PROTOCOL_FEATURES)) {
        if (!get_u64(f, VU_REQ_GET_PROTOCOL_FEATURES, &f->device_protocol, errp) ||
            !vu_front_request_u64(f, VU_REQ_SET_PROTOCOL_FEATURES,
                                  f->device_protocol & want_protocol & ~f->opt.protocol_clear,
                                  errp)) {
            goto fail;
        }
        f->protocol = f->device_protocol & want_protocol & ~f->opt.protocol_clear;
    }
    if (has(f->protocol, VU_PF_MQ) && !get_u64(f, VU_REQ_GET_QUEUE_NUM, &queues, errp)) {
        goto fail;
    }
    f->max_pairs = (unsigned)queues;
    if (f->opt.pairs > f->max_pairs) {
        g_set_error(errp, VU_FRONT_ERROR, EINVAL,
                    "vu-front: %u queue pairs wanted, the backend has %u", f->opt.pairs,
                    f->max_pairs);
        goto fail;
    }
    f->features = f->device_features &
                  mask_of(driver_feature_bits, G_N_ELEMENTS(driver_feature_bits)) &
                  ~f->opt.features_clear;
    if (!vu_front_request(f, VU_REQ_SET_OWNER, NULL, 0, NULL, 0, NULL, 0, errp) ||
        !vu_front_request_u64(f, VU_REQ_SET_FEATURES, f->features, errp) ||
        !vu_front_set_mem_table(f, errp)) {
        goto fail;
    }
    for (unsigned vq = 0; vq < nvq; vq++) {
        if (!vu_front_setup_queue(f, vq, errp)) {
            goto fail;
        }
    }
    for (unsigned vq = 0; has(f->features, VU_F_PROTOCOL_FEATURES) && vq < nvq; vq++) {
        VuWireVringState en = {htole32(vq), htole32(1)};

        if (!vu_front_request(f, VU_REQ_SET_VRING_ENABLE, &en, sizeof(en), NULL, 0, NULL, 0,
                              errp)) {
            goto fail;
        }
    }
    for (unsigned p = 0; !f->opt.no_rx_post && p < f->opt.pairs; p++) {
        vu_front_post_rx(f, p);
    }
    return true;
fail:
    g_prefix_error(errp, "vhost-user negotiation: ");
    return false;
}

static uint16_t load16(const void *p)
{
    return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static void store16(void *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

void vu_front_kick(VuFront *f, unsigned vq)
{
    VuQueue *q = &f->q[vq];
    uint16_t old = q->kicked_idx, new = q->avail_idx;
    bool need;

    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* avail idx before we read the device's hints */
    if (has(f->features, F_EVENT_IDX)) {
        uint16_t event = load16(q->used + 4 + 8 * (size_t)q->size);

        need = (uint16_t)(new - event - 1) < (uint16_t)(new - old);
    } else {
        need = !(load16(q->used) & USED_F_NO_NOTIFY);
    }
    q->kicked_idx = new;
    if (need) {
        uint64_t one = 1;

        g_assert_cmpint(write(q->kick_fd, &one, sizeof(one)), ==, sizeof(one));
    }
}

/* Put descriptor @id in the avail ring of @q (published by publish()). */
static void make_avail(VuQueue *q, uint16_t id)
{
    q->avail[2 + q->avail_idx % q->size] = htole16(id);
    q->avail_idx++;
}

static void publish(VuQueue *q)
{
    store16(&q->avail[1], q->avail_idx);
}

unsigned vu_front_post_rx(VuFront *f, unsigned pair)
{
    VuQueue *q = &f->q[vu_rxq(pair)];
    unsigned n = q->nfree;

    while (q->nfree) {
        make_avail(q, q->free_ids[--q->nfree]);
    }
    publish(q);
    vu_front_kick(f, vu_rxq(pair));
    return n;
}

unsigned vu_front_used_pending(VuFront *f, unsigned vq)
{
    VuQueue *q = &f->q[vq];

    return (uint16_t)(load16(q->used + 2) - q->last_used);
}

/* Next used entry of @q: descriptor id and length. */
static void take_used(VuQueue *q, uint32_t *id, uint32_t *len)
{
    const uint8_t *e = q->used + 4 + 8 * (size_t)(q->last_used % q->size);

    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
    *id = le32toh(*id);
    *len = le32toh(*len);
    g_assert_cmpuint(*id, <, q->size);
    q->last_used++;
}

/* Ask for a call at the next used entry (EVENT_IDX), before sleeping on the call fd. */
static void want_call(VuFront *f, VuQueue *q)
{
    if (has(f->features, F_EVENT_IDX)) {
        store16(&q->avail[2 + q->size], q->last_used);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool vu_front_wait_call(VuFront *f, unsigned vq, int ms)
{
    struct pollfd p = {f->q[vq].call_fd, POLLIN, 0};
    uint64_t v;

    if (poll(&p, 1, ms) <= 0) {
        return false;
    }
    return read(p.fd, &v, sizeof(v)) == sizeof(v);
}

bool vu_front_send(VuFront *f, unsigned pair, const void *hdr, const void *frame, size_t len,
                   bool nokick)
{
    unsigned vq = vu_txq(pair);
    VuQueue *q = &f->q[vq];
    uint16_t id;
    uint8_t *buf;

    g_assert_cmpuint(len, <=, TX_BUF - VU_NET_HDR_LEN);
    if (!q->nfree) {
        vu_front_tx_reclaim(f, pair);
    }
    if (!q->nfree) {
        return false;
    }
    id = q->free_ids[--q->nfree];
    buf = q->bufs + (size_t)id * q->buf_size;
    if (hdr) {
        memcpy(buf, hdr, VU_NET_HDR_LEN);
    } else {
        memset(buf, 0, VU_NET_HDR_LEN);
    }
    memcpy(buf + VU_NET_HDR_LEN, frame, len);
    set_desc(q, id, q->bufs_gpa + (size_t)id * q->buf_size, (uint32_t)(VU_NET_HDR_LEN + len), 0);
    make_avail(q, id);
    publish(q);
    if (!nokick) {
        vu_front_kick(f, vq);
    }
    return true;
}

unsigned vu_front_tx_reclaim(VuFront *f, unsigned pair)
{
    VuQueue *q = &f->q[vu_txq(pair)];
    unsigned n = 0;

    while (vu_front_used_pending(f, vu_txq(pair))) {
        uint32_t id, len;

        take_used(q, &id, &len);
        q->free_ids[q->nfree++] = (uint16_t)id;
        n++;
    }
    return n;
}

unsigned vu_front_tx_repost(VuFront *f, unsigned pair)
{
    VuQueue *q = &f->q[vu_txq(pair)];
    unsigned n = 0;

    while (vu_front_used_pending(f, vu_txq(pair))) {
        uint32_t id, len;

        take_used(q, &id, &len);
        make_avail(q, (uint16_t)id);
        n++;
    }
    if (n) {
        publish(q);
        vu_front_kick(f, vu_txq(pair));
    }
    return n;
}

/* num_buffers of the RX buffer @id (1 without MRG_RXBUF). */
static unsigned rx_num_buffers(VuFront *f, VuQueue *q, uint32_t id)
{
    uint16_t nb;

    if (!has(f->features, F_MRG_RXBUF)) {
        return 1;
    }
    memcpy(&nb, q->bufs + (size_t)id * q->buf_size + 10, 2);
    return MAX(1u, le16toh(nb));
}

ssize_t vu_front_recv(VuFront *f, unsigned pair, uint8_t *buf, size_t max, uint8_t *hdr,
                      unsigned *num_buffers, int timeout_ms)
{
    unsigned vq = vu_rxq(pair), nb, i;
    VuQueue *q = &f->q[vq];
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    size_t total = 0;
    uint32_t id, len;

    for (;;) {
        int left;

        if (vu_front_used_pending(f, vq)) {
            break;
        }
        want_call(f, q);
        if (vu_front_used_pending(f, vq)) {
            break;
        }
        left = (int)((deadline - g_get_monotonic_time()) / 1000);
        if (left <= 0) {
            return -1;
        }
        vu_front_wait_call(f, vq, left);
    }
    take_used(q, &id, &len);
    nb = rx_num_buffers(f, q, id);
    if (hdr) {
        memcpy(hdr, q->bufs + (size_t)id * q->buf_size, VU_NET_HDR_LEN);
    }
    for (i = 0;; i++) {
        const uint8_t *src = q->bufs + (size_t)id * q->buf_size;
        size_t skip = i == 0 ? VU_NET_HDR_LEN : 0;

        g_assert_cmpuint(len, <=, q->buf_size);
        g_assert_cmpuint(len, >=, skip);
        if (total < max) {
            memcpy(buf + total, src + skip, MIN(len - skip, max - total));
        }
        total += len - skip;
        q->free_ids[q->nfree++] = (uint16_t)id;
        if (i + 1 == nb) {
            break;
        }
        /* the other buffers of a merged frame: normally published with the first */
        while (!vu_front_used_pending(f, vq)) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline + 1000000);
            g_usleep(100);
        }
        take_used(q, &id, &len);
    }
    if (num_buffers) {
        *num_buffers = nb;
    }
    vu_front_post_rx(f, pair);
    return (ssize_t)total;
}

unsigned vu_front_rx_drop(VuFront *f, unsigned pair)
{
    unsigned vq = vu_rxq(pair), frames = 0;
    VuQueue *q = &f->q[vq];
    uint16_t used = load16(q->used + 2);

    while (q->last_used != used) {
        uint32_t id, len;

        take_used(q, &id, &len);
        if (q->rx_left == 0) {
            q->rx_left = rx_num_buffers(f, q, id);
            frames++;
        }
        q->rx_left--;
        make_avail(q, (uint16_t)id);
    }
    if (frames) {
        publish(q);
        vu_front_kick(f, vq);
    }
    return frames;
}

/* ---- dirty log ---- */

bool vu_front_log_start(VuFront *f, GError **errp)
{
    uint64_t end = 0, reply = 0;
    VuWireLog log;

    for (unsigned i = 0; i < f->nregions; i++) {
        end = MAX(end, f->regions[i].gpa + f->regions[i].size);
    }
    if (!has(f->device_features, VU_F_LOG_ALL) || !has(f->protocol, VU_PF_LOG_SHMFD)) {
        g_set_error(errp, VU_FRONT_ERROR, ENOTSUP,
                    "vu-front: the backend offers no dirty log (LOG_ALL %s, LOG_SHMFD %s)",
                    has(f->device_features, VU_F_LOG_ALL) ? "yes" : "no",
                    has(f->protocol, VU_PF_LOG_SHMFD) ? "yes" : "no");
        return false;
    }
    f->log_size = ((end / VU_LOG_PAGE + 63) / 64) * 8; /* whole u64 words */
    f->log_fd = memfd_create("vu-front-log", MFD_CLOEXEC);
    if (f->log_fd < 0 || ftruncate(f->log_fd, (off_t)f->log_size) < 0 ||
        (f->log = mmap(NULL, f->log_size, PROT_READ | PROT_WRITE, MAP_SHARED, f->log_fd, 0)) ==
            MAP_FAILED) {
        f->log = NULL;
        g_set_error(errp, VU_FRONT_ERROR, errno, "vu-front: dirty log memfd: %s",
                    g_strerror(errno));
        return false;
    }
    log = (VuWireLog){htole64(f->log_size), 0};
    if (!vu_front_request(f, VU_REQ_SET_LOG_BASE, &log, sizeof(log), &f->log_fd, 1, &reply,
                          sizeof(reply), errp) ||
        !vu_front_request_u64(f, VU_REQ_SET_FEATURES, f->features | F(VU_F_LOG_ALL), errp)) {
        return false;
    }
    f->features |= F(VU_F_LOG_ALL);
    for (unsigned vq = 0; vq < VU_MAX_QUEUES; vq++) {
        VuWireVringAddr addr;

        if (!f->q[vq].ready) {
            continue;
        }
        addr = ring_addr(f, vq, true);
        if (!vu_front_request(f, VU_REQ_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0, NULL, 0,
                              errp)) {
            return false;
        }
    }
    return true;
}

void vu_front_log_clear(VuFront *f)
{
    if (f->log) {
        memset(f->log, 0, f->log_size);
    }
}

GArray *vu_front_log_pages(VuFront *f)
{
    GArray *pages = g_array_new(false, false, sizeof(uint64_t));

    for (size_t i = 0; f->log && i < f->log_size; i++) {
        uint8_t b = __atomic_load_n(&f->log[i], __ATOMIC_ACQUIRE);

        for (unsigned bit = 0; b && bit < 8; bit++) {
            if (b & (1u << bit)) {
                uint64_t page = (uint64_t)i * 8 + bit;

                g_array_append_val(pages, page);
            }
        }
    }
    return pages;
}
