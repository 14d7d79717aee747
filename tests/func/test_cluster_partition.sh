#!/bin/bash
# Partition: node 1's link goes down under load. Node 1 (minority, inquorate) holds its
# state-changing requests (its FLUSH is not answered while partitioned, and nothing is failed),
# nodes 2 and 3 (majority) keep serving their writers. Heal: node 1 rejoins clean, its held
# requests are answered, the dead side's out-of-sync regions are resynced, replicas agree.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
REGIONS=8192
CTR="$((REGIONS * 8)) clustered-core 8 nosync"
HOLD_S=5
clu_init 3
for i in 1 2 3; do clu_activate "$i" "$CTR"; done

clu_drv_bg 1 "$CL_TMP/load.1" --timeout-ms 60000 load 4 "$REGIONS" 2
pids[1]=$CL_LAST_PID
sleep 1
cl_partition 1 || clu_fail "cannot take node 1's link down"
t_part=$(date +%s%N)
cl_wait_inquorate 1 20 || clu_fail "node 1 did not become inquorate"
for i in 2 3; do cl_wait_membership "$i" 2 20 || clu_fail "node $i did not drop node 1"; done
echo "ok - partitioned: node 1 alone and inquorate, nodes 2+3 quorate"
for i in 2 3; do
	clu_drv_bg "$i" "$CL_TMP/load.$i" --timeout-ms 10000 load "$HOLD_S" "$REGIONS" 4
	pids[i]=$CL_LAST_PID
done
clu_drv_bg 1 "$CL_TMP/held" --timeout-ms 60000 held-flush 9
held=$CL_LAST_PID
for i in 2 3; do
	cl_wait_pid "${pids[i]}" 60 >/dev/null
	rc=$?
	cat "$CL_TMP/load.$i"
	[ "$rc" = 0 ] || clu_fail "the majority's load on node $i failed (exit $rc)"
done
echo "ok - the majority served its writers while partitioned"
kill -0 "$held" 2>/dev/null || { cat "$CL_TMP/held"; clu_fail "the minority's FLUSH was answered"; }
grep -q '^not ok' "$CL_TMP/held" "$CL_TMP/load.1" && clu_fail "node 1 answered with a failure"
kill -0 "${CLU_PID[1]}" 2>/dev/null || clu_fail "node 1's cmlogd died"
echo "ok - node 1 (minority) holds its FLUSH, no failure answers"

cl_heal 1 || clu_fail "cannot heal node 1's link"
t_heal=$(date +%s%N)
cl_wait_membership 1 3 30 || clu_fail "node 1 did not rejoin the ring"
cl_wait_pid "$held" 60 >/dev/null || { cat "$CL_TMP/held"; clu_fail "held FLUSH failed"; }
cat "$CL_TMP/held"
echo "ok - node 1's held FLUSH answered $((($(date +%s%N) - t_heal) / 1000000)) ms after the heal" \
	"(partitioned for $(((t_heal - t_part) / 1000000)) ms)"
cl_wait_pid "${pids[1]}" 60 >/dev/null || { cat "$CL_TMP/load.1"; clu_fail "node 1's writers failed"; }
cat "$CL_TMP/load.1"
grep -E 'merge|stale|quorum' "${CLU_LOG[1]}" | tail -n 4
sleep 3
clu_drv 2 --timeout-ms 5000 resync 60 "$REGIONS" || clu_fail "resync from node 2"
sleep 3
clu_compare "$REGIONS" 1 2 3
echo "PASS: cluster partition"
