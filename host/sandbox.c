// SPDX-License-Identifier: GPL-2.0-or-later
/* sandbox.c - netbe-host's seccomp filter: only the syscalls netbe uses, on every thread. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include "sandbox.h"

#define SANDBOX_ERROR (g_quark_from_static_string("netbe-sandbox-error-quark"))

/*
 * The syscalls netbe-host makes once it serves, found by tracing (strace -f) the tests'
 * scenarios with --sandbox=off: hubs of socket netdevs (stream, datagram, unix, inherited
 * fds), TAP hubs and handovers, user NAT (DHCP, TCP through the NAT, hostfwd) and its
 * handover, the control socket, live handovers as source and destination. A few more are
 * marked: paths the tests do not reach, where refusing would break a daemon for nothing.
 */
static const char *const sandbox_allowed[] = {
    /* memory, threads, signals (libc, GLib's main loop) */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex", "set_robust_list", "rseq",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall", "exit", "exit_group",
    "getrandom", "prlimit64",
    /* ids: the control socket and the handover compare SO_PEERCRED with them; an abort()
     * raises with tgkill */
    "getpid", "gettid", "tgkill", "getuid", "geteuid", "getgid", "getegid",
    /* time: the vDSO answers, the syscalls are its fallback */
    "clock_gettime", "gettimeofday",
    /* waiting: GLib polls and wakes up with an eventfd; the handover polls with deadlines */
    "poll", "ppoll", "eventfd2",
    /* fds and files: logs, /etc/resolv.conf (slirp's DNS), /dev/net/tun (deferred TAPs),
     * /proc/self/fd/N, unix socket paths; memfd_create and flock for the handover */
    "read", "write", "readv", "writev", "close", "fcntl", "lseek", "openat", "newfstatat", "fstat",
    "unlink", "umask", "memfd_create", "flock",
    /* sockets: data path, reconnects, slirp's NAT and hostfwd (accept), the control socket,
     * the handover channel (SCM_RIGHTS, SO_PEERCRED) */
    "connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername", "getsockopt",
    "setsockopt", "sendto", "sendmsg", "recvfrom", "recvmsg", "shutdown",
    /* datagram queues in batches (core/queue-dgram.c) */
    "recvmmsg", "sendmmsg",
    /* batched queue I/O: the ring is set up before the filter and restricted to reads and
     * writes (core/io-engine.c); only submitting is allowed */
    "io_uring_enter",
    /* socket, ioctl, clone, clone3 and prctl are argument-checked: sandbox_add_arg_rules() */
};

/* Socket families netbe uses: unix (control, handover, socket netdevs), IPv4, IPv6. */
static const int sandbox_socket_families[] = {AF_UNIX, AF_INET, AF_INET6};

/* ioctl requests: TAP setup, offloads, queues (tap plugin); FIONREAD and FIONBIO. */
static const unsigned long sandbox_ioctls[] = {
    TUNSETIFF,       TUNGETIFF,    TUNGETFEATURES, TUNSETOFFLOAD, TUNSETVNETHDRSZ,
    TUNGETVNETHDRSZ, TUNSETQUEUE,  TUNSETSNDBUF,   TUNGETSNDBUF,  TUNSETVNETLE,
    TUNSETVNETBE,    TUNGETVNETLE, TUNGETVNETBE,   SIOCGIFFLAGS,  SIOCGIFINDEX,
    SIOCGIFMTU,      FIONREAD,     FIONBIO,        TCGETS,
};

/* Threads only (GLib's worker): a clone that makes a process is refused. */
#define SANDBOX_THREAD_FLAGS (CLONE_VM | CLONE_THREAD)

#ifdef NETBE_SANITIZED
/* LeakSanitizer at exit: a tracer task (clone without CLONE_THREAD) that ptraces every
 * thread and waits for it; the sanitizers' reports may read /proc/self/maps. */
static const char *const sandbox_sanitizer[] = {
    "ptrace",
    "wait4",
    "waitid",
    "prctl",
    "sched_getaffinity",
    "sched_yield",
    "getppid",
    "kill",
    "open",
    "readlink",
    "readlinkat",
    "pipe",
    "pipe2",
    "dup2",
    "dup3",
    "sigaltstack",
    "nanosleep",
    "clock_nanosleep",
    "getdents",
    "getdents64",
    "stat",
    "lstat",
    "statx",
    "pread64",
    "uname",
    "arch_prctl",
};
#endif

