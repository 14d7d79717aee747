#!/bin/bash
# The clustered-disk log device fails under cmlogd (one node, real corosync, the kernel
# stand-in over real netlink), through the LD_PRELOAD shim tests/func/faultdisk.so, switched
# at run time by writing a mode to a control file:
#  W: for each write fault (EIO, short write, ENOSPC, fdatasync EIO) - the FLUSH whose marks
#     could not be made durable gets -EIO, so do the later ones; STATUS_INFO says D; IN_SYNC,
#     IS_CLEAN, GET_SYNC_COUNT, MARK, CLEAR and a second log on another device keep working;
#     the daemon stays up. After the repair, the log stays D (nothing is retried behind the
#     kernel's back; a suspend + resume before the repair fails the same way) until a
#     suspend + resume (PRESUSPEND, POSTSUSPEND, RESUME) after the repair: then FLUSH
#     succeeds, STATUS_INFO says A, and the regions marked while the device failed are out of
#     sync (never on the device: the resume keeps them dirty).
#  R: for a read fault at RESUME (EIO, short read) - RESUME succeeds with a fresh log, every
#     region out of sync, STATUS_INFO says D (dm-log.c disk_resume: fail_log_device, new log);
#     the log works (the device takes writes); after the repair a suspend + resume shows A.
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init

DEV="$SINGLE_DIR/logdev"   # the failing device
DEV2="$SINGLE_DIR/logdev2" # another log's device: never faulted
CTL="$SINGLE_DIR/faultctl"
truncate -s 1M "$DEV" "$DEV2" || single_fail "cannot create the log devices"
echo ok >"$CTL"

# cmlogd with the shim, through a wrapper (single_start_daemon runs "$CMLOGD")
single_use_faultdisk CMLOG_FAULT_PATH="$DEV" CMLOG_FAULT_CTL="$CTL"
single_start_daemon

fault() { echo "$1" >"$CTL"; }
alive() { kill -0 "$SINGLE_PID" 2>/dev/null || single_fail "cmlogd exited ($*)"; }
# byte at offset $1 of the failing device, as two hex digits
byte() { od -A n -t x1 -j "$1" -N 1 "$DEV" | tr -d ' \n'; }
injected() { grep -c "faultdisk: .*$1" "$SINGLE_LOG"; }

U="single-diskfault-$CL_RUN_ID"
# The other log, on a healthy device, active during every fault below.
single_driver --uuid "$U-other" --luid 0x5000 "ctr:1024 clustered-disk $DEV2 8" resume \
	flush:1 status=A || single_fail "other log: activation"

# An all-clean device (a nosync activation), so a default activation reads 128 in sync and
# regions marked later are the only ones out of sync.
clean_device() {
	truncate -s 0 "$DEV"
	truncate -s 1M "$DEV"
	single_driver --uuid "$U-init" --luid 0x5001 "ctr:1024 clustered-disk $DEV 8 nosync" \
		resume presuspend postsuspend dtr || single_fail "$1: clean device"
}

luid=0x5100
for mode in eio-write short-write enospc eio-sync; do
	luid=$((luid + 1))
	L="$U-$mode"
	clean_device "$mode"
	before=$(injected "")
	single_driver --uuid "$L" --luid $luid "ctr:1024 clustered-disk $DEV 8" resume \
		sync-count=128 flush:1 status=A || single_fail "$mode: healthy start"
	[ "$(byte 1024)" = fd ] || single_fail "$mode: region 1 not on the device ($(byte 1024))"

	fault "$mode"
	# the FLUSH that needs the device: -EIO; then D; reads, marks and clears still work
	single_driver --uuid "$L" --luid $luid eio:flush:5 status=D in-sync:5=1 in-sync:2=1 \
		is-clean:9=1 sync-count=128 mark:6 clear:1 eio:flush eio:flush:7 status=D ||
		single_fail "$mode: behaviour while the device fails"
	single_driver --uuid "$U-other" --luid 0x5000 flush:3 in-sync:3=0 status=A ||
		single_fail "$mode: the other log stopped working"
	alive "$mode"
	[ "$(injected "")" -gt "$before" ] || single_fail "$mode: the shim injected nothing"
	grep -q "write to log device $DEV failed" "$SINGLE_LOG" ||
		single_fail "$mode: the failed write is not logged"
	echo "ok - $mode: the FLUSH needing the device gets -EIO, status D, everything else works"

	# suspend + resume before the repair: the resume's full write fails too; still D, and
	# the regions marked so far (1: its clear never reached the device; 5, 6, 7) stay dirty
	single_driver --uuid "$L" --luid $luid presuspend postsuspend resume \
		sync-count=124 in-sync:5=0 eio:flush:10 status=D ||
		single_fail "$mode: suspend + resume before the repair"

	# repaired: still D, FLUSH still fails, until the kernel suspends and resumes
	fault ok
	single_driver --uuid "$L" --luid $luid status=D eio:flush:8 ||
		single_fail "$mode: recovered without a resume"
	single_driver --uuid "$L" --luid $luid presuspend postsuspend resume status=A flush:9 \
		in-sync:1=0 in-sync:5=0 in-sync:6=0 in-sync:7=0 in-sync:8=0 in-sync:9=1 \
		in-sync:10=0 in-sync:2=1 sync-count=122 status=A ||
		single_fail "$mode: suspend + resume after the repair"
	[ "$(byte 1025)" = f8 ] ||
		single_fail "$mode: regions 8, 9, 10 not dirty on the device ($(byte 1025))"
	[ "$(byte 1024)" = 1d ] ||
		single_fail "$mode: regions 1, 5, 6, 7 not dirty on the device ($(byte 1024))"
	single_driver --uuid "$L" --luid $luid presuspend postsuspend dtr ||
		single_fail "$mode: remove"
	alive "$mode, after recovery"
	echo "ok - $mode: after the repair, suspend + resume: FLUSH works, status A, the" \
		"regions marked during the failure resync"
done

for mode in eio-read short-read; do
	luid=$((luid + 1))
	L="$U-$mode"
	clean_device "$mode"
	fault "$mode"
	single_driver --uuid "$L" --luid $luid "ctr:1024 clustered-disk $DEV 8" resume \
		status=D sync-count=0 in-sync:0=0 in-sync:127=0 flush:4 mark:5 clear:4 flush \
		status=D || single_fail "$mode: RESUME with an unreadable device"
	grep -q "log device $DEV unreadable" "$SINGLE_LOG" ||
		single_fail "$mode: the failed read is not logged"
	alive "$mode"
	fault ok
	# the fresh log was written at the failed RESUME: every region is dirty on the device
	single_driver --uuid "$L" --luid $luid presuspend postsuspend resume status=A \
		sync-count=0 flush:6 presuspend postsuspend dtr ||
		single_fail "$mode: suspend + resume after the repair"
	[ "$(byte 0)$(byte 1)$(byte 2)$(byte 3)" = 7252694d ] ||
		single_fail "$mode: no header on the device after the repair"
	echo "ok - $mode at RESUME: fresh log, all out of sync, status D; A after the repair"
done

single_driver --uuid "$U-other" --luid 0x5000 flush:4 status=A presuspend postsuspend dtr ||
	single_fail "other log: remove"
alive "end"
single_kill_daemon TERM
echo "PASS: log device faults"
