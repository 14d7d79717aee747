#!/bin/bash
# Three nodes writing; node 3's cmlogd and corosync are SIGKILLed under load. The survivors
# keep answering after corosync's token timeout (the longest time without any answer and the
# slowest FLUSH are measured and bounded), the regions node 3 had marked go out of sync on the
# survivors and are resynced from node 1's stand-in (GET_RESYNC_WORK / SET_REGION_SYNC until
# GET_SYNC_COUNT == region_count); node 3 then restarts, rejoins, and all replicas agree.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
REGIONS=8192
CTR="$((REGIONS * 8)) clustered-core 8 nosync"
# corosync 3 stretches the token for 3 nodes: token + (3 - 2) x token_coefficient (650 ms) =
# 1650 ms, and consensus = 1.2 x that = 1980 ms: the survivors form the new ring ~3630 ms
# after the last token (measured: 3.6-3.7 s). Then the group's barrier (one STATE message from
# each survivor, a few ms). Allowed on top: ~1.5 s for a loaded 2-core machine.
STALL_MAX_MS=${STALL_MAX_MS:-5200}
clu_init 3
for i in 1 2 3; do clu_activate "$i" "$CTR"; done
clu_drv 3 mark 8000-8099 >/dev/null || clu_fail "node 3 marks"
echo "ok - node 3 holds 100 marked regions"

for i in 1 2 3; do
	# below region 7168: a kernel never marks a region it already holds (node 3's 8000-8099)
	clu_drv_bg "$i" "$CL_TMP/load.$i" --timeout-ms 15000 load 10 7168 4
	pids[i]=$CL_LAST_PID
done
sleep 3
clu_kill_daemon 3 KILL
cl_kill_corosync 3 || clu_fail "cannot kill node 3's corosync"
echo "ok - node 3: cmlogd and corosync SIGKILLed under load"
for i in 1 2; do
	cl_wait_pid "${pids[i]}" 60 >/dev/null
	rc=$?
	cat "$CL_TMP/load.$i"
	[ "$rc" = 0 ] || clu_fail "the survivors' load on node $i failed (exit $rc)"
	gap=$(sed -n 's/.*max_gap_ms=\([0-9]*\).*/\1/p' "$CL_TMP/load.$i")
	flush=$(sed -n 's/.* max \([0-9]*\) ms;.*/\1/p' "$CL_TMP/load.$i")
	echo "node $i: stall (longest time without an answer) $gap ms, slowest FLUSH $flush ms"
	if [ -z "$gap" ] || [ "$gap" -gt "$STALL_MAX_MS" ]; then
		clu_fail "node $i stalled ${gap:-?} ms (bound $STALL_MAX_MS ms)"
	fi
	if [ -z "$flush" ] || [ "$flush" -gt "$STALL_MAX_MS" ]; then
		clu_fail "node $i: a FLUSH took ${flush:-?} ms (bound $STALL_MAX_MS ms)"
	fi
done
cl_stop_bg "${pids[3]}" 1 >/dev/null 2>&1
echo "ok - the survivors kept answering (bound $STALL_MAX_MS ms)"

sleep 3 # deferred clears of the survivors leave
c1=$(clu_drv 1 sync-count) || clu_fail "GET_SYNC_COUNT on node 1"
c2=$(clu_drv 2 sync-count) || clu_fail "GET_SYNC_COUNT on node 2"
echo "sync count after the crash: node 1 $c1, node 2 $c2 (of $REGIONS)"
[ "$c1" = "$c2" ] || clu_fail "survivors disagree on the sync count"
[ "$c1" -le $((REGIONS - 100)) ] || clu_fail "node 3's marked regions did not go out of sync"
line=$(clu_drv 1 dump 100 8000 | grep '^state ') || clu_fail "state dump on node 1"
[ "$(clu_field "$line" in_sync)" = 0 ] || clu_fail "node 3's regions 8000-8099 still in sync: $line"
echo "ok - node 3's 100 marked regions are out of sync on the survivors"
clu_drv 1 --timeout-ms 5000 resync 60 "$REGIONS" || clu_fail "resync from node 1"
sleep 3
clu_compare "$REGIONS" 1 2

cl_start_node 3 || clu_fail "corosync did not restart on node 3"
cl_wait_membership 1 3 || clu_fail "node 3 did not rejoin the ring"
clu_start_daemon 3
clu_activate 3 "$CTR"
sleep 3
clu_compare "$REGIONS" 1 2 3
line=$(clu_drv 3 dump "$REGIONS" | grep '^state ')
[ "$(clu_field "$line" sync_count)" = "$REGIONS" ] || clu_fail "not fully in sync: $line"
[ "$(clu_field "$line" clean)" = "$REGIONS" ] || clu_fail "dead node's marks not cleared: $line"
echo "PASS: cluster crash"
