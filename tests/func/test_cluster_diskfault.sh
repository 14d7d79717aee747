#!/bin/bash
# Three real corosync nodes, cmlogd on each (with the LD_PRELOAD shim tests/func/faultdisk.so,
# one control file per node), one clustered-disk log on a device file all nodes share, active
# on every node. The disk writer's path to the device fails (write EIO, on that node only):
# the kernel on EVERY node gets -EIO for the FLUSH whose marks could not be made durable and
# for the later ones, STATUS_INFO says D everywhere, reads/marks/clears keep working, no daemon
# exits; a node that suspends and resumes alone rejoins the failed log (D). After the repair, a cluster-wide suspend + resume (PRESUSPEND, POSTSUSPEND on all
# nodes, then RESUME on all, as for a table reload): FLUSH works on every node, A everywhere,
# and the regions marked while the device failed are out of sync on every node.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
SHIM="$top_builddir/tests/func/faultdisk.so"
DRIVER="$top_builddir/tests/func/daemon_driver"
REAL_CMLOGD="$CMLOGD"
N=3

[ -x "$DRIVER" ] || cl_skip "tests/func/daemon_driver not built"
[ -f "$SHIM" ] || cl_skip "tests/func/faultdisk.so not built"
clu_init "$N" nostart

DEV="$CL_TMP/logdev" # "shared storage": the same file for every node
truncate -s 1M "$DEV" || clu_fail "cannot create $DEV"
for i in $(seq 1 "$N"); do
	d=$(cl_node_dir "$i")
	echo ok >"$d/faultctl"
	CMLOGD=$(clu_shim_daemon "$i" "$SHIM" CMLOG_FAULT_PATH="$DEV" \
		CMLOG_FAULT_CTL="$d/faultctl") || clu_fail "no cmlogd wrapper for node $i"
	clu_start_daemon "$i"
	CMLOGD=$REAL_CMLOGD
done

U="cluster-diskfault-$CL_RUN_ID"
drv() {
	local i=$1
	shift
	cl_exec "$i" timeout 120 "$DRIVER" --uuid "$U" --timeout-ms 20000 "$@"
}
alive() {
	local i
	for i in $(seq 1 "$N"); do
		kill -0 "${CLU_PID[i]}" 2>/dev/null || clu_fail "cmlogd on node $i exited ($*)"
	done
}

# An all-clean device (a nosync activation on node 1), then the log on every node.
drv 1 --luid 0x6000 "ctr:1024 clustered-disk $DEV 8 nosync" resume presuspend postsuspend \
	dtr || clu_fail "clean device"
# node 2 resumes first: it is the master and the first disk writer; once the others are in,
# the writer is handed over to the preferred member (cluster/group.h "Writer")
for i in 2 3 1; do
	drv "$i" --luid 0x6001 "ctr:1024 clustered-disk $DEV 8" resume sync-count=128 ||
		clu_fail "activation on node $i"
done
W=$(clu_preferred_writer "$U" "$N")
clu_wait_writer "$U" "$W" $(seq 1 "$N") || clu_fail "the nodes do not all name node $W the writer"
grep -q "log $U: disk writer is node 2" "${CLU_LOG[2]}" ||
	clu_fail "node 2 (the master) never was the disk writer"
grep -q "log $U: disk writer is node $W" "${CLU_LOG[W]}" ||
	clu_fail "node $W's log does not name it the disk writer"
for i in $(seq 1 "$N"); do
	drv "$i" --luid 0x6001 flush:"$i" status=A || clu_fail "healthy FLUSH on node $i"
done
echo "ok - log active on $N nodes, healthy FLUSHes, the disk writer is node $W (preferred)"

echo eio-write >"$(cl_node_dir "$W")/faultctl"
for i in $(seq 1 "$N"); do
	drv "$i" --luid 0x6001 eio:flush:$((10 + i)) status=D in-sync:$((10 + i))=1 \
		is-clean:50=1 sync-count=128 mark:$((20 + i)) clear:"$i" eio:flush status=D ||
		clu_fail "node $i while the writer's device fails"
done
alive "device failed"
grep -q "faultdisk: .*EIO" "${CLU_LOG[W]}" || clu_fail "no fault injected on node $W"
echo "ok - writer's device fails: -EIO for FLUSHes on every node, D everywhere, reads work"

# a node that suspends and resumes alone joins the failed log: D from the state transfer
J=$((W % N + 1))
drv "$J" --luid 0x6001 presuspend postsuspend resume status=D eio:flush:40 in-sync:40=1 ||
	clu_fail "node $J rejoining the failed log"
echo "ok - node $J resumed alone into the failed log: D, FLUSH -EIO"

echo ok >"$(cl_node_dir "$W")/faultctl"
for i in $(seq 1 "$N"); do
	drv "$i" --luid 0x6001 status=D presuspend postsuspend || clu_fail "suspend on node $i"
done
for i in $(seq 1 "$N"); do
	drv "$i" --luid 0x6001 resume || clu_fail "resume on node $i"
done
# regions 1-3 (marked, durable), 11-13, 21-23 and 40 (marked while the device failed) are dirty
for i in $(seq 1 "$N"); do
	drv "$i" --luid 0x6001 status=A flush:$((30 + i)) status=A in-sync:$((10 + i))=0 \
		in-sync:$((20 + i))=0 in-sync:"$i"=0 in-sync:40=0 in-sync:50=1 sync-count=118 ||
		clu_fail "node $i after the repair and suspend + resume"
done
alive "recovered"
echo "ok - after the repair, suspend + resume on every node: FLUSH works, A everywhere," \
	"regions marked during the failure resync"
for i in $(seq 1 "$N"); do
	drv "$i" --luid 0x6001 presuspend postsuspend dtr || clu_fail "remove on node $i"
done
for i in $(seq 1 "$N"); do clu_kill_daemon "$i" TERM; done
echo "PASS: cluster log device fault"
