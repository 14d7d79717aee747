#!/bin/bash
# A foreign member of a log's CPG group on real corosync (cluster/group.h "Incompatible
# members"). Nodes 1 and 2 serve a clustered-core log under light write load; on node 3 (its
# cmlogd does not serve the log) tests/func/cpgpeer joins the log's group and multicasts
# crafted messages: a STATE in protocol version 77, foreign magic, a header naming node 1,
# 10 bytes, a COMMIT whose mh_len overstates its bytes, a 200 KiB COMMIT, and each time a
# well-formed version-1 COMMIT marking region 8000 after it.
#
# Required: both daemons reject and count every crafted message (cmlogctl
# rejected_messages; the log lines are rate-limited), mark node 3 incompatible with the
# reason (log line naming the node and the versions), never apply its COMMIT (region 8000 stays clean and in sync), keep answering the
# load (every request answered 0, none waits longer than STALL_MAX_MS: the barrier opened by
# the peer's join completes at the delivery of its first foreign message, not at its leave),
# and end with identical replicas (state sweep + rlog digest). Then a peer that joins and sends
# nothing is excluded through the order after GROUP_SILENT_MS (30 s) while still joined.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
PEER="$top_builddir/tests/func/cpgpeer"
[ -x "$PEER" ] || cl_skip "tests/func/cpgpeer not built"
REGIONS=8192
CTR="$((REGIONS * 8)) clustered-core 8 nosync"
# The peer lingers LINGER_MS after its messages: a stall that long would mean the barrier
# waited for its leave instead of excluding it. A loaded 2-core machine needs some slack.
LINGER_MS=3000
STALL_MAX_MS=${STALL_MAX_MS:-2500}
clu_init 3
for i in 1 2; do clu_activate "$i" "$CTR"; done
echo "ok - log $CLU_UUID served by nodes 1 and 2"

STOP="$CL_TMP/stop-load"
for i in 1 2; do
	cl_bg "$i" "$CL_TMP/load.$i" timeout 300 "$CLU_DRV" --uuid "$CLU_UUID" --luid "$CLU_LUID" \
		--timeout-ms 15000 --stop-file "$STOP" load 3600 7168 2 ||
		clu_fail "cannot start the load on node $i"
	pids[i]=$CL_LAST_PID
done
sleep 1

# count_in i pattern: lines of node i's cmlogd log matching pattern
count_in() { grep -c -- "$2" "${CLU_LOG[$1]}" 2>/dev/null; }
# rejected i: the messages node i's cmlogd rejected for the log (cmlogctl "rejected_messages";
# its log writes at most 5 such lines per 10 s, then a count)
rejected()
{
	cl_exec "$1" timeout 10 "$CMLOGCTL" -j show "$CLU_UUID" 2>/dev/null |
		sed 's/[,{}]/\n/g' | sed -n 's/^ *"rejected_messages": *\([0-9]*\).*/\1/p' | head -n 1
}

