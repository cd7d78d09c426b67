// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-replay.c - run fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer (any
 * compiler): every file of the given corpus directories, then seeded mutations of them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Usage: fuzz-replay [--mutations N] DIR|FILE...; prints TAP. */
int main(int argc, char **argv)
{
    GPtrArray *inputs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    unsigned mutations = 20000, ran = 0;
    GRand *rng = g_rand_new_with_seed(4);

    for (int i = 1; i < argc; i++) {
        GDir *dir;
        const char *name;

        if (g_str_equal(argv[i], "--mutations") && i + 1 < argc) {
            mutations = strtoul(argv[++i], NULL, 0);
            continue;
        }
        dir = g_dir_open(argv[i], 0, NULL);
        if (!dir) {
            gchar *buf;
            gsize len;

            if (g_file_get_contents(argv[i], &buf, &len, NULL)) {
                g_ptr_array_add(inputs, g_bytes_new_take(buf, len));
            }
            continue;
        }
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(argv[i], name, NULL);
            gchar *buf;
            gsize len;

            if (g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
                g_file_get_contents(path, &buf, &len, NULL)) {
                g_ptr_array_add(inputs, g_bytes_new_take(buf, len));
            }
        }
        g_dir_close(dir);
    }
    printf("1..2\n");
    if (inputs->len == 0) {
        printf("not ok 1 - no corpus inputs found\nnot ok 2 - mutations # SKIP no inputs\n");
        return 1;
    }
    for (guint i = 0; i < inputs->len; i++) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(g_ptr_array_index(inputs, i), &len);

        LLVMFuzzerTestOneInput(d, len);
        ran++;
    }
    printf("ok 1 - %u corpus inputs\n", ran);
    for (unsigned m = 0; m < mutations; m++) {
        gsize len;
        GBytes *b = g_ptr_array_index(inputs, g_rand_int_range(rng, 0, inputs->len));
        const uint8_t *d = g_bytes_get_data(b, &len);
        g_autofree uint8_t *copy = g_memdup2(d, len);
        unsigned flips = g_rand_int_range(rng, 1, 9);

        for (unsigned f = 0; f < flips && len > 0; f++) {
            gsize at = g_rand_int_range(rng, 0, len);

            copy[at] = g_rand_int_range(rng, 0, 4) ? (uint8_t)g_rand_int(rng)
                                                   : copy[at] ^ (1u << g_rand_int_range(rng, 0, 8));
        }
        LLVMFuzzerTestOneInput(copy, len);
    }
    printf("ok 2 - %u seeded mutations\n", mutations);
    g_rand_free(rng);
    g_ptr_array_unref(inputs);
    return 0;
}
