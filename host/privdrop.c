// SPDX-License-Identifier: GPL-2.0-or-later
/* privdrop.c - netbe-host --user: become an unprivileged user, keeping only needed caps. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privdrop.h"

#define PRIV_ERROR (g_quark_from_static_string("netbe-privdrop-error-quark"))

/* Names of the capabilities, by number, as capabilities(7) spells them. */
static const char *const priv_cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

char *priv_caps_text(uint64_t caps)
{
    GString *out = g_string_new(NULL);

    for (unsigned c = 0; c < 64; c++) {
        if (!(caps & (UINT64_C(1) << c))) {
            continue;
        }
        if (out->len) {
            g_string_append_c(out, ',');
        }
        if (c < G_N_ELEMENTS(priv_cap_names)) {
            g_string_append(out, priv_cap_names[c]);
        } else {
            g_string_append_printf(out, "cap_%u", c);
        }
    }
    if (!out->len) {
        g_string_append(out, "none");
    }
    return g_string_free(out, false);
}

/* The number of threads of this process (1 when /proc is not there to tell). */
static unsigned priv_thread_count(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
    unsigned n = 0;

    while (d && g_dir_read_name(d)) {
        n++;
    }
    return n ? n : 1;
}

/* Our permitted set, as a mask. */
static bool priv_get_permitted(uint64_t *permitted)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};

    if (syscall(SYS_capget, &hdr, data) < 0) {
        return false;
    }
    *permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
    return true;
}

/* Bounding set: drop every capability not in @keep. Return: the failing step, or NULL. */
static const char *priv_limit_bounding(uint64_t keep)
{
    for (unsigned c = 0; c < 64; c++) {
        int has = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

        if (has < 0) {
            break; /* past the last capability this kernel knows */
        }
        if (has && !(keep & (UINT64_C(1) << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
            return "prctl(PR_CAPBSET_DROP)";
        }
    }
    return NULL;
}

/* Effective and permitted: @keep; inheritable and ambient: empty. Return: step or NULL. */
static const char *priv_set_caps(uint64_t keep)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
        {.effective = (uint32_t)keep, .permitted = (uint32_t)keep},
        {.effective = (uint32_t)(keep >> 32), .permitted = (uint32_t)(keep >> 32)},
    };

    if (syscall(SYS_capset, &hdr, data) < 0) {
        return "capset";
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        return "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
    }
    return NULL;
}

bool priv_drop(const PrivUser *u, uint64_t keep, GError **errp)
{
    unsigned threads = priv_thread_count();
    const char *step = NULL;
    uint64_t permitted = 0;

    if (threads > 1) {
        g_set_error(errp, PRIV_ERROR, EBUSY,
                    "--user %s: %u threads run already; capabilities "
                    "are per thread and would stay with the others",
                    u->name, threads);
        return false;
    }
    if (!priv_get_permitted(&permitted)) {
        step = "capget";
        goto out;
    }
    keep &= permitted; /* what we do not have cannot be kept */
    /* the bounding set first, while CAP_SETPCAP is still effective */
    if ((step = priv_limit_bounding(keep))) {
        goto out;
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
        step = "prctl(PR_SET_KEEPCAPS)";
    } else if (setgroups(0, NULL) < 0) {
        step = "setgroups(0)";
    } else if (setresgid(u->gid, u->gid, u->gid) < 0) {
        step = "setresgid";
    } else if (setresuid(u->uid, u->uid, u->uid) < 0) {
        step = "setresuid";
    } else if ((step = priv_set_caps(keep))) {
        /* step set */
    } else if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
        step = "prctl(PR_SET_KEEPCAPS, 0)";
    } else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        step = "prctl(PR_SET_NO_NEW_PRIVS)";
    }
#ifdef NETBE_SANITIZED
    /* LeakSanitizer ptraces this process at exit; a uid change made it non-dumpable */
    if (!step && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
        step = "prctl(PR_SET_DUMPABLE) for the sanitizer";
    }
#endif
out:
    if (step) {
        g_set_error(errp, PRIV_ERROR, errno, "--user %s: %s failed: %s%s", u->name, step,
                    g_strerror(errno),
                    errno == EPERM ? " (dropping privileges needs root, or CAP_SETUID, "
                                     "CAP_SETGID and CAP_SETPCAP)"
                                   : "");
        return false;
    }
    return true;
}
