// SPDX-License-Identifier: GPL-2.0-or-later
/* test-capture.c - capture and capture-stop against a running netbe-host (dropped to nobody
 * when run as root, sandbox on): a hub port's frames, both directions, read back with
 * libpcap (and tcpdump -r where installed) are exactly the frames sent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "host-proc.h"
#include "hub-peers.h"
#include "netbe/netbe.h"
#include "sock-test.h"

/* One frame of a capture file. */
typedef struct CapFrame {
    uint32_t len, caplen;
    uint32_t seq;
    gint64 usec; /* timestamp */
} CapFrame;

/* Every frame of the pcap file @path, read with libpcap; fails the test on a bad file. */
static GArray *read_capture(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    GArray *frames = g_array_new(false, false, sizeof(CapFrame));
    struct pcap_pkthdr *h;
    const u_char *data;

    if (!p) {
        g_error("cannot read %s: %s", path, err);
    }
    g_assert_cmpint(pcap_datalink(p), ==, DLT_EN10MB);
    while (pcap_next_ex(p, &h, &data) == 1) {
        CapFrame f = {.len = h->len,
                      .caplen = h->caplen,
                      .seq = hp_frame_seq(data, h->caplen),
                      .usec = (gint64)h->ts.tv_sec * G_USEC_PER_SEC + h->ts.tv_usec};

        g_array_append_val(frames, f);
    }
    pcap_close(p);
    return frames;
}

/* Frames tcpdump -r reads from @path, or -1 without tcpdump. */
static int tcpdump_count(const char *path)
{
    g_autofree char *out = NULL;
    g_autofree char *cmd =
        g_strdup_printf("tcpdump -r '%s' -nn -tt 2>/dev/null | grep -c '^[0-9]'", path);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};

    if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
        return -1;
    }
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, NULL, NULL, NULL));
    return atoi(out);
}

/* Send frame @seq of @len bytes into netdev @from and wait for it at every other port. */
static void pass_frame(HubPeers *hp, unsigned from, uint32_t seq, size_t len)
{
    uint8_t frame[2000], got[2000];

    hp_frame(frame, len, seq);
    hp_send(hp, from, frame, len);
    for (unsigned to = 0; to < hp->n; to++) {
        if (to != from) {
            g_assert_cmpint(hp_recv(hp, to, got, sizeof(got), 5000), ==, len);
            g_assert_cmpuint(hp_frame_seq(got, len), ==, seq);
        }
    }
}

/* Fails if a frame is missing, extra, cut, or a direction is not captured. */
static void test_capture_holds_exactly_the_frames_sent(void)
{
    HubPeers *hp = hp_start(3, NULL, NULL, NULL, NULL);
    g_autofree char *path = g_build_filename(hp->outdir, "n0.pcap", NULL);
    g_autofree char *reply = NULL;
    g_autoptr(GArray) frames = NULL;
    gint64 before = g_get_real_time();
    unsigned seen[20] = {0};

    pass_frame(hp, 0, 999, 60); /* before the capture: not in the file */
    g_free(hp_ctl_ok(hp, "capture n0 %s", path));
    reply = hp_ctl_ok(hp, "status");
    g_assert_nonnull(strstr(reply, "capturing to"));
    g_assert_nonnull(strstr(reply, path));
    g_clear_pointer(&reply, g_free);
    for (uint32_t i = 0; i < 10; i++) {
        pass_frame(hp, 0, i, 60 + i * 140); /* n0 receives (rx) */
    }
    for (uint32_t i = 10; i < 20; i++) {
        pass_frame(hp, 2, i, 1514 - (i - 10) * 100); /* n0 sends (tx) */
    }
    pass_frame(hp, 1, 500, 100); /* n0 sends it too (tx) */
    reply = hp_ctl_ok(hp, "capture-stop n0");
    g_assert_cmpstr(reply, ==, "capture of n0 stopped: 21 frames\n");

    frames = read_capture(path);
    g_assert_cmpuint(frames->len, ==, 21);
    for (guint i = 0; i < frames->len; i++) {
        const CapFrame *f = &g_array_index(frames, CapFrame, i);
        uint32_t want = i < 10 ? 60 + i * 140 : i < 20 ? 1514 - (i - 10) * 100 : 100;

        g_assert_cmpuint(f->seq, ==, i < 20 ? i : 500);
        g_assert_cmpuint(f->len, ==, want);
        g_assert_cmpuint(f->caplen, ==, want);
        g_assert_cmpint(f->usec, >=, before - G_USEC_PER_SEC);
        g_assert_cmpint(f->usec, <=, g_get_real_time());
        seen[MIN(f->seq, 19)]++;
    }
    if (tcpdump_count(path) < 0) {
        g_test_message("tcpdump is not installed: the file was read with libpcap only");
    } else {
        g_assert_cmpint(tcpdump_count(path), ==, 21);
    }

    /* stopped: nothing more is written, and a second stop says so */
    pass_frame(hp, 0, 30, 60);
    g_array_unref(frames);
    frames = read_capture(path);
    g_assert_cmpuint(frames->len, ==, 21);
    g_free(reply);
    reply = hp_ctl(hp, &(bool){true}, "capture-stop n0");
    g_assert_nonnull(strstr(reply, "error: netdev 'n0': no capture runs"));
    hp_stop(hp);
}

