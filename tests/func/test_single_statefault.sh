#!/bin/bash
# The sync state files fail under cmlogd (one node, real corosync, the kernel stand-in over
# real netlink), through the LD_PRELOAD shim tests/func/faultdisk.so with
# CMLOG_FAULT_STATE_DIR (faults only on the state files; the log device stays healthy):
#  W: writes of the state file fail (EIO, ENOSPC, fsync EIO): the failure is logged with the
#     directory and the error, no state file appears (never a partial one: tmp + rename), the
#     log keeps serving every request, and a SIGKILL + restart + reconnect is conservative
#     (the dirty region is out of sync) and says so.
#  R: the state file cannot be read at the reconnect RESUME (EIO, empty): the RESUME is still
#     answered, conservatively, with a warning naming the reason; with the fault gone the next
#     reconnect uses the file.
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init

DEV="$SINGLE_DIR/logdev"
CTL="$SINGLE_DIR/faultctl"
truncate -s 1M "$DEV" || single_fail "cannot create the log device"
echo ok >"$CTL"

single_use_faultdisk CMLOG_FAULT_STATE_DIR="$SINGLE_DIR" CMLOG_FAULT_CTL="$CTL"

fault() { echo "$1" >"$CTL"; }
alive() { kill -0 "$SINGLE_PID" 2>/dev/null || single_fail "cmlogd exited ($*)"; }
# wait (5 s at most) for a line matching $1 in the current daemon's log
wait_log() {
	local i
	for i in $(seq 1 50); do
		grep -q -- "$1" "$SINGLE_LOG" && return 0
		sleep 0.1
	done
	return 1
}
restart() {
	single_kill_daemon KILL
	single_start_daemon
}

U="single-statefault-$CL_RUN_ID"
single_start_daemon
luid=0x6100
for mode in eio-write enospc eio-sync; do
	luid=$((luid + 1))
	L="$U-$mode"
	# an all-clean device, then an activation that reads it: 128 regions in sync
	truncate -s 0 "$DEV"
	truncate -s 1M "$DEV"
	single_driver --uuid "$L-init" --luid 0x6000 "ctr:1024 clustered-disk $DEV 8 nosync" \
		resume presuspend postsuspend dtr || single_fail "$mode: clean device"
	rm -f "$SINGLE_DIR"/sync-*
	fault "$mode"
	# the first persist of a log is immediate; it fails, and the log serves on
	single_driver --uuid "$L" --luid $luid "ctr:1024 clustered-disk $DEV 8" resume \
		sync-count=128 mark:30 flush in-sync:30=1 flush:31 status=A ||
		single_fail "$mode: the log while its state file cannot be written"
	wait_log "sync state file writes in $SINGLE_DIR failed" ||
		single_fail "$mode: the failed state file write was not logged"
	grep -q "faultdisk: \(write\|fsync\)" "$SINGLE_LOG" ||
		single_fail "$mode: no fault was injected"
	alive "$mode"
	single_state_file "$L" >/dev/null && single_fail "$mode: a state file appeared"
	echo "ok - $mode on the state file: logged ($(grep -o 'last: [^)]*' "$SINGLE_LOG" |
		tail -n 1)), no file, the log served on"

	# SIGKILL + restart + reconnect without a file: region 30 (dirty on the device) is out
	# of sync now, with the warning
	restart
	single_driver --uuid "$L" --luid $luid "ctr-reconnect:1024 clustered-disk $DEV 8" resume \
		in-sync:30=0 in-sync:31=0 in-sync:2=1 sync-count=126 ||
		single_fail "$mode: reconnect without a state file"
	grep -q 'without a usable sync state file (none' "$SINGLE_LOG" ||
		single_fail "$mode: the conservative reconnect did not say so"
	single_state_file "$L" >/dev/null && single_fail "$mode: a state file appeared (fault on)"
	fault ok
	single_driver --uuid "$L" --luid $luid presuspend postsuspend dtr ||
		single_fail "$mode: remove"
	echo "ok - $mode: the reconnect without a file was conservative and said so"
done

# R: the state file exists but cannot be read at the reconnect
L="$U-read"
truncate -s 0 "$DEV"
truncate -s 1M "$DEV"
single_driver --uuid "$L-init" --luid 0x6000 "ctr:1024 clustered-disk $DEV 8 nosync" \
	resume presuspend postsuspend dtr || single_fail "read: clean device"
rm -f "$SINGLE_DIR"/sync-*
fault ok
single_driver --uuid "$L" --luid 0x6200 "ctr:1024 clustered-disk $DEV 8" resume \
	sync-count=128 mark:30 flush || single_fail "read: activation"
single_wait_state "$L" 128
for mode in eio-read short-read; do
	fault "$mode"
	restart
	single_driver --uuid "$L" --luid 0x6200 "ctr-reconnect:1024 clustered-disk $DEV 8" resume \
		in-sync:30=0 in-sync:2=1 sync-count=127 || single_fail "$mode: reconnect"
	grep -q 'without a usable sync state file' "$SINGLE_LOG" ||
		single_fail "$mode: the unreadable state file was not reported"
	grep -q "faultdisk: read" "$SINGLE_LOG" || single_fail "$mode: no read fault injected"
	alive "$mode"
	echo "ok - $mode of the state file at the reconnect: RESUME answered, conservative:" \
		"$(grep -o 'without a usable sync state file ([^)]*)' "$SINGLE_LOG" | tail -n 1)"
done
# The conservative reconnect above rewrote the file (127 in sync: region 30 out); with the
# fault gone the next reconnect uses it.
fault ok
single_wait_state "$L" 127
restart
single_driver --uuid "$L" --luid 0x6200 "ctr-reconnect:1024 clustered-disk $DEV 8" resume \
	in-sync:30=0 in-sync:2=1 sync-count=127 presuspend postsuspend dtr ||
	single_fail "read: reconnect after the repair"
grep -q 'sync state from its file' "$SINGLE_LOG" || single_fail "read: the file was not used"
echo "ok - after the repair the reconnect uses the state file"
echo "PASS: sync state file faults"
