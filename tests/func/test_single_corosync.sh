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
[ "$(grep -c "joined cmlog:$U" "$SINGLE_LOG")" -ge 2 ] || single_fail "no re-join logged"
echo "ok - the held FLUSH is answered after corosync is back"

single_driver --uuid "$U" --luid $L clear:2,7 flush presuspend postsuspend dtr ||
	single_fail "suspend and remove after the restart"
single_kill_daemon TERM

# cmlogd started while corosync is down does not fail: it serves its control socket, says
# "connected: no", and joins once corosync is up (cmlogd(8), "Corosync").
cl_kill_corosync 1 || single_fail "cannot kill corosync again"
single_start_daemon
CTL="$top_builddir/cmlogctl"
cl_exec 1 "$CTL" -c /dev/null status >"$SINGLE_DIR/st1.out" || single_fail "no status while corosync is down"
grep -q '^  connected:  no$' "$SINGLE_DIR/st1.out" || single_fail "connected while corosync is down"
grep -q '^  quorate:    no$' "$SINGLE_DIR/st1.out" || single_fail "quorate while corosync is down"
cl_exec 1 "$CTL" -c /dev/null status --cluster >"$SINGLE_DIR/st2.out" ||
	single_fail "status --cluster while corosync is down"
grep -q '^Cluster view: 1 node$' "$SINGLE_DIR/st2.out" || single_fail "status --cluster without corosync: not the local node only"
echo "ok - cmlogd starts while corosync is down and answers status (connected: no) and status --cluster (local node only)"
cl_start_node 1 || single_fail "cannot start corosync"
cl_wait_quorate 1 || single_fail "corosync not quorate"
for i in $(seq 1 50); do
	cl_exec 1 "$CTL" -c /dev/null status 2>/dev/null | grep -q '^  connected:  yes$' && break
	sleep 0.2
done
cl_exec 1 "$CTL" -c /dev/null status | grep -q '^  connected:  yes$' ||
	single_fail "cmlogd did not connect once corosync was up"
single_driver --uuid "$U-late" --luid $L "ctr:1024 clustered-core 8" resume mark:1 flush dtr ||
	single_fail "a log after the late corosync start"
echo "ok - it connects once corosync is up and serves logs"
single_kill_daemon TERM
echo "PASS: corosync loss and return"