/* Names of syscalls by number, for the SIGSYS handler (it may not allocate). */
#define SANDBOX_MAX_NR 512
static char *sandbox_names[SANDBOX_MAX_NR];
static unsigned long sandbox_reported[SANDBOX_MAX_NR / (8 * sizeof(unsigned long))];

/* Append @s to @buf at *@off (async-signal-safe). */
static void sandbox_put(char *buf, size_t size, size_t *off, const char *s)
{
    while (*s && *off + 1 < size) {
        buf[(*off)++] = *s++;
    }
}

/* SIGSYS from SECCOMP_RET_TRAP: log the syscall once, make it return -EPERM. */
static void sandbox_sigsys(int sig, siginfo_t *si, void *uc_void)
{
    ucontext_t *uc = uc_void;
    unsigned nr = (unsigned)si->si_syscall;
    unsigned long bit = 1UL << (nr % (8 * sizeof(unsigned long)));
    char num[12], buf[256];
    size_t off = 0, n = sizeof(num) - 1;
    int saved = errno;

    (void)sig;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
    uc->uc_mcontext.regs[0] = -EPERM;
#endif
    if (nr >= SANDBOX_MAX_NR ||
        !(__atomic_fetch_or(&sandbox_reported[nr / (8 * sizeof(unsigned long))], bit,
                            __ATOMIC_RELAXED) &
          bit)) {
        num[n] = '\0';
        do {
            num[--n] = (char)('0' + nr % 10);
            nr /= 10;
        } while (nr && n);
        sandbox_put(buf, sizeof(buf), &off, "netbe-host: sandbox: refused syscall ");
        nr = (unsigned)si->si_syscall;
        sandbox_put(buf, sizeof(buf), &off,
                    nr < SANDBOX_MAX_NR && sandbox_names[nr] ? sandbox_names[nr] : "?");
        sandbox_put(buf, sizeof(buf), &off, " (");
        sandbox_put(buf, sizeof(buf), &off, num + n);
        sandbox_put(buf, sizeof(buf), &off,
                    ") with EPERM; if netbe or a plugin needs it, "
                    "report it (--sandbox=off to confirm)\n");
        if (write(STDERR_FILENO, buf, off) < 0) {
            /* nowhere else to say it */
        }
    }
    errno = saved;
}

/* Resolve every syscall name once, and catch SIGSYS. */
static bool sandbox_prepare_trap(GError **errp)
{
    struct sigaction sa = {.sa_sigaction = sandbox_sigsys, .sa_flags = SA_SIGINFO};

    for (int nr = 0; nr < SANDBOX_MAX_NR; nr++) {
        if (!sandbox_names[nr]) {
            sandbox_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        }
    }
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0) {
        g_set_error(errp, SANDBOX_ERROR, errno, "sandbox: sigaction(SIGSYS): %s",
                    g_strerror(errno));
        return false;
    }
    return true;
}

/* Allow syscall @name (any arguments). Return: false if unknown and @must_exist. */
static bool sandbox_allow_name(scmp_filter_ctx ctx, const char *name, bool must_exist,
                               GError **errp)
{
    int nr = seccomp_syscall_resolve_name(name);
    int rc;

    if (nr == __NR_SCMP_ERROR) {
        if (must_exist) {
            g_set_error(errp, SANDBOX_ERROR, EINVAL,
                        "sandbox: a plugin asks for syscall "
                        "'%s', which libseccomp %u.%u does not know on this architecture",
                        name, seccomp_version()->major, seccomp_version()->minor);
        }
        return !must_exist; /* a name of another architecture (e.g. "open" on aarch64) */
    }
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    if (rc < 0) {
        g_set_error(errp, SANDBOX_ERROR, -rc, "sandbox: cannot allow %s: %s", name,
                    g_strerror(-rc));
        return false;
    }
    return true;
}

/* The rules that look at arguments: socket families, ioctl requests, thread clones. */
static bool sandbox_add_arg_rules(scmp_filter_ctx ctx, GError **errp)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS(sandbox_socket_families); i++) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_socket_families[i]));
    }
    /* the kernel takes the request as 32 bits: compare those, whatever the caller's type */
    for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS(sandbox_ioctls); i++) {
        rc = seccomp_rule_add(
            ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
            SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)(uint32_t)sandbox_ioctls[i]));
    }
    /* a thread names itself as it starts (GLib's worker, if a library starts one; it blocks
     * every signal, so a refusal there would kill the process instead of failing) */
    if (rc == 0) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                              SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
    }