/* --count N: exactly the first N frames, then the capture is over by itself. */
static void test_capture_count_stops_it(void)
{
    HubPeers *hp = hp_start(2, NULL, NULL, NULL, NULL);
    g_autofree char *path = g_build_filename(hp->outdir, "count.pcap", NULL);
    g_autofree char *reply = NULL;
    g_autoptr(GArray) frames = NULL;
    bool ok = true;

    g_free(hp_ctl_ok(hp, "capture n1 %s --count 3", path));
    for (uint32_t i = 0; i < 8; i++) {
        pass_frame(hp, 0, i, 200);
    }
    for (int i = 0; i < 100 && (frames = read_capture(path))->len < 3; i++) {
        g_array_unref(frames);
        frames = NULL;
        g_usleep(20000); /* the file is flushed when the capture closes it */
    }
    g_assert_nonnull(frames);
    g_assert_cmpuint(frames->len, ==, 3);
    for (guint i = 0; i < 3; i++) {
        g_assert_cmpuint(g_array_index(frames, CapFrame, i).seq, ==, i);
    }
    reply = hp_ctl(hp, &ok, "capture-stop n1");
    g_assert_false(ok);
    g_assert_nonnull(strstr(reply, "no capture runs"));
    hp_stop(hp);
}

/* --seconds S: the capture closes its file after S seconds with what came until then. */
static void test_capture_seconds_stops_it(void)
{
    HubPeers *hp = hp_start(2, NULL, NULL, NULL, NULL);
    g_autofree char *path = g_build_filename(hp->outdir, "secs.pcap", NULL);
    g_autofree char *reply = NULL;
    g_autoptr(GArray) frames = NULL;
    bool ok = true;

    g_free(hp_ctl_ok(hp, "capture n0 %s --seconds 0.3", path));
    pass_frame(hp, 0, 1, 300);
    pass_frame(hp, 1, 2, 300);
    g_usleep(600000);
    pass_frame(hp, 0, 3, 300); /* after the end: not in the file */
    reply = hp_ctl(hp, &ok, "capture-stop n0");
    g_assert_false(ok);
    frames = read_capture(path);
    g_assert_cmpuint(frames->len, ==, 2);
    hp_stop(hp);
}

/* Clear errors, and nothing started: an unknown id, a second capture on a netdev, a file
 * netbe-host's user cannot write (it dropped to nobody), bad limits. */
