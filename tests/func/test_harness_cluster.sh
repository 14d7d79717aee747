#!/bin/bash
# tests/func/test_harness_cluster.sh: functional test of the multi-node harness (cluster.sh).
#
# Checks, on real corosync 3 nodes in network namespaces, that the harness delivers what every
# other functional test relies on: one node alone is quorate; three nodes form one membership
# and are quorate; a crashed node (SIGKILL) leaves two quorate survivors and rejoins when
# restarted; a partitioned node (link down) goes inquorate while the other two stay quorate,
# and everything merges back after the heal. It also runs the CPG floor program (cpgfloor) across
# the three nodes, stops a run with SIGTERM and reaps a SIGKILLed one. Finally it checks that
# cleanup leaves no netns, link, temp dir or dead process's libqb file of any run behind.
# About 30 s with token 1000 ms.
# Exit codes: 0 pass, 1 fail, 77 skip (not root / tools missing), 99 setup error.

if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
cpgfloor=$top_builddir/tests/bench/cpgfloor
# shellcheck source=tests/func/cluster.sh
. "$top_srcdir/tests/func/cluster.sh"

cl_require_root_or_skip
[ -x "$cpgfloor" ] || { echo "cpgfloor not built: $cpgfloor" >&2; exit 99; }

check_all_members()
{
	local n=$1 i
	for ((i = 1; i <= CL_N; i++)); do
		if [ "$i" = "${2:-0}" ]; then continue; fi
		cl_wait_membership "$i" "$n" || cl_fail "node $i does not see $n members"
		cl_wait_quorate "$i" || cl_fail "node $i not quorate with $n members"
	done
}

check_gone()
{
	local id=$1 left
	left=$(cl_leftovers "$id") || cl_fail "run $id left things behind: $left"
	echo "run $id: nothing left behind"
}

# --- one node ---------------------------------------------------------------------------------
cl_init 1 1000 || exit 99
run1=$CL_RUN_ID
[ "$(cl_ns 1)" != "$(hostname)" ] || cl_fail "netns name equals hostname"
[ "$(cl_node_name 1)" != "$(hostname)" ] || cl_fail "node name equals hostname"
cl_start_node 1 || cl_fail "node 1 did not start"
cl_wait_quorate 1 10 || cl_fail "single node not quorate"
[ "$(cl_member_count 1)" = 1 ] || cl_fail "single node sees $(cl_member_count 1) members"
cl_exec 1 corosync-cpgtool >/dev/null || cl_fail "corosync-cpgtool cannot reach node 1"
# The private /run: corosync's lock is in the node's mount namespace, not on the host.
cl_exec_mnt 1 test -e /run/corosync.pid || cl_fail "no /run/corosync.pid in node 1's /run"
cl_cleanup
check_gone "$run1"
cl_cleanup # idempotent