#ifdef NETBE_SANITIZED
    if (rc == 0) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
    }
#else
    if (rc == 0) {
        rc = seccomp_rule_add(
            ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
            SCMP_A0(SCMP_CMP_MASKED_EQ, SANDBOX_THREAD_FLAGS, SANDBOX_THREAD_FLAGS));
    }
#endif
    /* clone3 passes its flags in memory, out of the filter's sight: ENOSYS makes glibc
     * fall back to clone, which is checked */
    if (rc == 0) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    }
    if (rc < 0) {
        g_set_error(errp, SANDBOX_ERROR, -rc, "sandbox: cannot add argument rules: %s",
                    g_strerror(-rc));
        return false;
    }
    return true;
}

/* Allow every name of @names (NULL-terminated when @n is 0, else @n of them). */
static bool sandbox_allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n,
                               bool must_exist, GError **errp)
{
    for (size_t i = 0; names && (n ? i < n : names[i] != NULL); i++) {
        if (!sandbox_allow_name(ctx, names[i], must_exist, errp)) {
            return false;
        }
    }
    return true;
}

/* The filter, compiled: a classic BPF program for seccomp(2). */
struct SandboxFilter {
    struct sock_fprog prog;
};

/* Compile @ctx into a BPF program that sandbox_enter() loads without libseccomp. */
static SandboxFilter *sandbox_export(scmp_filter_ctx ctx, GError **errp)
{
    SandboxFilter *f = NULL;
    struct stat st;
    int fd = memfd_create("netbe-seccomp", MFD_CLOEXEC);
    int rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);

    if (rc == 0 && fstat(fd, &st) < 0) {
        rc = -errno;
    }
    if (rc == 0 && (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
                    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)) {
        rc = -EINVAL;
    }
    if (rc == 0) {
        f = g_new0(SandboxFilter, 1);
        f->prog.len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
        f->prog.filter = g_malloc(st.st_size);
        if (pread(fd, f->prog.filter, st.st_size, 0) != st.st_size) {
            rc = -EIO;
            sandbox_filter_free(f);
            f = NULL;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    if (!f) {
        g_set_error(errp, SANDBOX_ERROR, -rc, "sandbox: cannot compile the seccomp filter: %s",
                    g_strerror(-rc));
    }
    return f;
}

SandboxFilter *sandbox_prepare(const char *const *extra, GError **errp)
{
    /* SIGSYS and a logged EPERM where the handler can set the return value */
#if defined(__x86_64__) || defined(__aarch64__)
    uint32_t deny = SCMP_ACT_TRAP;
#else
    uint32_t deny = SCMP_ACT_ERRNO(EPERM);
#endif
    scmp_filter_ctx ctx = seccomp_init(deny);
    SandboxFilter *f = NULL;

    if (!ctx) {
        g_set_error(errp, SANDBOX_ERROR, ENOMEM, "sandbox: seccomp_init failed");
        return NULL;
    }
    if (!sandbox_allow_list(ctx, sandbox_allowed, G_N_ELEMENTS(sandbox_allowed), false, errp) ||
#ifdef NETBE_SANITIZED
        !sandbox_allow_list(ctx, sandbox_sanitizer, G_N_ELEMENTS(sandbox_sanitizer), false, errp) ||
#endif
        !sandbox_allow_list(ctx, extra, 0, true, errp) || !sandbox_add_arg_rules(ctx, errp)) {
        goto out;
    }
    if (deny == SCMP_ACT_TRAP && !sandbox_prepare_trap(errp)) {
        goto out;
    }
    f = sandbox_export(ctx, errp);
out:
    seccomp_release(ctx);
    return f;
}

bool sandbox_enter(const SandboxFilter *f, GError **errp)
{
    long rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

    if (rc == 0) {
        rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &f->prog);
    }
    if (rc != 0) {
        /* with TSYNC, a positive answer names a thread that has another filter */
        g_set_error(errp, SANDBOX_ERROR, rc < 0 ? errno : EINVAL,
                    "sandbox: the kernel refused the seccomp filter: %s%s",
                    g_strerror(rc < 0 ? errno : EINVAL),
                    rc > 0 ? " (a thread has another filter)" : "");
        return false;
    }
    return true;
}

void sandbox_filter_free(SandboxFilter *f)
{
    if (f) {
        g_free(f->prog.filter);
        g_free(f);
    }
}
