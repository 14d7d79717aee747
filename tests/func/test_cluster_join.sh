#!/bin/bash
# A node joins a large log under load: nodes 1 and 2 serve a 4M-region log and write (node 1
# also holds marks at the far end of the log); node 3 RESUMEs it meanwhile, so the group
# transfers its state (snapshot chunks) while commits keep flowing. RESUME is answered,
# the writers see no failure, and node 3's replica equals the others (sync count of the
# whole log, IN_SYNC/IS_CLEAN of the written window and of the far end).
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
REGIONS=${JOIN_REGIONS:-$((4 * 1024 * 1024))} # JOIN_REGIONS: e.g. 16777216
CTR="$((REGIONS * 8)) clustered-core 8 nosync"
WRITE=16384 # the writers' window [0, WRITE)
clu_init 3
for i in 1 2; do clu_activate "$i" "$CTR"; done
clu_drv 1 mark "$((REGIONS - 300))-$((REGIONS - 201))" >/dev/null || clu_fail "node 1 marks"
clu_drv 2 mark "$((REGIONS - 250))-$((REGIONS - 151))" >/dev/null || clu_fail "node 2 marks"
echo "ok - $REGIONS-region log active on nodes 1 and 2, far-end regions marked"

for i in 1 2; do
	clu_drv_bg "$i" "$CL_TMP/load.$i" --timeout-ms 15000 load 8 "$WRITE" 4
	pids[i]=$CL_LAST_PID
done
sleep 2
t0=$(date +%s%N)
clu_activate 3 "$CTR"
echo "ok - node 3 joined under load in $((($(date +%s%N) - t0) / 1000000)) ms (CTR + RESUME)"
clu_drv_bg 3 "$CL_TMP/load.3" --timeout-ms 15000 load 3 "$WRITE" 4
pids[3]=$CL_LAST_PID
for i in 1 2 3; do
	cl_wait_pid "${pids[i]}" 60 >/dev/null
	rc=$?
	cat "$CL_TMP/load.$i"
	[ "$rc" = 0 ] || clu_fail "load on node $i failed (exit $rc)"
done
echo "ok - no writer saw a failure during the join"
sleep 3
CLU_WINDOW="$WRITE 0" clu_compare "$REGIONS" 1 2 3
CLU_WINDOW="512 $((REGIONS - 512))" clu_compare "$REGIONS" 1 2 3
line=$(clu_drv 3 dump 512 $((REGIONS - 512)) | grep '^state ')
[ "$(clu_field "$line" clean)" = $((512 - 150)) ] ||
	clu_fail "node 3 does not see the 150 far-end marks: $line"
for i in 1 2 3; do echo "node $i: $(clu_status_line "$i")"; done
echo "PASS: cluster join"
