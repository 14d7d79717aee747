#!/bin/sh
# init.sh: /init of the e2e guest's initramfs (busybox sh, PID 1). Stage 1 of the boot.
#
# Loads the virtio/9p/overlay modules (list made by prepare.sh from modprobe --show-depends),
# mounts the host's root read-only over 9p (mount tag "hostroot") under a tmpfs overlay,
# mounts the writable results share (tag "results") at /e2e-results in the new root, copies
# the test modules there so the host's modprobe finds them, moves /dev /proc /sys across and
# switch_roots into the host's own userland to run /etc/guest-stage2.sh (copied to
# /.cmlog-stage2.sh). Any failure here powers the guest off at once: the host then finds no
# status file and reports the boot as failed, with this console output in its log.
PATH=/bin
export PATH

fail() {
	echo "cmlog-init: FAILED: $*"
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
kver=$(cat /etc/kver)

while read -r ko; do
	insmod "$ko" || fail "insmod $ko"
done </etc/boot-modules

# msize 512 KiB and cache=loose: the lower layer is read-only and only read, so page caching
# is safe and makes the host's binaries start much faster under TCG.
opts=trans=virtio,version=9p2000.L,msize=524288,cache=loose
mount -t 9p -o "ro,$opts" hostroot /lower || fail "mount 9p hostroot"
mount -t tmpfs -o mode=0755,size=75% rw /rw || fail "mount tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	fail "mount overlay"
mkdir -p /newroot/e2e-results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 results /newroot/e2e-results ||
	fail "mount 9p results"
mkdir -p "/newroot/lib/modules"
rm -rf "/newroot/lib/modules/$kver"
cp -a "/lib/modules/$kver" "/newroot/lib/modules/$kver" || fail "copy modules"
cp /etc/guest-stage2.sh /newroot/.cmlog-stage2.sh || fail "copy stage 2"

for m in dev proc sys; do
	mkdir -p "/newroot/$m"
	mount --move "/$m" "/newroot/$m" || fail "move /$m"
done
exec switch_root /newroot /bin/sh /.cmlog-stage2.sh
