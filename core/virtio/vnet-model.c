// SPDX-License-Identifier: LGPL-2.1-or-later
/* vnet-model.c - the virtio-net device model as the device core sees it: its ops table. */
#include <errno.h>
#include "vnet-priv.h"

static void vnet_model_stop(NetbeDevice *dev)
{
    if (dev->vnet) {
        vnet_dev_stop(dev->vnet);
    } else if (dev->backend) {
        netbe_backend_stop(dev->backend);
    }
}

static void vnet_model_free(NetbeDevice *dev)
{
    vnet_dev_free(dev->vnet);
    dev->vnet = NULL;
}

static void vnet_model_pause(NetbeDevice *dev)
{
    netbe_vnet_bind(dev);
    if (dev->vnet) {
        vnet_pause(dev->vnet);
    } else if (dev->backend) {
        netbe_backend_stop(dev->backend);
    }
}

static void vnet_model_resume(NetbeDevice *dev)
{
    if (dev->vnet) {
        vnet_resume(dev->vnet);
    } else if (dev->backend && dev->started) {
        netbe_backend_start(dev->backend);
    }
}

/* The device model, made if needed; NULL (with @errp) for a device without a backend. */
static VnetDev *vnet_model_of(NetbeDevice *dev, GError **errp)
{
    netbe_vnet_bind(dev);
    if (!dev->vnet) {
        g_set_error(errp, VNET_ERROR, ENODEV, "device '%s' has no netdev: no state to move",
                    dev->id);
    }
    return dev->vnet;
}

static bool vnet_model_save(NetbeDevice *dev, NetbeMigWriter *w, GError **errp)
{
    VnetDev *vd = vnet_model_of(dev, errp);

    return vd && vnet_save(vd, w, errp);
}

static bool vnet_model_load(NetbeDevice *dev, NetbeMigReader *r, GError **errp)
{
    VnetDev *vd = vnet_model_of(dev, errp);

    return vd && vnet_load(vd, r, errp);
}

const NetbeDeviceModel netbe_virtio_net_model = {
    .name = "virtio-net",
    .bind = netbe_vnet_bind,
    .stop = vnet_model_stop,
    .free = vnet_model_free,
    .pause = vnet_model_pause,
    .resume = vnet_model_resume,
    .save = vnet_model_save,
    .load = vnet_model_load,
};
