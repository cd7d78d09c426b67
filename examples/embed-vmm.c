// SPDX-License-Identifier: LGPL-2.1-or-later
/* embed-vmm.c - how a VMM embeds netbe's virtio-net device: guest memory, hooks, config,
 * start, kicks, and the runtime in the VMM's own poll loop. Read it top to bottom.
 *
 * The "guest" here is a few lines that play the driver's part on a split ring, so that
 * the program runs alone: it sends one frame, and the backend (a UDP socket that sends
 * to itself) hands it straight back to the device, which writes it into an RX buffer.
 * Usage: embed-vmm [CONFIG.ini]   (default: the built-in config below; device "nic0")
 */
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netbe/netbe.h>
#include <netbe/virtio-net.h>

/* ---- 1. Guest memory: the VMM's RAM, here one 4 MiB block at guest address 0 ---- */

#define GUEST_RAM (4u << 20)
static uint8_t *ram;

/* Guest-physical to host pointer, for the driver side of this example. */
static void *gpa_ptr(uint64_t gpa)
{
    return ram + gpa;
}

/* ---- 2. Hooks: the device asks the VMM to interrupt the guest ---- */

static unsigned interrupts;

static void notify_queue(void *opaque, unsigned vq)
{
    (void)opaque;
    /* a real VMM raises the queue's MSI-X vector here (or hands an irqfd instead) */
    interrupts++;
    printf("interrupt: virtqueue %u\n", vq);
}

static void notify_config(void *opaque)
{
    (void)opaque;
    printf("config interrupt (link change or DEVICE_NEEDS_RESET)\n");
}

/* ---- 3. A minimal driver: what the guest kernel would do on the rings ---- */

#define QSIZE 64
#define BUF_SIZE 2048

typedef struct Ring {
    uint64_t desc, avail, used; /* guest addresses */
    uint16_t avail_idx, last_used;
} Ring;

static void ring_layout(Ring *r, uint64_t base)
{
    r->desc = base;               /* 16 bytes per descriptor */
    r->avail = base + 16 * QSIZE; /* flags, idx, ring[], used_event */
    r->used = base + 4096;        /* flags, idx, ring[]{id,len}, avail_event */
}

/* Put a one-descriptor chain (buffer @buf, @len bytes) in the ring and publish it. */
static void ring_add(Ring *r, uint16_t id, uint64_t buf, uint32_t len, bool writable)
{
    uint8_t *d = gpa_ptr(r->desc + 16 * id);
    uint16_t *avail = gpa_ptr(r->avail);
    uint64_t a = htole64(buf);
    uint32_t l = htole32(len);
    uint16_t f = htole16(writable ? 2 : 0), n = 0;

    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &f, 2);
    memcpy(d + 14, &n, 2);
    avail[2 + r->avail_idx % QSIZE] = htole16(id);
    r->avail_idx++;
    __atomic_store_n(&avail[1], htole16(r->avail_idx), __ATOMIC_RELEASE);
}

/* The next used entry, if any: its id and length. */
static bool ring_used(Ring *r, uint32_t *id, uint32_t *len)
{
    uint8_t *used = gpa_ptr(r->used);
    uint16_t idx = le16toh(__atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE));
    uint8_t *e = used + 4 + 8 * (r->last_used % QSIZE);

    if (idx == r->last_used) {
        return false;
    }
    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
    r->last_used++;
    return true;
}

/* ---- 4. The config: a netdev (backend plugin) and the device that uses it ---- */

static char *builtin_config(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    static char text[512];

    /* a free UDP port on loopback: the backend sends to itself */
    bind(s, (struct sockaddr *)&a, sizeof(a));
    getsockname(s, (struct sockaddr *)&a, &alen);
    close(s);
    snprintf(text, sizeof(text),
             "[netdev.net0]\n"
             "type = socket\n"
             "local = 127.0.0.1:%u\n"
             "remote = 127.0.0.1:%u\n"
             "\n"
             "[device.nic0]\n"
             "model = virtio-net\n"
             "netdev = net0\n"
             "mac = 52:54:00:12:34:56\n"
             "connect = deferred\n",
             ntohs(a.sin_port), ntohs(a.sin_port));
    return text;
}

