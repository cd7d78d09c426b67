// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vu-hostile.c - the real netbe-host's vhost-user socket against hostile frontends:
 * unknown requests, wrong sizes, wrong fd counts, bad memory tables and ring addresses,
 * truncated and silent clients, a second VMM, a killed VMM. After each: the host answers
 * status, logs one line, leaks no fd and serves the next VMM. */
#include <endian.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "netns.h"
#include "vu-rig.h"

/* How far a case negotiates before it misbehaves. */
typedef enum Stage {
    STAGE_CONNECTED, /* one GET_FEATURES round trip (the host has accepted us) */
    STAGE_MEMORY,    /* protocol features, owner, features, memory table */
} Stage;

typedef struct Hostile {
    const char *name;
    Stage stage;
    void (*misbehave)(VuFront *f);
} Hostile;

static const uint32_t V = VU_FLAG_VERSION;

/* A memfd of @size bytes (closed by the caller). */
static int memfd_of(size_t size)
{
    int fd = memfd_create("vu-hostile", MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    return fd;
}

/* Send a memory table of @n regions (@fds may hold fewer or more than @n fds). */
static void send_table(VuFront *f, uint32_t n, const VuWireRegion *regions, unsigned nregions,
                       const int *fds, unsigned nfds)
{
    uint8_t buf[8 + 16 * sizeof(VuWireRegion)] = {0};
    uint32_t num = htole32(n);

    memcpy(buf, &num, 4);
    memcpy(buf + 8, regions, nregions * sizeof(VuWireRegion));
    vu_front_send_raw(f, VU_REQ_SET_MEM_TABLE, V, (uint32_t)(8 + nregions * sizeof(VuWireRegion)),
                      buf, 8 + nregions * sizeof(VuWireRegion), fds, nfds);
}

static int an_eventfd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    g_assert_cmpint(fd, >=, 0);
    return fd;
}

static VuWireRegion region(uint64_t gpa, uint64_t size, uint64_t offset)
{
    return (VuWireRegion){htole64(gpa), htole64(size), htole64(gpa + 0x7f0000000000ull),
                          htole64(offset)};
}

/* ---- the cases ---- */

static void unknown_request(VuFront *f)
{
    vu_front_send_raw(f, 9999, V, 0, NULL, 0, NULL, 0);
}

static void size_u64_short(VuFront *f) /* SET_FEATURES: u64, sent 4 bytes */
{
    uint32_t v = 0;

    vu_front_send_raw(f, VU_REQ_SET_FEATURES, V, 4, &v, 4, NULL, 0);
}

static void size_state_short(VuFront *f) /* SET_VRING_NUM: 8-byte state, sent 4 */
{
    uint32_t v = 0;

    vu_front_send_raw(f, VU_REQ_SET_VRING_NUM, V, 4, &v, 4, NULL, 0);
}

static void size_addr_short(VuFront *f) /* SET_VRING_ADDR: 40 bytes, sent 16 */
{
    uint8_t v[16] = {0};

    vu_front_send_raw(f, VU_REQ_SET_VRING_ADDR, V, sizeof(v), v, sizeof(v), NULL, 0);
}

static void size_none_with_payload(VuFront *f) /* SET_OWNER has no payload */
{
    uint64_t v = 0;

    vu_front_send_raw(f, VU_REQ_SET_OWNER, V, 8, &v, 8, NULL, 0);
}

static void size_mem_table_short(VuFront *f) /* says 2 regions, carries 1 */
{
    VuWireRegion r = region(1ull << 30, 1u << 20, 0);

    send_table(f, 2, &r, 1, &f->mem_fd, 1);
}

static void size_log_short(VuFront *f) /* SET_LOG_BASE: 16 bytes, sent 8 */
{
    uint64_t v = htole64(4096);
    int fd = memfd_of(4096);

    vu_front_send_raw(f, VU_REQ_SET_LOG_BASE, V, 8, &v, 8, &fd, 1);
    close(fd);
}

static void size_config_mismatch(VuFront *f) /* GET_CONFIG asks 64 bytes, carries 8 */
{
    uint32_t c[5] = {0, htole32(64), 0, 0, 0};

    vu_front_send_raw(f, VU_REQ_GET_CONFIG, V, 20, c, 20, NULL, 0);
}