run_peer() # expected-reason kinds...
{
	local why=$1 i k before_bad=() before_inc=() sent
	shift
	for i in 1 2; do
		before_bad[i]=$(rejected "$i")
		[ -n "${before_bad[i]}" ] || clu_fail "no rejected_messages from node $i's cmlogctl"
		before_inc[i]=$(count_in "$i" "node 3 is INCOMPATIBLE ($why")
	done
	cl_exec 3 timeout 60 "$PEER" --uuid "$CLU_UUID" --linger-ms "$LINGER_MS" "$@" \
		>"$CL_TMP/peer.out" 2>&1 || {
		cat "$CL_TMP/peer.out"
		clu_fail "cpgpeer $* failed"
	}
	sent=$(grep -c '^sent ' "$CL_TMP/peer.out")
	[ "$sent" = $# ] || clu_fail "cpgpeer sent $sent of $# messages"
	for i in 1 2; do
		for k in $(seq 1 50); do
			[ "$(rejected "$i")" -ge $((before_bad[i] + sent)) ] && break
			sleep 0.1
		done
		[ "$(rejected "$i")" -ge $((before_bad[i] + sent)) ] ||
			clu_fail "node $i did not reject all $sent messages of: $*"
		[ "$(count_in "$i" "node 3 is INCOMPATIBLE ($why")" -gt "${before_inc[i]}" ] ||
			clu_fail "node $i did not mark node 3 incompatible for '$why' ($*)"
		kill -0 "${pids[i]}" 2>/dev/null || clu_fail "node $i's load ended during: $*"
	done
	echo "ok - cpgpeer $*: rejected and counted on nodes 1 and 2, node 3 marked ($why)"
	grep "node 3 is INCOMPATIBLE ($why" "${CLU_LOG[1]}" | tail -n 1 | sed 's/^/# /'
}

run_peer "a protocol version we cannot speak" version commit
run_peer "a message with foreign magic" magic commit
run_peer "a header naming another node" spoof commit
run_peer "a message shorter than the header" short commit
# not foreign by themselves (a cmlogd's header, a bad length): rejected, and the peer is
# marked by the next message that is
run_peer "a protocol version we cannot speak" truncated oversized version commit

touch "$STOP"
for i in 1 2; do
	cl_wait_pid "${pids[i]}" 60 >/dev/null
	rc=$?
	cat "$CL_TMP/load.$i"
	[ "$rc" = 0 ] || clu_fail "the load on node $i failed (exit $rc)"
	lat=$(sed -n 's/.* max_latency_ms=\([0-9]*\).*/\1/p' "$CL_TMP/load.$i")
	if [ -z "$lat" ] || [ "$lat" -gt "$STALL_MAX_MS" ]; then
		clu_fail "node $i: a request waited ${lat:-?} ms (bound $STALL_MAX_MS ms)"
	fi
done
echo "ok - the load on nodes 1 and 2 was answered throughout (bound $STALL_MAX_MS ms)"

# A member that joins and sends nothing: the barrier its join opened waits GROUP_SILENT_MS
# (30 s, cluster/group.h); then the members' EXCLUDE{SILENT} marks it and a FLUSH held by the
# barrier is answered, long before the peer leaves.
SILENT_MS=30000
cl_bg 3 "$CL_TMP/silent.out" timeout 120 "$PEER" --uuid "$CLU_UUID" --linger-ms 90000 ||
	clu_fail "cannot start the silent peer"
silent_pid=$CL_LAST_PID
for k in $(seq 1 100); do
	grep -q '^joined ' "$CL_TMP/silent.out" && break
	sleep 0.1
done
grep -q '^joined ' "$CL_TMP/silent.out" || clu_fail "the silent peer did not join"
t0=$(date +%s%N)
clu_drv 1 --timeout-ms 60000 mark 7500 >/dev/null || clu_fail "MARK + FLUSH on node 1"
held=$((($(date +%s%N) - t0) / 1000000))
kill -0 "$silent_pid" 2>/dev/null || clu_fail "the silent peer left before the FLUSH was answered"
for i in 1 2; do
	[ "$(count_in "$i" "node 3 is INCOMPATIBLE (no STATE within")" -ge 1 ] ||
		clu_fail "node $i did not mark the silent member"
done
echo "ok - a silent member is excluded through the order after GROUP_SILENT_MS: a FLUSH" \
	"waited $held ms (silent bound $SILENT_MS ms), the member was still joined"
[ "$held" -le $((SILENT_MS + 10000)) ] || clu_fail "the FLUSH waited $held ms"
grep "node 3 is INCOMPATIBLE (no STATE" "${CLU_LOG[1]}" | tail -n 1 | sed 's/^/# /'
cl_stop_bg "$silent_pid" 5 >/dev/null 2>&1

sleep 3 # deferred clears leave (GROUP_AL_IDLE_MS)
line=$(clu_drv 1 dump 1 8000 | grep '^state ') || clu_fail "state dump on node 1"
if [ "$(clu_field "$line" clean)" != 1 ] || [ "$(clu_field "$line" in_sync)" != 1 ]; then
	clu_fail "the foreign COMMIT was applied (region 8000): $line"
fi
echo "ok - the foreign member's COMMIT was never applied"
clu_compare "$REGIONS" 1 2
for i in 1 2; do
	clu_status_line "$i" | grep -q 'resumed.*, synced' || clu_fail "node $i is not synced"
done
echo "PASS: cluster bad peer"
