// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vu-reload.c - a reload of netbe-host that changes a vhost-user device: the device is
 * replaced, its VMM sees the back-end go, and a new connection gets the new device. */
#include <string.h>
#include "vu-rig.h"

/* Fails if a changed device keeps serving its old VMM connection, if its socket does not
 * serve again (same path), or if the new device does not have the new MAC. */
static void test_reload_replaces_a_changed_device(void)
{
    VuRig *r = vu_rig_new(NULL);
    VuFront *f = vu_rig_front(r, NULL);
    g_autofree char *ini = NULL, *changed = NULL, *out = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) parts = NULL;
    uint8_t mac[6] = {0};

    vu_rig_roundtrip(r, f);
    g_assert_true(g_file_get_contents(r->h->config, &ini, NULL, NULL));
    parts = g_strsplit(ini, VU_RIG_MAC, 2);
    changed = g_strjoinv("52:54:00:ab:cd:ef", parts);
    g_assert_true(g_file_set_contents(r->h->config, changed, -1, NULL));
    out = test_host_ctl(r->h, "reload");
    g_assert_nonnull(out);
    g_assert_false(vu_front_get_config(f, 0, mac, sizeof(mac), &err)); /* the old one went */
    g_clear_error(&err);
    vu_front_free(f);

    f = vu_rig_front(r, NULL);
    g_assert_true(vu_front_get_config(f, 0, mac, sizeof(mac), &err));
    g_assert_no_error(err);
    g_assert_cmpmem(mac, 6, ((uint8_t[]){0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}), 6);
    vu_rig_roundtrip(r, f);
    vu_front_free(f);
    vu_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vhost-user/reload-replaces-a-changed-device",
                    test_reload_replaces_a_changed_device);
    return g_test_run();
}
