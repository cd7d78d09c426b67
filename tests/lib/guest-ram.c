// SPDX-License-Identifier: GPL-2.0-or-later
/* guest-ram.c - compare the RAM of two QEMU guests page by page (after a VM migration). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guest.h"

#define RAM_PAGE 4096
#define RAM_CHUNK (1 << 20)
#define RAM_REPORT_PAGES 8

/* Open QEMU @pid's guest RAM (the memfd of its one memory backend); Return: fd or -1. */
static int guest_ram_open(GPid pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    struct dirent *e;
    int fd = -1;

    while (d && fd < 0 && (e = readdir(d))) {
        g_autofree char *path = g_strdup_printf("%s/%s", dir, e->d_name);
        char target[256];
        ssize_t n = readlink(path, target, sizeof(target) - 1);

        if (n > 0) {
            target[n] = '\0';
            if (g_str_has_prefix(target, "/memfd:memory-backend-memfd")) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
            }
        }
    }
    if (d) {
        closedir(d);
    }
    return fd;
}

long test_guest_ram_diff(TestGuest *a, TestGuest *b, GString *report)
{
    int fa = guest_ram_open(test_guest_pid(a)), fb = guest_ram_open(test_guest_pid(b));
    g_autofree uint8_t *ba = g_malloc(RAM_CHUNK), *bb = g_malloc(RAM_CHUNK);
    struct stat sa, sb;
    long differ = -1;

    if (fa >= 0 && fb >= 0 && fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0 &&
        sa.st_size == sb.st_size) {
        differ = 0;
        for (off_t off = 0; off < sa.st_size; off += RAM_CHUNK) {
            ssize_t na = pread(fa, ba, RAM_CHUNK, off), nb = pread(fb, bb, RAM_CHUNK, off);

            if (na <= 0 || na != nb) {
                differ = -1;
                break;
            }
            for (ssize_t p = 0; p < na; p += RAM_PAGE) {
                size_t len = MIN(RAM_PAGE, (size_t)(na - p));

                if (memcmp(ba + p, bb + p, len) != 0 && differ++ < RAM_REPORT_PAGES) {
                    g_string_append_printf(report, " 0x%llx", (unsigned long long)(off + p));
                }
            }
        }
    }
    if (differ < 0) {
        g_string_append_printf(report, " cannot read both guests' RAM (memfds %d, %d)", fa, fb);
    }
    if (fa >= 0) {
        close(fa);
    }
    if (fb >= 0) {
        close(fb);
    }
    return differ;
}
