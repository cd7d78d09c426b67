// SPDX-License-Identifier: LGPL-2.1-or-later
/* unix-listen.c - a listening UNIX socket that replaces a stale file but never a live one. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "netbe-priv.h"

/* Whether @path may be listened on: absent (*@absent), or a socket nobody listens on
 * (left by a crash). A live socket, a file that is not a socket, or one we cannot probe is
 * refused with @errp set. */
static bool path_usable(const char *what, const char *path, bool *absent, GError **errp)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct stat st;
    int probe, rc, err;

    *absent = false;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT) {
            *absent = true;
            return true;
        }
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno), "%s %s: %s", what, path,
                    g_strerror(errno));
        return false;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                    "%s %s: exists and is not a socket; not replacing it", what, path);
        return false;
    }
    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                    "%s %s: path longer than %zu bytes", what, path, sizeof(addr.sun_path) - 1);
        return false;
    }
    strcpy(addr.sun_path, path);
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    rc = probe < 0 ? -1 : connect(probe, (struct sockaddr *)&addr, sizeof(addr));
    err = errno;
    if (probe >= 0) {
        close(probe);
    }
    if (rc == 0 || err == EAGAIN) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                    "%s %s: another process listens on it (another netbe-host?)", what, path);
        return false;
    }
    if (err != ECONNREFUSED) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                    "%s %s: in use, and cannot tell whether by a live process: %s", what, path,
                    g_strerror(err));
        return false;
    }
    return true;
}

/* bind() found @path in use: replace a socket nobody listens on (left by a crash);
 * refuse a live one and anything that is not a socket. Return: true if removed. */
static bool remove_stale(const char *what, const char *path, GError **errp)
{
    bool absent;

    if (!path_usable(what, path, &absent, errp)) {
        return false;
    }
    if (absent) {
        return true; /* gone meanwhile: bind again */
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "%s %s: in use, and cannot tell whether by a live process: %s", what, path,
                    g_strerror(errno));
        return false;
    }
    g_message("%s %s: replaced a stale socket file (nothing listened on it)", what, path);
    return true;
}

bool netbe_unix_path_usable(const char *what, const char *path, GError **errp)
{
    bool absent;

    return path_usable(what, path, &absent, errp);
}

int netbe_unix_listen(const char *what, const char *path, mode_t mode, int backlog,
                      struct stat *made, GError **errp)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    mode_t old_umask;
    int fd, rc;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                    "%s %s: path longer than %zu bytes", what, path, sizeof(addr.sun_path) - 1);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        goto fail;
    }
    for (int attempt = 0;; attempt++) {
        old_umask = umask(~mode & 0777); /* the socket file is created with @mode */
        rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
        umask(old_umask);
        if (rc == 0) {
            break;
        }
        if (errno != EADDRINUSE || attempt > 0) {
            goto fail;
        }
        if (!remove_stale(what, path, errp)) {
            goto out; /* @errp says why */
        }
    }
    if (listen(fd, backlog) < 0 || stat(path, made) < 0) {
        goto fail;
    }
    return fd;
fail:
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno), "%s %s: %s", what, path,
                g_strerror(errno));
out:
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}
