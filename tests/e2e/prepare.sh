#!/bin/bash
# prepare.sh: make a bootable guest for the end-to-end tier: Debian's own 6.1 kernel and a
# small initramfs (busybox-static, the modules, tests/e2e/init.sh as /init).
#
# Usage: tests/e2e/prepare.sh [CACHE_DIR]
#   CACHE_DIR defaults to $CMLOG_E2E_CACHE, else $top_builddir/tests/e2e/cache, else ./tests/e2e/cache.
# On success it prints the path of CACHE_DIR/guest.env (KVER, KERNEL, INITRD) and exits 0.
# Exit 77 (with "SKIP: <reason>" on stderr) when this machine cannot provide a guest: a tool
# or the kernel package is missing and cannot be installed (not root, no apt source, no
# network). Exit 99 on anything else (a bug in this script or a broken package).
#
# Reproducible from a fresh Debian 12 machine as root: it installs what is missing
# (qemu-system-x86 busybox-static cpio kmod dmsetup), picks the NEWEST
# linux-image-6.1.0-<N>-amd64 that apt-cache knows (never a fixed N), downloads it with
# `apt-get download`, unpacks it with dpkg-deb -x, runs depmod -b, and takes the load order
# of the modules from `modprobe -d <root> --show-depends`. The result is cached and
# reused; it is rebuilt when the newest kernel changes or this script, init.sh or
# guest-stage2.sh change. Concurrent callers serialise on a lock in CACHE_DIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${CMLOG_E2E_CACHE:-${top_builddir:-.}/tests/e2e/cache}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "prepare: ERROR: $*" >&2; exit 99; }
log() { echo "prepare: $*" >&2; }

# Modules the guest needs. BOOT_MODULES are insmod-ed by /init to reach the host's root
# (virtio PCI, 9p, overlay); TEST_MODULES are shipped with a modules.dep so that the test
# itself loads them with the host's modprobe (the device-mapper stack, loop, networking).
BOOT_MODULES="virtio_pci 9pnet_virtio 9p overlay"
TEST_MODULES="dm-mod dm-log dm-region-hash dm-mirror dm-log-userspace loop virtio_net virtio_blk"

exec 9>"$cache/.lock"
flock 9

# --- tools -------------------------------------------------------------------------
need_pkgs=""
command -v qemu-system-x86_64 >/dev/null || need_pkgs="$need_pkgs qemu-system-x86"
# The initramfs needs a static busybox with switch_root (package busybox-static).
# grep reads the whole list (no -q): busybox writes it unbuffered, one write per name, and an
# early-exiting grep -q made it die of SIGPIPE, which pipefail turned into "not ok" (a CI
# run skipped a guest that way while the other guest's qemu loaded the machine).
busybox_ok() {
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 &&
		/bin/busybox --list 2>/dev/null | grep -x switch_root >/dev/null
}
busybox_ok || need_pkgs="$need_pkgs busybox-static"
command -v cpio >/dev/null || need_pkgs="$need_pkgs cpio"
command -v depmod >/dev/null || [ -x /sbin/depmod ] || need_pkgs="$need_pkgs kmod"
command -v dmsetup >/dev/null || [ -x /sbin/dmsetup ] || need_pkgs="$need_pkgs dmsetup"
command -v dpkg-deb >/dev/null || skip "dpkg-deb not found: not a Debian machine"
command -v apt-get >/dev/null || skip "apt-get not found: not a Debian machine"
export PATH="$PATH:/sbin:/usr/sbin"

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 0
	apt_updated=1
	[ "$(id -u)" = 0 ] || return 1
	log "apt-get update"
	apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || return 1
}

if [ -n "$need_pkgs" ]; then
	[ "$(id -u)" = 0 ] || skip "missing Debian packages:$need_pkgs (run as root to install them)"
	log "installing:$need_pkgs"
	if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
		--no-install-recommends $need_pkgs >&2; then
		apt_update || true
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
			--no-install-recommends $need_pkgs >&2 ||
			skip "cannot install:$need_pkgs (apt-get install failed)"
	fi
fi
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not available"
busybox_ok || skip "/bin/busybox is not a static busybox with switch_root (busybox-static)"

# --- which kernel --------------------------------------------------------------------
newest_kernel() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -1
}
pkg=$(newest_kernel)
if [ -z "$pkg" ] && apt_update; then
	pkg=$(newest_kernel)