static void size_huge(VuFront *f) /* a header claiming 256 MiB, then nothing */
{
    vu_front_send_raw(f, VU_REQ_SET_FEATURES, V, 256u << 20, NULL, 0, NULL, 0);
}

static void fds_too_many(VuFront *f) /* 12 fds with a memory table of one region */
{
    VuWireRegion r = region(1ull << 30, 1u << 20, 0);
    int fds[12];

    for (unsigned i = 0; i < G_N_ELEMENTS(fds); i++) {
        fds[i] = f->mem_fd;
    }
    send_table(f, 1, &r, 1, fds, G_N_ELEMENTS(fds));
}

static void fds_two_for_call(VuFront *f) /* SET_VRING_CALL takes one fd */
{
    uint64_t idx = 0;
    int fds[2] = {f->mem_fd, f->mem_fd};

    vu_front_send_raw(f, VU_REQ_SET_VRING_CALL, V, 8, &idx, 8, fds, 2);
}

static void fds_where_none_allowed(VuFront *f) /* SET_FEATURES with an fd */
{
    uint64_t v = htole64(f->device_features);

    vu_front_send_raw(f, VU_REQ_SET_FEATURES, V, 8, &v, 8, &f->mem_fd, 1);
}

static void fd_missing_kick(VuFront *f) /* SET_VRING_KICK without fd or the no-fd flag */
{
    uint64_t idx = 0;

    vu_front_send_raw(f, VU_REQ_SET_VRING_KICK, V, 8, &idx, 8, NULL, 0);
}

static void fd_missing_mem_table(VuFront *f)
{
    VuWireRegion r = region(1ull << 30, 1u << 20, 0);

    send_table(f, 1, &r, 1, NULL, 0);
}

static void fd_missing_log(VuFront *f)
{
    uint64_t v[2] = {htole64(4096), 0};

    vu_front_send_raw(f, VU_REQ_SET_LOG_BASE, V, 16, v, 16, NULL, 0);
}

static void table_overlapping(VuFront *f)
{
    VuWireRegion r[2] = {region(1ull << 30, 8u << 20, 0),
                         region((1ull << 30) + (4u << 20), 8u << 20, 8u << 20)};
    int fds[2] = {f->mem_fd, f->mem_fd};

    send_table(f, 2, r, 2, fds, 2);
}

static void table_wrapping(VuFront *f)
{
    VuWireRegion r = region(0xfffffffffff00000ull, 2u << 20, 0);

    send_table(f, 1, &r, 1, &f->mem_fd, 1);
}

static void table_too_many(VuFront *f) /* 9 regions (the most is 8) */
{
    VuWireRegion r[9];
    int fds[9];

    for (unsigned i = 0; i < 9; i++) {
        r[i] = region((1ull << 30) + i * (4ull << 20), 1u << 20, (uint64_t)i << 20);
        fds[i] = f->mem_fd;
    }
    send_table(f, 9, r, 9, fds, 8);
}

static void table_empty_region(VuFront *f)
{
    VuWireRegion r = region(1ull << 30, 0, 0);

    send_table(f, 1, &r, 1, &f->mem_fd, 1);
}

/* A region of 4 MiB over an fd of 4 KiB: mapping it works, touching it would SIGBUS the
 * host. If the table is taken anyway, the rings are put at its far end and kicked. */
static void table_fd_smaller_than_region(VuFront *f)
{
    int fd = memfd_of(4096);
    VuWireRegion r = region(1ull << 30, 4u << 20, 0);
    uint64_t ring = (1ull << 30) + (2u << 20) + 0x7f0000000000ull;
    VuWireVringState num = {0, htole32(64)}, en = {0, htole32(1)};
    VuWireVringAddr addr = {0, 0, htole64(ring), htole64(ring + 0x2000), htole64(ring + 0x1000), 0};
    uint64_t idx = 0, one = 1;
    int kick = an_eventfd();

    send_table(f, 1, &r, 1, &fd, 1);
    close(fd);
    vu_front_send_raw(f, VU_REQ_SET_VRING_NUM, V, 8, &num, 8, NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ADDR, V, sizeof(addr), &addr, sizeof(addr), NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_KICK, V, 8, &idx, 8, &kick, 1);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ENABLE, V, 8, &en, 8, NULL, 0);
    g_assert_cmpint(write(kick, &one, 8), ==, 8);
    close(kick);
}

