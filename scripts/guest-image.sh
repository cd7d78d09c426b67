#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# guest-image.sh - build (once, cached outside the tree) a bootable Linux guest for the tests.
#
# Usage: scripts/guest-image.sh            prints two lines: the kernel, the initramfs
# Env:   NETBE_GUEST_CACHE (default /var/cache/netbe-guest)  where images are kept
#        NETBE_GUEST_KERNEL (default: the newest linux-image-VER-amd64 apt knows)  VER
#
# The kernel is Debian 12's linux-image-VER-amd64, fetched with `apt-get download` (never
# installed) and unpacked into a temp dir. The initramfs is busybox-static plus the virtio-net
# modules of that kernel (and the modules their depends= field names, recursively; modules
# the kernel has built in are skipped), decompressed, and an /init that mounts proc, sys,
# dev and tmp, loads the modules, quiets the console and then serves a command loop on
# ttyS0 (no echo, no CR):
#   guest prints  __NETBE_READY__                       once, when it takes commands
#   host sends    SEQ COMMAND...                        one line (SEQ: digits, no newline in it)
#   guest prints  __NETBE_BEGIN__ SEQ                   then the command's stdout+stderr
#                 __NETBE_DONE__ SEQ STATUS             STATUS: the command's exit status
# COMMAND runs in `sh -c` with stdin from /dev/null. A DHCP script for udhcpc
# (/etc/udhcpc.script) sets the address, the default route and /etc/resolv.conf.
#
# Images live in CACHE/VER-HASH, HASH being a digest of this script, so a new kernel or a
# change here builds a new one (and images not touched for a week are removed then). Building takes CACHE/.lock (flock), so concurrent callers
# build once and the others wait; an image appears by rename only when complete.
set -euo pipefail

modules_wanted=(virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
                failover net_failover virtio_net)
cache=${NETBE_GUEST_CACHE:-/var/cache/netbe-guest}
busybox=/bin/busybox

die() {
    echo "guest-image: $*" >&2
    exit 1
}

# The newest linux-image-VER-amd64 (a real kernel, not a meta package, not cloud/rt).
newest_kernel() {
    apt-cache pkgnames linux-image- 2>/dev/null |
        sed -n 's/^linux-image-\([0-9][0-9.]*[-+][0-9a-z.+-]*\)-amd64$/\1/p' |
        grep -v -e cloud -e '-rt$' | sort -V | tail -1
}

# busybox-static: its /bin/busybox is the guest's userland (statically linked: the
# initramfs holds no libraries; Debian's dynamic busybox package installs the same path).
need_busybox() {
    [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 &&
        "$busybox" --list | grep -qx udhcpc && return 0
    [ "$(id -u)" -eq 0 ] || die "busybox-static is not installed (as root: apt-get install busybox-static)"
    echo "guest-image: installing busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        busybox-static >/dev/null || die "cannot install busybox-static"
}

# Decompress or copy module file $1 to $2.
unpack_module() {
    case $1 in
    *.ko.xz) xz -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *.ko.gz) gzip -dc "$1" >"$2" ;;
    *.ko) cp "$1" "$2" ;;
    *) return 1 ;;
    esac
}