fi
# Inputs of the initramfs: a change in any of them rebuilds it.
inputs_sum=$(cat "$0" "$here/init.sh" "$here/guest-stage2.sh" | sha256sum | cut -c1-16)

if [ -z "$pkg" ]; then
	# No apt source knows the kernel (offline machine): reuse a complete cache if there is one.
	if [ -f "$cache/guest.env" ] && grep -q "^INPUTS=$inputs_sum\$" "$cache/guest.env"; then
		log "no linux-image-6.1.0-*-amd64 in apt-cache; reusing the cached guest"
		echo "$cache/guest.env"
		exit 0
	fi
	skip "apt-cache knows no linux-image-6.1.0-*-amd64 package (Debian 12 bookworm sources needed)"
fi
kver=${pkg#linux-image-}
if [ -f "$cache/guest.env" ] && grep -q "^KVER=$kver\$" "$cache/guest.env" &&
	grep -q "^INPUTS=$inputs_sum\$" "$cache/guest.env" &&
	[ -f "$cache/vmlinuz-$kver" ] && [ -f "$cache/initrd-$kver.img" ]; then
	echo "$cache/guest.env"
	exit 0
fi

# --- download and unpack ---------------------------------------------------------------
rm -f "$cache/guest.env"
deb=$(ls "$cache"/"${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
	log "downloading $pkg"
	rm -f "$cache"/linux-image-*.deb
	(cd "$cache" && apt-get download "$pkg" >&2 2>/dev/null) ||
		(apt_update && cd "$cache" && apt-get download "$pkg" >&2) ||
		skip "apt-get download $pkg failed (no network or no apt source?)"
	deb=$(ls "$cache"/"${pkg}"_*_amd64.deb 2>/dev/null | sort -V | tail -1)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache"
fi
root="$cache/kroot"
rm -rf "$root"
log "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$root" || die "dpkg-deb -x $deb failed"
[ -f "$root/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
[ -d "$root/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
depmod -b "$root" "$kver" || die "depmod -b $root $kver failed"

# --- initramfs -----------------------------------------------------------------------
stage="$cache/initramfs"
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,lower,rw,newroot,etc,lib/modules/"$kver"}
cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$stage/bin/$applet"
done
# Load order from the kernel's own dependency data; "builtin X" lines need no file.
show_deps() { # module...
	local m
	for m in "$@"; do
		modprobe -d "$root" -S "$kver" --show-depends "$m" ||
			die "modprobe --show-depends $m failed for $kver"
	done | awk '$1 == "insmod" { if (!seen[$2]++) print $2 }'
}
: >"$stage/etc/boot-modules"
for ko in $(show_deps $BOOT_MODULES); do
	rel=${ko#"$root"/lib/modules/"$kver"/}
	echo "/lib/modules/$kver/$rel" >>"$stage/etc/boot-modules"
done
for ko in $(show_deps $BOOT_MODULES $TEST_MODULES); do
	rel=${ko#"$root"/lib/modules/"$kver"/}
	mkdir -p "$stage/lib/modules/$kver/$(dirname "$rel")"
	cp "$ko" "$stage/lib/modules/$kver/$rel"
done
cp "$root/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$stage/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$stage" "$kver" || die "depmod of the initramfs module subset failed"
echo "$kver" >"$stage/etc/kver"
install -m 0755 "$here/init.sh" "$stage/init"
install -m 0755 "$here/guest-stage2.sh" "$stage/etc/guest-stage2.sh"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --reproducible --quiet) | gzip -1 >"$cache/initrd-$kver.img.tmp" ||
	die "cpio of the initramfs failed"
# Drop the products of older kernels before adding this one's.
for f in "$cache"/vmlinuz-* "$cache"/initrd-*.img; do
	case "$f" in *"$kver"*) ;; *) rm -f "$f" ;; esac
done
mv "$cache/initrd-$kver.img.tmp" "$cache/initrd-$kver.img"
cp "$root/boot/vmlinuz-$kver" "$cache/vmlinuz-$kver"
# Keep the .deb (download cache) and the products; the 400 MB tree is not needed any more.
rm -rf "$root" "$stage"
cat >"$cache/guest.env.tmp" <<ENV
KVER=$kver
KERNEL=$cache/vmlinuz-$kver
INITRD=$cache/initrd-$kver.img
INPUTS=$inputs_sum
ENV
mv "$cache/guest.env.tmp" "$cache/guest.env"
log "guest ready: $kver"
echo "$cache/guest.env"
