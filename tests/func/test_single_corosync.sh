#!/bin/bash
# cmlogd survives its corosync: SIGKILL corosync under an active log; a FLUSH sent while the
# transport is down is held (never failed), and is answered once corosync is back and the
# daemon has re-joined the log's CPG group (reconnect timer, group_transport_restored).
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init
single_start_daemon
U="single-corosync-$CL_RUN_ID"
L=0x5000
single_driver --uuid "$U" --luid $L "ctr:1024 clustered-core 8 nosync" resume mark:2 flush ||
	single_fail "activation"

cl_kill_corosync 1 || single_fail "cannot kill corosync"
for i in $(seq 1 50); do grep -q 'transport lost' "$SINGLE_LOG" && break; sleep 0.1; done
grep -q 'transport lost' "$SINGLE_LOG" || single_fail "cmlogd did not notice corosync's death"
kill -0 "$SINGLE_PID" 2>/dev/null || single_fail "cmlogd died with corosync"
echo "ok - cmlogd notices the loss of corosync and keeps running"

# A FLUSH with new marks while corosync is down: held, then answered after the restart.
cl_exec 1 timeout 60 "$DRIVER" --uuid "$U" --luid $L --timeout-ms 30000 mark:7 flush \
	in-sync:7=1 >"$SINGLE_DIR/held.out" 2>&1 &
held=$!
sleep 2
kill -0 $held 2>/dev/null || single_fail "the FLUSH was answered while corosync was down: $(cat "$SINGLE_DIR/held.out")"
cl_start_node 1 || single_fail "cannot restart corosync"
cl_wait_quorate 1 || single_fail "corosync not quorate after the restart"
wait $held || single_fail "held requests failed after the restart: $(cat "$SINGLE_DIR/held.out")"
cat "$SINGLE_DIR/held.out"
[ "$(grep -c 'joined cmlog:' "$SINGLE_LOG")" -ge 2 ] || single_fail "no re-join logged"
echo "ok - the held FLUSH is answered after corosync is back"

single_driver --uuid "$U" --luid $L clear:2,7 flush presuspend postsuspend dtr ||
	single_fail "suspend and remove after the restart"
single_kill_daemon TERM
echo "PASS: corosync loss and return"
