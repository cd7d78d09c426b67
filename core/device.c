// SPDX-License-Identifier: LGPL-2.1-or-later
/* device.c - [device.ID] frontends: binding to a backend, connect modes; the model (virtio-net)
 * comes through its ops table (NetbeDeviceModel). */
#include <errno.h>
#include "netbe-priv.h"
#include "netbe/migrate.h"

NetbeDevice *netbe_device_new(NetbeRuntime *rt, const char *id)
{
    NetbeDevice *dev = g_new0(NetbeDevice, 1);

    dev->rt = rt;
    dev->id = g_strdup(id);
    dev->ops = &netbe_virtio_net_model;
    return dev;
}

NetbeDevice *netbe_runtime_find_device(NetbeRuntime *rt, const char *id)
{
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        if (g_str_equal(dev->id, id)) {
            dev->ops->bind(dev); /* attach the model to its backend (once) */
            return dev;
        }
    }
    return NULL;
}

bool netbe_device_start(NetbeDevice *dev, GError **errp)
{
    if (dev->started) {
        return true;
    }
    if (dev->rt->flags & NETBE_RUNTIME_CHECK_ONLY) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPERM,
                    "device '%s': the runtime is in check-only mode", dev->id);
        return false;
    }
    /* deferred: connect now, unless a handover already adopted the backend */
    if (!netbe_backend_connect(dev->backend, errp)) {
        g_prefix_error(errp, "device '%s': ", dev->id);
        return false;
    }
    dev->started = true;
    netbe_loop_fd_note_change(dev->rt->loop_fd, dev->rt->ctx);
    return true;
}

bool netbe_device_is_connected(const NetbeDevice *dev)
{
    return dev->backend && dev->backend->connected;
}

void netbe_device_stop(NetbeDevice *dev)
{
    dev->ops->stop(dev);
    dev->started = false;
}

void netbe_device_free(NetbeDevice *dev)
{
    if (!dev) {
        return;
    }
    netbe_vu_server_free(dev->vu, false);
    netbe_device_stop(dev);
    dev->ops->free(dev);
    g_free(dev->socket_path);
    g_free(dev->model);
    g_free(dev->spec);
    g_free(dev->id);
    g_free(dev);
}

/* ---- live handover of the device model (include/netbe/migrate.h) ---- */

void netbe_device_pause(NetbeDevice *dev)
{
    dev->ops->bind(dev);
    netbe_vu_pause(dev);
    dev->ops->pause(dev);
}

void netbe_device_resume(NetbeDevice *dev)
{
    netbe_vu_resume(dev); /* the device's kick and call fds first: resuming notifies */
    dev->ops->resume(dev);
}

bool netbe_device_save(NetbeDevice *dev, NetbeMigWriter *w, GError **errp)
{
    return dev->ops->save(dev, w, errp);
}

bool netbe_device_load(NetbeDevice *dev, NetbeMigReader *r, GError **errp)
{
    return dev->ops->load(dev, r, errp);
}
