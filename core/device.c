/* device.c - [device.ID] frontends: binding to a backend, connect modes, the virtio-net model. */
#include <errno.h>
#include "netbe-priv.h"

NetbeDevice *netbe_device_new(NetbeRuntime *rt, const char *id)
{
    NetbeDevice *dev = g_new0(NetbeDevice, 1);

    dev->rt = rt;
    dev->id = g_strdup(id);
    return dev;
}

NetbeDevice *netbe_runtime_find_device(NetbeRuntime *rt, const char *id)
{
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        if (g_str_equal(dev->id, id)) {
            netbe_vnet_bind(dev); /* attach the model to its backend (once) */
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
    if (dev->vnet) {
        vnet_dev_stop(dev->vnet);
    } else if (dev->backend) {
        netbe_backend_stop(dev->backend);
    }
    dev->started = false;
}

void netbe_device_free(NetbeDevice *dev)
{
    if (!dev) {
        return;
    }
    netbe_device_stop(dev);
    vnet_dev_free(dev->vnet);
    g_free(dev->model);
    g_free(dev->id);
    g_free(dev);
}
