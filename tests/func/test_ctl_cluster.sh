#!/bin/bash
# shellcheck disable=SC2154 # top_srcdir/top_builddir come from the harness
# `cmlogctl status --cluster` against real cmlogd on three corosync nodes: one node's query
# lists every node's daemon (through the daemon group "cmlog!daemon") and the log on each,
# the replica digests are equal on every node, `members` lists the three daemons, and a node
# whose cmlogd is gone disappears from the view (it leaves the daemon group).
set -u
. "$top_srcdir/tests/func/cluster.sh"

CMLOGD="$top_builddir/daemon/cmlogd"
CMLOGCTL="$top_builddir/cmlogctl"
DRIVER="$top_builddir/tests/func/daemon_driver"
cl_require_root_or_skip
if ! [ -x "$CMLOGD" ] || ! [ -x "$CMLOGCTL" ] || ! [ -x "$DRIVER" ]; then
	cl_skip "cmlogd/cmlogctl not built"
fi
command -v jq >/dev/null || cl_skip "jq not installed"
N=3
cl_init $N 1000 || exit 99
cl_start_all || cl_fail "corosync did not start"
cl_wait_membership 1 $N || cl_fail "no membership of $N"
cl_wait_quorate 1 || cl_fail "not quorate"

declare -a PIDS
dump_logs() {
	local i
	if [ "${FAILED:-0}" != 0 ]; then
		for i in $(seq 1 $N); do
			echo "---- cmlogd on node $i"
			tail -n 40 "$(cl_node_dir "$i")/cmlogd.log" 2>/dev/null
		done
	fi
}
cl_on_cleanup dump_logs
fail() {
	FAILED=1
	cl_fail "$@"
}

ctl() { # node, args...
	local i=$1
	shift
	cl_exec "$i" "$CMLOGCTL" -c /dev/null "$@"
}

for i in $(seq 1 $N); do
	d=$(cl_node_dir "$i")
	cl_bg "$i" "$d/cmlogd.log" "$CMLOGD" -f -d --userspace-peer -c /dev/null \
		--pidfile "$d/cmlogd.pid" --state-dir "$d"
	PIDS[i]=$CL_LAST_PID
done
for i in $(seq 1 $N); do
	for _ in $(seq 1 100); do
		grep -q 'ready: netlink port' "$(cl_node_dir "$i")/cmlogd.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'ready: netlink port' "$(cl_node_dir "$i")/cmlogd.log" || fail "cmlogd $i not ready"
