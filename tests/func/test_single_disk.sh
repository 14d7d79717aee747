#!/bin/bash
# A clustered-disk log on a file: the stand-in's disk scenario, then the bytes on the device
# after a FLUSH (kernel format: magic, version, nr_regions, marked bits), then SIGKILL and a
# restart of cmlogd between requests: the kernel's reconnect path rereads the disk, and the
# regions marked at the crash are resynced.
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init
DEV="$SINGLE_DIR/logdev"
truncate -s 1M "$DEV" || single_fail "cannot create $DEV"
single_start_daemon
single_standin --dev "$DEV" disk || single_fail "stand-in disk scenario failed"

# byte at offset $1 of the device, as two hex digits
byte() { od -A n -t x1 -j "$1" -N 1 "$DEV" | tr -d ' \n'; }

U="single-disk-$CL_RUN_ID"
truncate -s 0 "$DEV"; truncate -s 1M "$DEV"
# A: a nosync log (all clean) with regions 1, 9, 17 marked; suspended and removed
single_driver --uuid "$U" --luid 0x4100 "ctr:1024 clustered-disk $DEV 8 nosync" resume \
	mark:1,9 flush flush:17 sync-count=128 || single_fail "disk log A: activation and marks"
[ "$(byte 0)$(byte 1)$(byte 2)$(byte 3)" = 7252694d ] || single_fail "disk log: magic missing"
[ "$(byte 4)$(byte 5)$(byte 6)$(byte 7)" = 02000000 ] || single_fail "disk log: version not 2"
[ "$(byte 8)$(byte 9)$(byte 10)" = 800000 ] || single_fail "disk log: nr_regions not 128"
[ "$(byte 1024)" = fd ] || single_fail "disk log: region 1 not marked (byte $(byte 1024))"
[ "$(byte 1025)" = fd ] || single_fail "disk log: region 9 not marked (byte $(byte 1025))"
[ "$(byte 1026)" = fd ] || single_fail "disk log: region 17 not marked (byte $(byte 1026))"
[ "$(byte 1027)" = ff ] || single_fail "disk log: regions 24..31 should be clean"
echo "ok - device bytes after FLUSH are the kernel format with regions 1, 9, 17 marked"
single_driver --uuid "$U" --luid 0x4100 presuspend postsuspend dtr ||
	single_fail "disk log A: suspend and remove"
[ "$(byte 1024)$(byte 1025)$(byte 1026)" = fdfdfd ] || single_fail "disk log A: DTR changed the disk"

# B: the same device without nosync: the disk is read at RESUME (marked = out of sync)
single_driver --uuid "$U" --luid 0x4200 "ctr:1024 clustered-disk $DEV 8" resume \
	in-sync:1=0 in-sync:9=0 in-sync:17=0 in-sync:2=1 sync-count=125 mark:30 flush ||
	single_fail "disk log B: resume from the disk"
[ "$(byte 1027)" = bf ] || single_fail "disk log B: region 30 not marked (byte $(byte 1027))"
echo "ok - RESUME reads the clean bitmap back; region 30 marked on the device"

# C: SIGKILL with log B active, restart, reconnect as the kernel does: the disk is reread
single_kill_daemon KILL
single_start_daemon
single_driver --uuid "$U" --luid 0x4200 esrch:in-sync:2 \
	"ctr-reconnect:1024 clustered-disk $DEV 8" resume \
	in-sync:30=0 in-sync:1=0 in-sync:2=1 sync-count=124 presuspend postsuspend dtr ||
	single_fail "disk log C: reconnect after SIGKILL"
echo "ok - after SIGKILL + restart the regions marked on the device are resynced, the rest kept"

# D: a real block device (loop) named as "maj:min", as LVM's tables do: O_DIRECT, BLKSSZGET,
# /sys/dev/block resolution, and the CTR reply names the device as "maj:min".
if command -v losetup >/dev/null 2>&1; then
	truncate -s 1M "$SINGLE_DIR/loopfile"
	LOOP=$(losetup -f --show "$SINGLE_DIR/loopfile" 2>/dev/null) || LOOP=""
fi
if [ -n "${LOOP:-}" ]; then
	cl_on_cleanup "losetup -d $LOOP 2>/dev/null"
	single_standin --dev "$LOOP" disk || single_fail "stand-in disk scenario on $LOOP failed"
	MM=$(printf '%d:%d' "0x$(stat -c %t "$LOOP")" "0x$(stat -c %T "$LOOP")")
	single_driver --uuid "$U-loop" --luid 0x4300 "ctr:1024 clustered-disk $MM 8 nosync" \
		resume mark:0 flush presuspend postsuspend dtr ||
		single_fail "disk log on $MM"
	[ "$(od -A n -t x1 -N 4 "$SINGLE_DIR/loopfile" | tr -d ' \n')" = 7252694d ] ||
		single_fail "no header on the loop device"
	[ "$(od -A n -t x1 -j 1024 -N 1 "$SINGLE_DIR/loopfile" | tr -d ' \n')" = fe ] ||
		single_fail "region 0 not marked on the loop device"
	echo "ok - clustered-disk log on $LOOP given as $MM"
else
	echo "# no loop device available: block-device variant skipped"
fi
single_kill_daemon TERM
echo "PASS: clustered-disk log"