# --- three nodes ------------------------------------------------------------------------------
cl_init 3 1000 || exit 99
run3=$CL_RUN_ID
[ "$run3" != "$run1" ] || cl_fail "run id reused"
for i in 1 2 3; do
	[ ${#CL_PREFIX} -le 9 ] || cl_fail "prefix too long for 15-char interface names"
	[ -e "/run/netns/$(cl_ns $i)" ] ||
		cl_fail "netns $(cl_ns $i) missing"
done
cl_start_all || cl_fail "nodes did not start"
check_all_members 3

# CPG across the nodes: cpgfloor members on nodes 2 and 3 (in a group whose name holds a comma,
# which cpgtool's CSV does not escape), a short ping run on node 1 that waits for all three.
group="cmh,test:$CL_RUN_ID"
cl_bg 2 "$(cl_node_dir 2)/member.out" "$cpgfloor" member -g "$group" || cl_fail "cl_bg member 2"
m2=$CL_LAST_PID
cl_bg 3 "$(cl_node_dir 3)/member.out" "$cpgfloor" member -g "$group" || cl_fail "cl_bg member 3"
m3=$CL_LAST_PID
cl_wait_cpg 1 "$group" 2 15 || cl_fail "node 1 does not see the two cpgfloor members"
out=$(cl_exec 1 "$cpgfloor" ping -g "$group" -m 3 -n 200 -u 10 -W 20 -l harness) ||
	cl_fail "cpgfloor ping failed: $out"
echo "$out"
echo "$out" | grep -q '^{"tool":"cpgfloor","mode":"ping","label":"harness","members":3,"nodes":3,' ||
	cl_fail "cpgfloor ping did not run with 3 members on 3 nodes"
cl_stop_bg "$m2"
cl_stop_bg "$m3"
grep -q '"peak_members":3,"peak_nodes":3,"delivered":210,' "$(cl_node_dir 2)/member.out" ||
	cl_fail "member on node 2 did not deliver the 210 messages: $(cat "$(cl_node_dir 2)/member.out")"
cl_wait_cpg 1 "$group" 0 10 || cl_fail "group not empty after the members stopped"

# A background client in a node: its pid is recorded and cleanup must kill it.
cl_bg 2 "$(cl_node_dir 2)/sleeper.log" sleep 300 || cl_fail "cl_bg"
sleeper=$CL_LAST_PID
kill -0 "$sleeper" || cl_fail "background process not running"
[ "$(stat -L -c %i /proc/$sleeper/ns/net)" = "$(cl_exec 2 stat -L -c %i /proc/self/ns/net)" ] ||
	cl_fail "background process not in node 2's netns"

# Crash node 3: the other two see 2 members and stay quorate (2 of 3 votes). Its libqb
# blackbox ring stays in /dev/shm (a later process with its pid would meet it) until cleanup.
crashed=$(cl_corosync_pid 3)
ring=""
for f in /dev/shm/qb-corosync-"$crashed"-blackbox-header /tmp/corosync-"$crashed"-blackbox-header; do
	[ -e "$f" ] && ring=$f
done
cl_kill_corosync 3 || cl_fail "kill node 3"
if [ -n "$ring" ]; then
	[ -e "$ring" ] || cl_fail "the SIGKILLed corosync's blackbox ring $ring is already gone"
else
	echo "# corosync $crashed has no blackbox ring: the cleanup check below has nothing to see"
fi
check_all_members 2 3
cl_start_node 3 || cl_fail "restart node 3"
check_all_members 3

# Clean stop and restart, too.
cl_stop_corosync 2 || cl_fail "clean stop of node 2"
cl_wait_membership 1 2 || cl_fail "node 1 does not see node 2 leave"
cl_start_node 2 || cl_fail "restart node 2"
check_all_members 3

# Partition node 1: alone it has 1 of 3 votes.
cl_partition 1 || cl_fail "partition node 1"
cl_wait_inquorate 1 || cl_fail "partitioned node 1 stays quorate"
cl_wait_membership 1 1 || cl_fail "partitioned node 1 still sees others"
for i in 2 3; do
	cl_wait_membership "$i" 2 || cl_fail "node $i does not see node 1 go"
	cl_wait_quorate "$i" || cl_fail "node $i lost quorum"
done
cl_heal 1 || cl_fail "heal node 1"
check_all_members 3

nslist=$(for i in 1 2 3; do cl_ns "$i"; done)
cl_cleanup
_cl_alive "$sleeper" && cl_fail "background process $sleeper survived cleanup"
for ns in $nslist; do
	[ -e "/run/netns/$ns" ] && cl_fail "netns $ns survived cleanup"
done
check_gone "$run3"
for f in /dev/shm/qb-corosync-"$crashed"-blackbox-* /tmp/corosync-"$crashed"-blackbox-*; do
	[ -e "$f" ] && cl_fail "cleanup left the dead corosync's libqb file $f"
done
[ -n "$ring" ] && echo "ok - cleanup removed the libqb files of the SIGKILLed corosync $crashed"

# SIGTERM to a script using the library: its trap must clean up. (bash runs a trap only
# after the foreground command ends, so the script waits with `wait`, which a signal breaks.)
bash -c '. "$1"; cl_init 2 1000 || exit 99; echo "$CL_RUN_ID"; cl_start_all >/dev/null 2>&1
	cl_bg 1 /dev/null sleep 300; wait $CL_LAST_PID' term-run "$top_srcdir/tests/func/cluster.sh" \
	>"${TMPDIR:-/tmp}/cmh-term.$$" 2>/dev/null &
termer=$!
for ((t = 0; t < 100; t++)); do
	termid=$(cat "${TMPDIR:-/tmp}/cmh-term.$$")
	[ -n "$termid" ] && [ -n "$(cl_leftovers "$termid")" ] && break
	sleep 0.1
done
rm -f "${TMPDIR:-/tmp}/cmh-term.$$"
[ -n "$termid" ] || cl_fail "the SIGTERM run did not start"
sleep 1
kill -TERM "$termer"
wait "$termer"
rc=$?
[ "$rc" = 143 ] || cl_fail "SIGTERMed run exited $rc, expected 143"
check_gone "$termid"

# A SIGKILLed owner leaves its run behind; cl_reap_stale removes exactly that run.
killid=$(bash -c '. "$1"; CL_QUIET=1 cl_init 1 1000 || exit 99; echo "$CL_RUN_ID"
	cl_start_node 1 >/dev/null 2>&1; kill -KILL $$' kill-run "$top_srcdir/tests/func/cluster.sh")
[ -n "$killid" ] || cl_fail "the SIGKILL run did not start"
cl_leftovers "$killid" >/dev/null && cl_fail "SIGKILLed run $killid left nothing to reap"
cl_reap_stale "$killid"
check_gone "$killid"
echo "PASS: harness cluster test"
exit 0
