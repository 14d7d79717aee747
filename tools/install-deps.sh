#!/bin/sh
# Install every Debian package cmlog needs to build, test and run (Debian 12, as root).
# Usage: tools/install-deps.sh [--e2e]   (--e2e adds qemu and the guest kernel tools)
set -eu
[ "$(id -u)" -eq 0 ] || { echo "install-deps: must run as root (apt-get)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential autoconf automake libtool pkg-config git
 corosync libcpg-dev libquorum-dev libcmap-dev libcorosync-common-dev libvotequorum-dev libcfg-dev jq
 libqb-dev libqb-tools libnl-3-dev libcmocka-dev libjson-c-dev linux-libc-dev
 iproute2 procps psmisc util-linux kmod
 clang libclang-rt-14-dev clang-format cppcheck clang-tools valgrind
 resource-agents"
if [ "${1:-}" = "--e2e" ]; then
	PKGS="$PKGS qemu-system-x86 busybox-static cpio dmsetup"
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
echo "install-deps: done"
