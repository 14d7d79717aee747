#!/bin/bash
# Three nodes writing; corosync is SIGKILLed on node 1 and restarted. Node 1's cmlogd holds
# the requests that need the group (no failure answers, it stays up), reconnects when corosync
# is back, rejoins the group, and answers the held requests; nodes 2 and 3 keep serving; all
# replicas agree afterwards.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
REGIONS=8192
CTR="$((REGIONS * 8)) clustered-core 8 nosync"
DOWN_S=4
clu_init 3
for i in 1 2 3; do clu_activate "$i" "$CTR"; done

for i in 2 3; do
	clu_drv_bg "$i" "$CL_TMP/load.$i" --timeout-ms 15000 load 12 "$REGIONS" 4
	pids[i]=$CL_LAST_PID
done
# node 1: its own writers, allowed to wait for the whole outage
clu_drv_bg 1 "$CL_TMP/load.1" --timeout-ms 60000 load 12 "$REGIONS" 2
pids[1]=$CL_LAST_PID
sleep 2
cl_kill_corosync 1 || clu_fail "cannot kill node 1's corosync"
t_down=$(date +%s%N)
echo "ok - node 1: corosync SIGKILLed under load"
clu_drv_bg 1 "$CL_TMP/held" --timeout-ms 60000 held-flush 7
held=$CL_LAST_PID
sleep "$DOWN_S"
kill -0 "${CLU_PID[1]}" 2>/dev/null || clu_fail "node 1's cmlogd died with corosync"
grep -q '^ok - held-flush' "$CL_TMP/held" && clu_fail "node 1 answered a FLUSH without corosync"
grep -q '^not ok' "$CL_TMP/held" "$CL_TMP/load.1" && clu_fail "node 1 answered with a failure"
echo "ok - node 1's cmlogd is up and holds its FLUSH (no answer for ${DOWN_S} s)"

cl_start_node 1 || clu_fail "corosync did not restart on node 1"
cl_wait_membership 1 3 || clu_fail "node 1 did not rejoin the ring"
cl_wait_pid "$held" 60 >/dev/null || { cat "$CL_TMP/held"; clu_fail "held FLUSH not answered"; }
t_up=$(date +%s%N)
cat "$CL_TMP/held"
echo "ok - node 1 answered its held requests $(((t_up - t_down) / 1000000)) ms after corosync died"
for i in 1 2 3; do
	cl_wait_pid "${pids[i]}" 90 >/dev/null
	rc=$?
	cat "$CL_TMP/load.$i"
	[ "$rc" = 0 ] || clu_fail "load on node $i failed (exit $rc)"
done
echo "ok - writers on all nodes finished, every answer as the kernel expects"
sleep 3
# regions node 1 was writing when it dropped out went out of sync on the others: resync
clu_drv 2 --timeout-ms 5000 resync 60 "$REGIONS" || clu_fail "resync from node 2"
sleep 3
clu_compare "$REGIONS" 1 2 3
grep -E 'transport|reconnect|lost|restored' "${CLU_LOG[1]}" | tail -n 5
echo "PASS: corosync restart"