int main(int argc, char **argv)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    NetbeGuestRegion region;
    NetbeVnetHooks hooks = {NETBE_VNET_HOOKS_VERSION, NULL, notify_queue, notify_config};
    NetbeDevice *dev;
    GError *err = NULL;
    Ring rx = {0}, tx = {0};
    uint64_t features;
    uint8_t status = NETBE_VIRTIO_STATUS_ACKNOWLEDGE | NETBE_VIRTIO_STATUS_DRIVER;
    uint8_t frame[12 + 60] = {0};
    const char *plugin_path = getenv("NETBE_PLUGIN_PATH");
    int rc = 1;

    ram = calloc(1, GUEST_RAM);
    if (plugin_path) {
        netbe_runtime_set_plugin_path(rt, plugin_path);
    }
    /* Load the config: plugins are loaded, backends created; deferred ones wait. */
    if (!(argc > 1 ? netbe_runtime_load_config_file(rt, argv[1], &err)
                   : netbe_runtime_load_config_string(rt, builtin_config(), "builtin", &err))) {
        fprintf(stderr, "%s\n", err->message);
        goto out;
    }
    dev = netbe_runtime_find_device(rt, "nic0");

    /* Give the device the guest's memory map and the interrupt hooks. */
    region = (NetbeGuestRegion){.gpa = 0, .size = GUEST_RAM, .hva = ram};
    if (!netbe_vnet_set_memory(dev, &region, 1, &err) || !netbe_vnet_set_hooks(dev, &hooks)) {
        fprintf(stderr, "%s\n", err ? err->message : "hooks refused");
        goto out;
    }

    /* What the transport forwards while the guest driver probes the device. */
    netbe_vnet_set_status(dev, status, NULL);
    features = netbe_vnet_get_device_features(dev);
    netbe_vnet_set_driver_features(
        dev, features & ((1ull << NETBE_VIRTIO_F_VERSION_1) | (1ull << NETBE_VIRTIO_NET_F_MAC)));
    status |= NETBE_VIRTIO_STATUS_FEATURES_OK;
    netbe_vnet_set_status(dev, status, NULL);
    if (!(netbe_vnet_get_status(dev) & NETBE_VIRTIO_STATUS_FEATURES_OK)) {
        fprintf(stderr, "features refused\n");
        goto out;
    }
    ring_layout(&rx, 0x10000);
    ring_layout(&tx, 0x20000);
    if (!netbe_vnet_queue_setup(dev, 0, QSIZE, rx.desc, rx.avail, rx.used, &err) ||
        !netbe_vnet_queue_setup(dev, 1, QSIZE, tx.desc, tx.avail, tx.used, &err)) {
        fprintf(stderr, "%s\n", err->message);
        goto out;
    }
    netbe_vnet_queue_enable(dev, 0, true);
    netbe_vnet_queue_enable(dev, 1, true);
    /* DRIVER_OK starts the device; a deferred device connects its backend now. */
    if (!netbe_vnet_set_status(dev, status | NETBE_VIRTIO_STATUS_DRIVER_OK, &err)) {
        fprintf(stderr, "%s\n", err->message);
        goto out;
    }

    /* The guest posts RX buffers and sends one frame (12-byte header + Ethernet). */
    for (uint16_t i = 0; i < 16; i++) {
        ring_add(&rx, i, 0x100000 + i * BUF_SIZE, BUF_SIZE, true);
    }
    netbe_vnet_queue_kick(dev, 0);
    memcpy(frame + 12, "\x52\x54\x00\x12\x34\x56\x02\x00\x00\x00\x00\x01\x88\xb5", 14);
    memcpy(frame + 26, "hello from the guest", 20);
    memcpy(gpa_ptr(0x200000), frame, sizeof(frame));
    ring_add(&tx, 0, 0x200000, sizeof(frame), false);
    /* On a vCPU thread: this is all a queue notification costs (an eventfd write). */
    netbe_vnet_queue_kick(dev, 1);

    /* The VMM's event loop: one fd stands for the whole runtime. */
    for (int round = 0; round < 500; round++) {
        struct pollfd p = {netbe_runtime_get_fd(rt), POLLIN, 0};
        uint32_t id, len;

        if (poll(&p, 1, 10) > 0) {
            netbe_runtime_dispatch(rt);
        }
        if (ring_used(&rx, &id, &len)) {
            uint8_t *got = gpa_ptr(0x100000 + id * BUF_SIZE);

            printf("received %u bytes in RX buffer %u: \"%.20s\"\n", len - 12, id, got + 26);
            rc = memcmp(got + 12, frame + 12, sizeof(frame) - 12) == 0 ? 0 : 1;
            break;
        }
    }
    if (rc) {
        fprintf(stderr, "the frame did not come back\n");
    }
    printf("%u interrupts\n", interrupts);
    netbe_vnet_reset(dev);
out:
    g_clear_error(&err);
    netbe_runtime_free(rt);
    free(ram);
    return rc;
}