static void table_offset_beyond_fd(VuFront *f)
{
    VuWireRegion r = region(1ull << 30, 1u << 20, f->mem_size);

    send_table(f, 1, &r, 1, &f->mem_fd, 1);
}

/* Rings at addresses no region covers, then enabled and kicked. */
static void ring_outside_regions(VuFront *f)
{
    VuWireVringState num = {0, htole32(64)}, en = {0, htole32(1)};
    VuWireVringAddr addr = {0, 0, htole64(0x1000), htole64(0x3000), htole64(0x2000), 0};
    uint64_t idx = 0;
    int kick = an_eventfd();

    vu_front_send_raw(f, VU_REQ_SET_VRING_NUM, V, 8, &num, 8, NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ADDR, V, sizeof(addr), &addr, sizeof(addr), NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_KICK, V, 8, &idx, 8, &kick, 1);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ENABLE, V, 8, &en, 8, NULL, 0);
    close(kick);
}

/* The used ring starts 8 bytes before the end of the last region (runs past it). */
static void ring_straddles_region_end(VuFront *f)
{
    uint64_t end = f->regions[0].uva + f->regions[0].size;
    VuWireVringState num = {0, htole32(64)}, en = {0, htole32(1)};
    VuWireVringAddr addr = {
        0, 0, htole64(f->regions[0].uva), htole64(end - 8), htole64(f->regions[0].uva + 0x1000), 0};
    uint64_t idx = 0;
    int kick = an_eventfd();

    vu_front_send_raw(f, VU_REQ_SET_VRING_NUM, V, 8, &num, 8, NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ADDR, V, sizeof(addr), &addr, sizeof(addr), NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_KICK, V, 8, &idx, 8, &kick, 1);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ENABLE, V, 8, &en, 8, NULL, 0);
    close(kick);
}

/* Rings in guest memory at addresses that break virtio's alignment (descriptors 16, driver
 * area 2, device area 4 bytes), @which: 0 descriptors, 1 avail, 2 used. */
static void ring_misaligned(VuFront *f, unsigned which)
{
    uint64_t base = f->regions[0].uva + 0x10000;
    uint64_t a[3] = {base, base + 0x1000, base + 0x2000};
    VuWireVringState num = {0, htole32(64)}, en = {0, htole32(1)};
    VuWireVringAddr addr;
    uint64_t idx = 0;
    int kick = an_eventfd();

    a[which] += which == 0 ? 8 : which == 1 ? 1 : 2;
    addr = (VuWireVringAddr){0, 0, htole64(a[0]), htole64(a[2]), htole64(a[1]), 0};
    vu_front_send_raw(f, VU_REQ_SET_VRING_NUM, V, 8, &num, 8, NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ADDR, V, sizeof(addr), &addr, sizeof(addr), NULL, 0);
    vu_front_send_raw(f, VU_REQ_SET_VRING_KICK, V, 8, &idx, 8, &kick, 1);
    vu_front_send_raw(f, VU_REQ_SET_VRING_ENABLE, V, 8, &en, 8, NULL, 0);
    close(kick);
}

static void ring_misaligned_desc(VuFront *f)
{
    ring_misaligned(f, 0);
}

static void ring_misaligned_avail(VuFront *f)
{
    ring_misaligned(f, 1);
}

static void ring_misaligned_used(VuFront *f)
{
    ring_misaligned(f, 2);
}

static void vring_index_num(VuFront *f)
{
    VuWireVringState s = {htole32(200), htole32(256)};

    vu_front_send_raw(f, VU_REQ_SET_VRING_NUM, V, 8, &s, 8, NULL, 0);
}

static void vring_index_kick_with_fd(VuFront *f) /* and the fd must not stay open */
{
    uint64_t idx = htole64(200);
    int fd = an_eventfd();

    vu_front_send_raw(f, VU_REQ_SET_VRING_KICK, V, 8, &idx, 8, &fd, 1);
    close(fd);
}