# Index the kernel's modules ($moddir: its lib/modules/VER) by name, - written _.
declare -A module_file=() builtin=() seen=()
order=()
index_modules() {
    local f b
    while read -r f; do
        b=${f##*/}
        b=${b%%.ko*}
        module_file[${b//-/_}]=$f
    done < <(find "$moddir/kernel" -name '*.ko*')
    while read -r f; do
        b=${f##*/}
        b=${b%.ko}
        builtin[${b//-/_}]=1
    done <"$moddir/modules.builtin"
}

# Add module $1 and, first, the modules its depends= field names, to $order (load order).
add_module() {
    local name=${1//-/_} file dep deps
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    [ -n "${builtin[$name]:-}" ] && return 0
    file=${module_file[$name]:-}
    [ -n "$file" ] || die "module $name: neither in $moddir/kernel nor built in"
    unpack_module "$file" "$work/root/lib/modules/$name.ko" || die "module $name: cannot unpack $file"
    deps=$(tr '\0' '\n' <"$work/root/lib/modules/$name.ko" | sed -n 's/^depends=//p' | head -1)
    for dep in ${deps//,/ }; do
        add_module "$dep"
    done
    order+=("$name")
}

write_init() {
    cat >"$work/root/init" <<'EOF'
#!/bin/sh
# /init of the netbe test guest (scripts/guest-image.sh): set up, then serve commands on ttyS0.
mount -t devtmpfs dev /dev
exec </dev/ttyS0 >/dev/ttyS0 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
dmesg -n 1
for m in $(cat /etc/netbe-modules); do
    insmod "/lib/modules/$m.ko" || echo "__NETBE_MODULE_FAILED__ $m"
done
ip link set lo up
stty -echo -onlcr
echo __NETBE_READY__
while IFS= read -r line; do
    seq=${line%% *}
    cmd=${line#* }
    echo "__NETBE_BEGIN__ $seq"
    sh -c "$cmd" </dev/null 2>&1
    echo "__NETBE_DONE__ $seq $?"
done
echo __NETBE_EOF__
poweroff -f
EOF
    cat >"$work/root/etc/udhcpc.script" <<'EOF'
#!/bin/sh
# udhcpc event script of the netbe test guest: apply the lease.
case $1 in
deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done ;;
esac
exit 0
EOF
    chmod 755 "$work/root/init" "$work/root/etc/udhcpc.script"
}

build_image() {
    local ver=$1 dest=$2 deb applet
    work=$(mktemp -d "$cache/.build-XXXXXX")
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download -q "linux-image-$ver-amd64" >/dev/null 2>"$work/apt.log") || {
        # stale package lists: the mirror dropped that version; refresh once
        apt-get update -q >/dev/null 2>&1 || true
        (cd "$work" && apt-get download -q "linux-image-$ver-amd64" >/dev/null 2>"$work/apt.log") ||
            die "apt-get download linux-image-$ver-amd64 failed: $(tail -1 "$work/apt.log")"
    }
    deb=$(echo "$work"/linux-image-*.deb)
    dpkg-deb -x "$deb" "$work/pkg" || die "dpkg-deb -x $deb failed"
    moddir="$work/pkg/lib/modules/$ver-amd64"
    [ -f "$work/pkg/boot/vmlinuz-$ver-amd64" ] || die "$deb holds no boot/vmlinuz-$ver-amd64"
    [ -d "$moddir/kernel" ] || die "$deb holds no lib/modules/$ver-amd64"

    mkdir -p "$work/root"/{bin,dev,etc,proc,sys,tmp,run,lib/modules,usr/share/udhcpc}
    cp "$busybox" "$work/root/bin/busybox"
    for applet in $("$busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$work/root/bin/$applet"
    done
    index_modules
    for m in "${modules_wanted[@]}"; do
        add_module "$m"
    done
    printf '%s\n' "${order[@]}" >"$work/root/etc/netbe-modules"
    write_init
    (cd "$work/root" && find . | sort | "$busybox" cpio -o -H newc 2>/dev/null | gzip -6) \
        >"$work/initramfs.cpio.gz" || die "cannot pack the initramfs"

    mkdir "$work/out"
    cp "$work/pkg/boot/vmlinuz-$ver-amd64" "$work/out/vmlinuz"
    mv "$work/initramfs.cpio.gz" "$work/out/initramfs.cpio.gz"
    echo "$ver-amd64 modules: ${order[*]}" >"$work/out/README"
    mv "$work/out" "$dest"
    rm -rf "$work"
    trap - EXIT
}

main() {
    local ver hash dest
    mkdir -p "$cache" || die "cannot create $cache"
    ver=${NETBE_GUEST_KERNEL:-$(newest_kernel)}
    if [ -z "$ver" ]; then
        apt-get update -q >/dev/null 2>&1 || die "no linux-image-*-amd64 known and apt-get update failed"
        ver=$(newest_kernel)
        [ -n "$ver" ] || die "apt knows no linux-image-VER-amd64 package"
    fi
    hash=$(sha256sum "$0" | cut -c1-12)
    dest="$cache/$ver-$hash"
    exec 9>"$cache/.lock"
    flock -w 600 9 || die "$cache/.lock: another build held it for 10 minutes"
    if [ ! -f "$dest/initramfs.cpio.gz" ]; then
        need_busybox
        echo "guest-image: building $dest" >&2
        build_image "$ver" "$dest"
        # images of other kernels or script versions, unused for a week, go
        find "$cache" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' ! -path "$dest" \
            -mtime +7 -exec rm -rf {} + 2>/dev/null || true
    fi
    touch "$dest" # its mtime says when it was last used
    exec 9>&-
    echo "$dest/vmlinuz"
    echo "$dest/initramfs.cpio.gz"
}

main "$@"
