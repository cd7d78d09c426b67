// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-sock.c - fuzz the two parsers of untrusted input a socket netdev has: the stream
 * framing a peer sends (the core's stream reader with the plugin's framing hook, fed through
 * a real socketpair into a runtime, checked against a reference parser) and the address
 * syntax of the options. libFuzzer entry point, plus a replay main (SOCK_FUZZ_REPLAY) that
 * runs a corpus and seeded mutations with any compiler.
 *
 * Input: byte 0 selects the target (even: stream bytes, odd: an address), the rest is data.
 * With -Dfuzz=true and clang: build/tests/socket/fuzz-sock -max_total_time=60 CORPUS_DIR */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fuzz-plugins.h"
#include "sock-priv.h"
#include "sock-test.h"

/* Frames the reference parser finds in @data: whole frames up to the first length over
 * QEMU's limit (the framing is lost there); empty frames carry nothing. */
static GPtrArray *reference_frames(const uint8_t *data, size_t size)
{
    GPtrArray *frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    size_t off = 0;

    while (size - off >= 4) {
        uint32_t len;

        memcpy(&len, data + off, 4);
        len = ntohl(len);
        if (len > SOCK_FRAME_MAX || size - off - 4 < len) {
            break; /* framing lost, or the stream ends inside the frame */
        }
        if (len) {
            g_ptr_array_add(frames, g_bytes_new(data + off + 4, len));
        }
        off += 4 + len;
    }
    return frames;
}

static void silent(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

/* Write @data as a peer's stream into a runtime; every frame out must match the reference. */
static void fuzz_stream(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) want = reference_frames(data, size);
    static uint8_t got[ST_FRAME_MAX];
    g_autofree char *opts = NULL;
    int sp[2];
    StRig *r;

    st_socketpair(SOCK_STREAM, sp);
    opts = g_strdup_printf("fd = %d", sp[1]);
    r = st_rig_new(opts);
    if (!st_write_all(sp[0], data, size)) {
        abort();
    }
    shutdown(sp[0], SHUT_WR);
    for (guint i = 0; i < want->len; i++) {
        gsize len;
        const void *frame = g_bytes_get_data(g_ptr_array_index(want, i), &len);

        if (st_take(r, got, sizeof(got)) != (ssize_t)len || memcmp(got, frame, len) != 0) {
            fprintf(stderr, "frame %u of %u differs from the reference\n", i, want->len);
            abort();
        }
    }
    if (!st_wait_eof(sp[0]) || !st_quiet(r->inj[0], 0)) {
        abort(); /* the plugin must close, and deliver nothing more */
    }
    st_rig_free(r);
    close(sp[0]);
}

/* Parse @data as an address; what parses must print and parse again to the same thing. */
static void fuzz_address(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    SockAddr a = {0}, b = {0};
    char *problem = NULL;

    for (int bind_side = 0; bind_side < 2; bind_side++) {
        if (sock_addr_parse(&a, text, bind_side, &problem)) {
            g_autofree char *again = sock_addr_format((struct sockaddr *)&a.ss, a.len);

            if (!sock_addr_parse(&b, again, true, &problem) || a.len != b.len ||
                memcmp(&a.ss, &b.ss, a.len) != 0) {
                fprintf(stderr, "'%s' -> '%s' does not parse back\n", text, again);
                abort();
            }
        } else if (!problem || !*problem) {
            abort(); /* a refusal always says why */
        }
        g_clear_pointer(&problem, g_free);
        sock_addr_clear(&a);
        sock_addr_clear(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;

    fuzz_keep_plugins_loaded(); /* each input's runtime would unload the plugin */
    if (!quiet) {
        g_log_set_handler("netbe-socket", G_LOG_LEVEL_MASK, silent, NULL);
        g_log_set_handler("netbe", G_LOG_LEVEL_MASK, silent, NULL);
        quiet = true;
    }
    if (size == 0) {
        return 0;
    }
    if (data[0] & 1) {
        fuzz_address(data + 1, size - 1);
    } else {
        fuzz_stream(data + 1, size - 1);
    }
    return 0;
}

#ifdef SOCK_FUZZ_REPLAY
/* Usage: fuzz-sock-replay CORPUS_DIR [MUTATIONS]; prints TAP. */
int main(int argc, char **argv)
{
    g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    unsigned mutations = argc > 2 ? strtoul(argv[2], NULL, 0) : 2000;
    g_autoptr(GDir) dir = argc > 1 ? g_dir_open(argv[1], 0, NULL) : NULL;
    GRand *rng = g_rand_new_with_seed(7);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(argv[1], name, NULL);
        gchar *buf;
        gsize len;

        if (g_file_get_contents(path, &buf, &len, NULL)) {
            g_ptr_array_add(inputs, g_bytes_new_take(buf, len));
        }
    }
    printf("1..2\n");
    if (!inputs->len) {
        printf("not ok 1 - no corpus in %s\nnot ok 2 - mutations # SKIP\n",
               argc > 1 ? argv[1] : "?");
        return 1;
    }
    for (guint i = 0; i < inputs->len; i++) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(g_ptr_array_index(inputs, i), &len);

        LLVMFuzzerTestOneInput(d, len);
    }
    printf("ok 1 - %u corpus inputs\n", inputs->len);
    for (unsigned m = 0; m < mutations; m++) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(
            g_ptr_array_index(inputs, g_rand_int_range(rng, 0, inputs->len)), &len);
        g_autofree uint8_t *copy = g_memdup2(d, len);

        for (unsigned f = g_rand_int_range(rng, 1, 6); f > 0 && len > 1; f--) {
            gsize at = g_rand_int_range(rng, 1, len); /* keep the target byte */

            copy[at] = g_rand_boolean(rng) ? (uint8_t)g_rand_int(rng)
                                           : copy[at] ^ (1u << g_rand_int_range(rng, 0, 8));
        }
        if (g_rand_int_range(rng, 0, 4) == 0 && len > 2) {
            len = g_rand_int_range(rng, 1, len); /* cut short */
        }
        LLVMFuzzerTestOneInput(copy, len);
    }
    printf("ok 2 - %u seeded mutations\n", mutations);
    g_rand_free(rng);
    return 0;
}
#endif