static void vring_index_get_base(VuFront *f)
{
    VuWireVringState s = {htole32(100), 0};

    vu_front_send_raw(f, VU_REQ_GET_VRING_BASE, V, 8, &s, 8, NULL, 0);
}

static void vring_index_enable(VuFront *f)
{
    VuWireVringState s = {htole32(50), htole32(1)};

    vu_front_send_raw(f, VU_REQ_SET_VRING_ENABLE, V, 8, &s, 8, NULL, 0);
}

static void bad_version_flags(VuFront *f) /* version 2 in the flags */
{
    vu_front_send_raw(f, VU_REQ_GET_FEATURES, 0x2, 0, NULL, 0, NULL, 0);
}

static const Hostile cases[] = {
    {"unknown-request", STAGE_CONNECTED, unknown_request},
    {"bad-version-flags", STAGE_CONNECTED, bad_version_flags},
    {"size/u64-short", STAGE_CONNECTED, size_u64_short},
    {"size/vring-state-short", STAGE_CONNECTED, size_state_short},
    {"size/vring-addr-short", STAGE_MEMORY, size_addr_short},
    {"size/no-payload-request-with-payload", STAGE_CONNECTED, size_none_with_payload},
    {"size/mem-table-short", STAGE_CONNECTED, size_mem_table_short},
    {"size/log-base-short", STAGE_MEMORY, size_log_short},
    {"size/get-config-mismatch", STAGE_MEMORY, size_config_mismatch},
    {"size/huge-header", STAGE_CONNECTED, size_huge},
    {"fds/too-many", STAGE_CONNECTED, fds_too_many},
    {"fds/two-for-vring-call", STAGE_MEMORY, fds_two_for_call},
    {"fds/where-none-allowed", STAGE_CONNECTED, fds_where_none_allowed},
    {"fds/missing-kick", STAGE_MEMORY, fd_missing_kick},
    {"fds/missing-mem-table", STAGE_CONNECTED, fd_missing_mem_table},
    {"fds/missing-log-base", STAGE_MEMORY, fd_missing_log},
    {"mem/overlapping-regions", STAGE_CONNECTED, table_overlapping},
    {"mem/wrapping-region", STAGE_CONNECTED, table_wrapping},
    {"mem/too-many-regions", STAGE_CONNECTED, table_too_many},
    {"mem/empty-region", STAGE_CONNECTED, table_empty_region},
    {"mem/fd-smaller-than-region", STAGE_MEMORY, table_fd_smaller_than_region},
    {"mem/offset-beyond-fd", STAGE_CONNECTED, table_offset_beyond_fd},
    {"ring/outside-every-region", STAGE_MEMORY, ring_outside_regions},
    {"ring/straddles-region-end", STAGE_MEMORY, ring_straddles_region_end},
    {"ring/misaligned-descriptors", STAGE_MEMORY, ring_misaligned_desc},
    {"ring/misaligned-avail", STAGE_MEMORY, ring_misaligned_avail},
    {"ring/misaligned-used", STAGE_MEMORY, ring_misaligned_used},
    {"vring-index/set-num", STAGE_MEMORY, vring_index_num},
    {"vring-index/kick-with-fd", STAGE_MEMORY, vring_index_kick_with_fd},
    {"vring-index/get-base", STAGE_MEMORY, vring_index_get_base},
    {"vring-index/enable", STAGE_MEMORY, vring_index_enable},
};

