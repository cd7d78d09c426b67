/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mig-session.h - what source and target share about backends during a handover. */
#ifndef NETBE_MIG_SESSION_H
#define NETBE_MIG_SESSION_H

#include "mig-priv.h"

/* True if @be can be handed over: connected, deferred frontend, plugin has save/load. */
bool mig_backend_can_move(const NetbeBackend *be);
/* Write id, plugin, queues, vnet header length, held frames, then the plugin's save(). */
bool mig_backend_save(NetbeBackend *be, NetbeMigWriter *w, uint32_t *frames, GError **errp);
/* The same record claiming @state_version for the plugin's part (netbe-plugin-check writes
 * a newer one than the plugin knows, which its load() must refuse). */
bool mig_backend_save_as(NetbeBackend *be, NetbeMigWriter *w, uint32_t state_version,
                         uint32_t *frames, GError **errp);
/* Append the queues' counters to a backend record (for a peer of NETBE_MIG_VERSION_COUNTERS
 * or later). */
void mig_backend_save_counters(const NetbeBackend *be, NetbeMigWriter *w);
/* Read what mig_backend_save() wrote after id/plugin/queues, and adopt it (load()); counters
 * that follow go on from where the source stopped. */
bool mig_backend_load(NetbeBackend *be, NetbeMigReader *r, uint32_t *frames, GError **errp);

#endif /* NETBE_MIG_SESSION_H */
