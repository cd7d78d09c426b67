// SPDX-License-Identifier: GPL-2.0-or-later
/* test-vu-access.c - who may connect to a vhost-user socket: netbe-host's own user, and the
 * user named by socket_user (the socket file is given to it), nobody else. Needs root (it
 * switches a child to 'nobody'). */
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vu-rig.h"

/* In a child running as 'nobody': connect to @path and negotiate. Return: 0 if the back-end
 * answered GET_FEATURES, else the connect() errno (or 255 if it connected but got no answer). */
static int connect_as_nobody(const char *path)
{
    struct passwd *pw = getpwnam("nobody");
    pid_t pid;
    int status;

    g_assert_nonnull(pw);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        g_autoptr(GError) err = NULL;
        VuFront *f;

        if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
            _exit(254);
        }
        f = vu_front_connect(path, NULL, &err);
        if (!f) {
            _exit(err->code > 0 && err->code < 254 ? err->code : 253);
        }
        _exit(vu_front_start(f, &err) ? 0 : 255);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The rig's directory traversable by others: only the socket file's mode decides. */
static void open_dir(VuRig *r)
{
    g_autofree char *dir = g_path_get_dirname(r->sock);

    g_assert_cmpint(chmod(dir, 0711), ==, 0);
}

/* Fails if socket_user is ignored (the file stays root's 0600) or the socket is world-open. */
static void test_socket_user_may_connect(void)
{
    VuRig *r = vu_rig_new("socket_user = nobody");
    struct stat st;

    open_dir(r);
    g_assert_cmpint(stat(r->sock, &st), ==, 0);
    g_assert_cmpuint(st.st_uid, ==, getpwnam("nobody")->pw_uid);
    g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(connect_as_nobody(r->sock), ==, 0);
    vu_rig_wait_idle(r);
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

/* Fails if the socket file lets any local user drive the device. */
static void test_other_users_may_not_connect(void)
{
    VuRig *r = vu_rig_new(NULL);

    open_dir(r);
    g_assert_cmpint(connect_as_nobody(r->sock), ==, EACCES);
    vu_rig_check_healthy(r);
    vu_rig_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (geteuid() != 0) {
        g_test_skip("needs root (switches a child to 'nobody')");
        return g_test_run();
    }
    g_test_add_func("/vhost-user/socket-user-may-connect", test_socket_user_may_connect);
    g_test_add_func("/vhost-user/other-users-may-not-connect", test_other_users_may_not_connect);
    return g_test_run();
}