/* Connect and negotiate up to @stage, asserting each step succeeds. */
static VuFront *connect_to(VuRig *r, Stage stage)
{
    g_autoptr(GError) err = NULL;
    VuFront *f = vu_front_connect(r->sock, NULL, &err);
    uint64_t feat = 0, pf = 0;

    g_assert_no_error(err);
    g_assert_true(vu_front_request(f, VU_REQ_GET_FEATURES, NULL, 0, NULL, 0, &feat, 8, &err));
    g_assert_no_error(err);
    f->device_features = f->features = le64toh(feat) & ~(1ull << VU_F_LOG_ALL);
    if (stage == STAGE_CONNECTED) {
        return f;
    }
    g_assert_true(
        vu_front_request(f, VU_REQ_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, &pf, 8, &err));
    f->device_protocol = le64toh(pf);
    /* everything but REPLY_ACK: the cases send raw messages and read no acks */
    f->protocol = f->device_protocol & ~(1ull << VU_PF_REPLY_ACK);
    g_assert_true(vu_front_request_u64(f, VU_REQ_SET_PROTOCOL_FEATURES, f->protocol, &err));
    g_assert_true(vu_front_request(f, VU_REQ_SET_OWNER, NULL, 0, NULL, 0, NULL, 0, &err));
    g_assert_true(vu_front_request_u64(f, VU_REQ_SET_FEATURES, f->features, &err));
    g_assert_true(vu_front_set_mem_table(f, &err));
    g_assert_no_error(err);
    /* a round trip: everything above was taken */
    g_assert_true(vu_front_request(f, VU_REQ_GET_FEATURES, NULL, 0, NULL, 0, &feat, 8, &err));
    g_assert_no_error(err);
    return f;
}

/*
 * Assert that netbe-host logged exactly one (non-empty) line since line @from and that it
 * names the device. Fails if the refusal is silent, or is spread over several lines.
 */
static void check_one_log_line(VuRig *r, unsigned from)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) split = NULL;
    unsigned lines = 0;

    for (int i = 0; i < 100 && vu_rig_log_lines(r) == from; i++) {
        g_usleep(10000);
    }
    g_usleep(100000); /* a second line would come now */
    text = vu_rig_log_since(r, from);
    split = g_strsplit(text, "\n", -1);
    for (char **p = split; *p; p++) {
        lines += **p != 0; /* GLib's warnings come after an empty line */
    }
    g_test_message("netbe-host logged: %s", text);
    if (lines != 1 || !strstr(text, "nic0")) {
        g_error("expected one log line naming device nic0, got %u line(s):\n%s", lines, text);
    }
}

/* One hostile case: the host closes that connection with one log line, still answers
 * status, serves the next VMM and leaks no fd. */
