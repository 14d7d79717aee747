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

# C: SIGKILL with log B active, restart, reconnect as the kernel does (Bug B, man cmlogd.8
# "restart survival"): the kernel did not restart, so what the state file records in sync
# stays in sync even where the device says dirty (region 30, marked by B: the kernel wrote it
# to every leg and never asks for resync work again); what was out of sync (1, 9, 17: never
# copied) stays out of sync.
single_wait_state "$U" 125
single_kill_daemon KILL
single_start_daemon
single_driver --uuid "$U" --luid 0x4200 esrch:in-sync:2 \
	"ctr-reconnect:1024 clustered-disk $DEV 8" resume \
	in-sync:30=1 in-sync:1=0 in-sync:17=0 in-sync:2=1 sync-count=125 ||
	single_fail "disk log C: reconnect after SIGKILL"
grep -q 'sync state from' "$SINGLE_LOG" || single_fail "disk log C: state file not used"
echo "ok - after SIGKILL + restart + reconnect: in-sync regions kept (dirty 30 too), 1/9/17 not"

# C kept region 30 in sync but dirty (the live kernel may still be writing it, so a crash
# must resync it): its bit on the device (byte 1027, bit 6) is still 0 = dirty.
[ $((0x$(byte 1027) & 0x40)) -eq 0 ] || single_fail "disk log C: region 30 clean on the device"
echo "ok - the reconnect kept region 30 dirty on the device"

# C2: the same without a state file: conservative (sync := clean) with a clear warning.
# Region 30 is still dirty on the device (above), so it is out of sync now, like 31.
single_driver --uuid "$U" --luid 0x4200 flush:31 || single_fail "disk log C2: mark 31"
single_kill_daemon KILL
rm -f "$SINGLE_DIR"/sync-*
single_start_daemon
single_driver --uuid "$U" --luid 0x4200 "ctr-reconnect:1024 clustered-disk $DEV 8" resume \
	in-sync:30=0 in-sync:31=0 in-sync:2=1 sync-count=123 presuspend postsuspend dtr ||
	single_fail "disk log C2: reconnect without a state file"
grep -q 'without a usable sync state file' "$SINGLE_LOG" || single_fail "disk log C2: no warning"
# the unlink is queued to the state writer thread: allow it a moment
for i in $(seq 1 50); do single_state_file "$U" >/dev/null || break; sleep 0.1; done
single_state_file "$U" >/dev/null && single_fail "disk log C2: DTR left the state file"
echo "ok - without a state file the reconnect is conservative and says so; DTR removes the file"

# E: a log driven fully in sync (all clean on the device), then writes, SIGKILL, restart and
# the kernel's reconnect: every region stays in sync (GET_SYNC_COUNT == region_count).
truncate -s 0 "$DEV"; truncate -s 1M "$DEV"
single_driver --uuid "$U-e" --luid 0x4400 "ctr:1024 clustered-disk $DEV 8 nosync" resume \
	presuspend postsuspend dtr || single_fail "disk log E: all clean"
single_driver --uuid "$U-e" --luid 0x4401 "ctr:1024 clustered-disk $DEV 8" resume \
	sync-count=128 flush:4,5 mark:6 flush || single_fail "disk log E: in sync, then writes"
single_wait_state "$U-e" 128
[ "$(byte 1024)" = 8f ] || single_fail "disk log E: regions 4-6 not dirty (byte $(byte 1024))"
single_kill_daemon KILL
single_start_daemon
single_driver --uuid "$U-e" --luid 0x4401 esrch:in-sync:4 \
	"ctr-reconnect:1024 clustered-disk $DEV 8" resume in-sync:4=1 in-sync:5=1 in-sync:6=1 \
	sync-count=128 clear:4,5,6 flush mark:7 flush || single_fail "disk log E: reconnect"
echo "ok - fully in sync, dirty regions, SIGKILL, restart, reconnect: still 128/128 in sync"
# a normal (non-reconnect) activation after that ignores the file: a crash resyncs dirty ones
single_driver --uuid "$U-e" --luid 0x4401 presuspend postsuspend dtr || single_fail "E: remove"
single_driver --uuid "$U-e" --luid 0x4402 "ctr:1024 clustered-disk $DEV 8" resume \
	in-sync:7=0 sync-count=127 presuspend postsuspend dtr || single_fail "disk log E: fresh CTR"
echo "ok - a fresh activation still resyncs the regions dirty on the device"

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