done
# corosync-cpgtool prints our group names with their trailing NUL (the strlen+1 convention),
# which cl_wait_cpg cannot match: count the daemon group's members through cmlogctl instead.
wait_daemons() { # node count
	local _
	for _ in $(seq 1 150); do
		[ "$(ctl "$1" members --json 2>/dev/null | jq '.members | length')" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
wait_daemons 1 $N || fail "the daemon group has not $N members"
echo "ok - $N daemons joined the daemon group cmlog!daemon"

U="ctl-cluster-$CL_RUN_ID"
for i in $(seq 1 $N); do
	cl_exec "$i" timeout 60 "$DRIVER" --uuid "$U" --luid 0x10 "ctr:1024 clustered-core 8" resume \
		>/dev/null || fail "activation on node $i"
done
cl_exec 1 timeout 60 "$DRIVER" --uuid "$U" --luid 0x10 mark:3,9 flush >/dev/null ||
	fail "writes on node 1"

# Every node answers, every node has the log, and every replica has the same digest.
ok=0
for _ in $(seq 1 50); do
	ctl 1 status --cluster --json >"$CL_TMP/cluster.json" || fail "status --cluster failed"
	nodes=$(jq '.nodes | length' "$CL_TMP/cluster.json")
	answered=$(jq '[.nodes[] | select(.reachable)] | length' "$CL_TMP/cluster.json")
	withlog=$(jq --arg u "$U" '[.nodes[] | select(.status.logs | any(.uuid == $u and .state == "resumed" and .synced))] | length' "$CL_TMP/cluster.json")
	digests=$(jq -r --arg u "$U" '[.nodes[].status.logs[] | select(.uuid == $u) | .digest] | unique | length' "$CL_TMP/cluster.json")
	if [ "$nodes" = $N ] && [ "$answered" = $N ] && [ "$withlog" = $N ] && [ "$digests" = 1 ]; then
		ok=1
		break
	fi
	sleep 0.2
done
[ $ok = 1 ] || { cat "$CL_TMP/cluster.json"; fail "cluster view: nodes=$nodes answered=$answered with log=$withlog digests=$digests"; }
ids=$(jq -c '[.nodes[].node_id]' "$CL_TMP/cluster.json")
echo "ok - node 1's status --cluster lists $N daemons $ids, each with the log resumed and synced"
echo "ok - the replica digest is identical on all $N nodes: $(jq -r --arg u "$U" '[.nodes[].status.logs[] | select(.uuid == $u) | .digest][0]' "$CL_TMP/cluster.json")"
marks=$(jq -r --arg u "$U" '[.nodes[].status.logs[] | select(.uuid == $u) | .marks[] | select(.regions == 2)] | length' "$CL_TMP/cluster.json")
[ "$marks" = $N ] || fail "node 1's 2 marked regions are not seen by every node ($marks)"
echo "ok - every node sees node 1's 2 marked regions"

# The text view from another node shows every node and the log row.
ctl 2 status --cluster >"$CL_TMP/cluster.txt" || fail "text status --cluster failed"
grep -q "Cluster view: $N nodes" "$CL_TMP/cluster.txt" || { cat "$CL_TMP/cluster.txt"; fail "text view header"; }
grep -q "$U" "$CL_TMP/cluster.txt" || fail "text view lacks the log"
echo "ok - node 2's text view: $N nodes and the log"

# members: the three daemons with their protocol version and log count.
for _ in $(seq 1 20); do
	ctl 3 members --json >"$CL_TMP/members.json" || fail "members failed"
	[ "$(jq '[.members[] | select(.logs == 1 and .protocol_max >= 1)] | length' "$CL_TMP/members.json")" = $N ] && break
	sleep 0.2
done
[ "$(jq '[.members[] | select(.logs == 1 and .protocol_max >= 1)] | length' "$CL_TMP/members.json")" = $N ] ||
	{ cat "$CL_TMP/members.json"; fail "members does not list $N daemons with one log each"; }
[ "$(jq '[.members[] | select(.local)] | length' "$CL_TMP/members.json")" = 1 ] || fail "members: not exactly one local"
echo "ok - members on node 3 lists $N daemons, one log each, itself marked local"

# A member that does not answer (stopped, still in the group) is shown as "no answer" after
# the 2 s collection timeout; the others still answer.
kill -STOP "${PIDS[3]}"
t0=$(date +%s%N)
ctl 1 status --cluster --json >"$CL_TMP/cluster-stop.json" || { kill -CONT "${PIDS[3]}"; fail "status --cluster with a stopped daemon"; }
t1=$(date +%s%N)
kill -CONT "${PIDS[3]}"
ms=$(((t1 - t0) / 1000000))
[ "$(jq -r '.nodes[] | select(.node_id == 3) | "\(.reachable) \(.error)"' "$CL_TMP/cluster-stop.json")" = "false no answer" ] ||
	{ cat "$CL_TMP/cluster-stop.json"; fail "the stopped daemon is not shown as 'no answer'"; }
[ "$(jq '[.nodes[] | select(.reachable)] | length' "$CL_TMP/cluster-stop.json")" = 2 ] || fail "the others did not answer"
if [ "$ms" -lt 1900 ] || [ "$ms" -ge 4500 ]; then
	fail "answer after $ms ms (expected the 2 s timeout)"
fi
echo "ok - a stopped daemon is shown as 'no answer' after $ms ms; the other two answered"

# A node whose cmlogd is gone leaves the daemon group and the view.
kill -KILL "${PIDS[3]}"
cl_wait_pid "${PIDS[3]}" 10 >/dev/null
wait_daemons 1 2 || fail "the daemon group did not shrink"
t0=$(date +%s%N)
ctl 1 status --cluster --json >"$CL_TMP/cluster2.json" || fail "status --cluster after a kill"
t1=$(date +%s%N)
[ "$(jq '.nodes | length' "$CL_TMP/cluster2.json")" = 2 ] || { cat "$CL_TMP/cluster2.json"; fail "the dead daemon is still listed"; }
echo "ok - after SIGKILL of node 3's cmlogd the view has 2 nodes ($(((t1 - t0) / 1000000)) ms)"

# The dump shows the daemon group's membership changes.
ctl 1 dump --json >"$CL_TMP/dump.json" || fail "dump failed"
jq -e '[.events[] | select(.kind == "membership" and (.text | test("daemon group")))] | length > 0' \
	"$CL_TMP/dump.json" >/dev/null || fail "no daemon group membership in the flight recorder"
echo "ok - the flight recorder has the daemon group's membership changes"
echo "PASS: status --cluster"