static void test_capture_errors_are_clear(void)
{
    HubPeers *hp = hp_start(2, NULL, NULL, NULL, NULL);
    g_autofree char *path = g_build_filename(hp->outdir, "x.pcap", NULL);
    g_autofree char *closed = g_build_filename(hp->outdir, "closed", NULL);
    g_autofree char *denied = g_build_filename(closed, "x.pcap", NULL);
    struct {
        const char *before, *after; /* the words around FILE (NULL: no FILE) */
        const char *error;
    } cases[] = {
        {"nosuch", "", "error: capture: no netdev or device 'nosuch'"},
        {"n0 relative.pcap", NULL, "is not an absolute path"},
        {"n0", "--count 0", "--count '0' (allowed: a number above 0)"},
        {"n0", "--seconds x", "--seconds 'x' (allowed: a number)"},
        {"n0", "--seconds -1", "--seconds '-1' (allowed: a number above 0)"},
        {"n0", "--frames 3", "unknown option '--frames' (allowed: --count, --seconds)"},
        {"n0", NULL, "capture needs argument 'file'"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        bool ok = true;
        g_autofree char *args = cases[i].after
                                    ? g_strjoin(" ", cases[i].before, path, cases[i].after, NULL)
                                    : g_strdup(cases[i].before);
        g_autofree char *reply = hp_ctl(hp, &ok, "capture %s", args);

        g_assert_false(ok);
        if (!strstr(reply, cases[i].error)) {
            g_error("capture %s: expected '%s' in '%s'", args, cases[i].error, reply);
        }
    }
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(hp_ctl_ok(hp, "capture n0 %s", path));
    {
        bool ok = true;
        g_autofree char *reply = hp_ctl(hp, &ok, "capture n0 %s", path);

        g_assert_false(ok);
        g_assert_nonnull(strstr(reply, "a capture to"));
        g_assert_nonnull(strstr(reply, "runs already"));
    }
    if (geteuid() == 0) {
        bool ok = true;
        g_autofree char *reply = NULL;

        g_assert_cmpint(mkdir(closed, 0700), ==, 0); /* root's: nobody may not write there */
        reply = hp_ctl(hp, &ok, "capture n1 %s", denied);
        g_assert_false(ok);
        g_assert_nonnull(strstr(reply, "cannot open"));
        g_assert_nonnull(strstr(reply, "Permission denied (this process runs as uid 65534"));
        rmdir(closed);
    }
    hp_stop(hp);
}

/* A device's id captures its netdev; in-process, through the library. */
static void test_capture_of_a_device_is_its_netdev(void)
{
    g_autofree char *dir = st_tmpdir_new();
    g_autofree char *path = g_build_filename(dir, "nic.pcap", NULL);
    g_autofree char *config = g_strdup_printf(
        "[netdev.net0]\ntype = socket\nudp = 127.0.0.1:%u\nlocaladdr = 127.0.0.1:%u\n"
        "[device.nic0]\nnetdev = net0\nconnect = deferred\n",
        st_free_udp_port(), st_free_udp_port());
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_DEFAULT);
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) frames_file = NULL;
    uint64_t frames = 7;

    netbe_runtime_set_plugin_path(rt, test_env_path("NETBE_PLUGIN_PATH"));
    g_assert_true(netbe_runtime_load_config_string(rt, config, "dev.ini", &err));
    g_assert_true(netbe_runtime_capture_start(rt, "nic0", path, 0, 0, &err));
    g_assert_no_error(err);
    g_assert_true(netbe_runtime_capture_running(rt, "net0", &frames));
    g_assert_cmpuint(frames, ==, 0);
    g_assert_false(netbe_runtime_capture_start(rt, "net0", path, 0, 0, &err));
    g_assert_error(err, NETBE_BACKEND_ERROR, EBUSY);
    g_clear_error(&err);
    g_assert_true(netbe_runtime_capture_stop(rt, "net0", &frames, &err));
    g_assert_false(netbe_runtime_capture_running(rt, "nic0", NULL));
    g_assert_false(netbe_runtime_capture_stop(rt, "nic0", NULL, &err));
    g_assert_error(err, NETBE_BACKEND_ERROR, ENOENT);
    netbe_runtime_free(rt);
    frames_file = read_capture(path);
    g_assert_cmpuint(frames_file->len, ==, 0);
    st_tmpdir_free(g_steal_pointer(&dir));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/capture/holds-exactly-the-frames-sent",
                    test_capture_holds_exactly_the_frames_sent);
    g_test_add_func("/capture/count-stops-it", test_capture_count_stops_it);
    g_test_add_func("/capture/seconds-stops-it", test_capture_seconds_stops_it);
    g_test_add_func("/capture/errors-are-clear", test_capture_errors_are_clear);
    g_test_add_func("/capture/device-is-its-netdev", test_capture_of_a_device_is_its_netdev);
    return g_test_run();
}