static void test_hostile(gconstpointer data)
{
    const Hostile *c = data;
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = connect_to(r, c->stage);
    unsigned from = vu_rig_log_lines(r);

    c->misbehave(f);
    if (!vu_front_wait_closed(f, 3000)) {
        g_autofree char *text = vu_rig_log_since(r, from);

        g_error("case %s: netbe-host kept the connection open 3 s after the bad message; "
                "log since:\n%s",
                c->name, text);
    }
    check_one_log_line(r, from);
    vu_front_free(f);
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

/* A header cut short and the connection closed (and the same with the payload cut short):
 * the host drops the connection with one line. Fails if it waits for the rest forever (an
 * fd left open), crashes, or no longer serves. */
static void test_truncated_header_then_close(void)
{
    static const uint8_t half[6] = {1, 0, 0, 0, 1, 0};
    VuRig *r = vu_rig_new(NULL);

    for (int k = 0; k < 2; k++) {
        VuFront *f = connect_to(r, STAGE_CONNECTED);
        unsigned from = vu_rig_log_lines(r);
        uint32_t v = 0;

        if (k == 0) {
            g_assert_true(vu_front_send_bytes(f, half, sizeof(half)));
        } else {
            g_assert_true(vu_front_send_raw(f, VU_REQ_SET_FEATURES, V, 8, &v, 4, NULL, 0));
        }
        vu_front_free(f);
        check_one_log_line(r, from);
        vu_rig_check_healthy(r);
    }
    vu_rig_free(r);
}

/* A client that connects and says nothing: status still answers and the client holds no
 * more than its connection; once it goes, the next VMM is served. Fails if the host blocks
 * on the silent socket. */
static void test_silent_client(void)
{
    VuRig *r = vu_rig_new(NULL);
    g_autoptr(GError) err = NULL;
    VuFront *f = vu_front_connect(r->sock, NULL, &err);

    g_assert_no_error(err);
    for (int i = 0; i < 3; i++) {
        g_autofree char *status = NULL;

        g_usleep(300000);
        status = test_host_ctl(r->h, "status");
        g_assert_nonnull(status);
    }
    g_assert_cmpint(test_count_fds(r->h->pid), <=, r->base_fds + 1);
    vu_front_free(f);
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

/* A second VMM while one is connected is refused (closed, with one log line); the first
 * keeps passing frames. Fails if the second takes over or disturbs the first. */
static void test_second_vmm_refused(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *first = vu_rig_front(r, NULL);
    unsigned from = vu_rig_log_lines(r);
    g_autoptr(GError) err = NULL;
    VuFront *second = vu_front_connect(r->sock, NULL, &err);

    if (second) {
        /* accepted then closed, or never answered: both refuse it */
        vu_front_send_raw(second, VU_REQ_GET_FEATURES, V, 0, NULL, 0, NULL, 0);
        g_assert_true(vu_front_wait_closed(second, 3000));
        check_one_log_line(r, from);
        vu_front_free(second);
    }
    vu_rig_roundtrip(r, first);
    vu_rig_roundtrip(r, first);
    vu_front_free(first);
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

/* A VMM that quits and a new one that connects at once (before netbe-host has read the
 * first one's EOF) is served, ten times over: the old connection is gone, not "a VMM is
 * connected". Fails if the host refuses the new VMM because it has not yet noticed the old
 * one left (a restarted VMM would then have to retry). */
static void test_reconnect_right_after_close_is_served(void)
{
    VuRig *r = vu_rig_new(NULL);

    for (int i = 0; i < 10; i++) {
        g_autoptr(GError) err = NULL;
        VuFront *f = vu_front_connect(r->sock, NULL, &err);

        g_assert_no_error(err);
        if (!vu_front_start(f, &err)) {
            g_autofree char *log = vu_rig_log_since(r, 0);

            g_error("VMM %d, connected right after the previous one closed: %s; log:\n%s", i,
                    err->message, log);
        }
        vu_rig_roundtrip(r, f);
        vu_front_free(f);
    }
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

/* A VMM killed with SIGKILL in the middle of traffic: the device resets, a new VMM
 * negotiates afresh and passes frames; no fd of the dead one stays open. */
static void test_killed_vmm_then_new_one(void)
{
    VuRig *r = vu_rig_new(NULL);
    int ready[2];
    pid_t pid;
    char c;

    g_assert_cmpint(pipe(ready), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        VuFront *f;
        uint8_t frame[60];

        test_pid_track(0, 0); /* an assertion here must not kill the host */
        f = vu_front_connect(r->sock, NULL, NULL);
        if (!f || !vu_front_start(f, NULL)) {
            _exit(1);
        }
        vu_rig_frame(frame, sizeof(frame), 0);
        for (int i = 0; i < 50; i++) {
            vu_front_send(f, 0, NULL, frame, sizeof(frame), false);
        }
        if (write(ready[1], "r", 1) != 1) {
            _exit(1);
        }
        for (;;) {
            vu_front_send(f, 0, NULL, frame, sizeof(frame), false); /* traffic until killed */
            g_usleep(1000);
        }
    }
    close(ready[1]);
    g_assert_cmpint(read(ready[0], &c, 1), ==, 1); /* the child negotiated */
    close(ready[0]);
    g_usleep(50000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    g_usleep(200000);
    while (recv(r->udp, &c, 1, MSG_DONTWAIT) >= 0) {
        /* frames of the dead VMM */
    }
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/vhost-user/hostile/%s", cases[i].name);

        g_test_add_data_func(path, &cases[i], test_hostile);
    }
    g_test_add_func("/vhost-user/hostile/truncated-header-then-close",
                    test_truncated_header_then_close);
    g_test_add_func("/vhost-user/hostile/silent-client", test_silent_client);
    g_test_add_func("/vhost-user/hostile/second-vmm-refused", test_second_vmm_refused);
    g_test_add_func("/vhost-user/hostile/killed-vmm-then-new-one", test_killed_vmm_then_new_one);
    g_test_add_func("/vhost-user/hostile/reconnect-right-after-close-is-served",
                    test_reconnect_right_after_close_is_served);
    return g_test_run();
}
