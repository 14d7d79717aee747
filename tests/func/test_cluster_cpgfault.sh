#!/bin/bash
# CPG back-pressure with real corosync (RELIABILITY.md row 21): three nodes, cmlogd on each;
# node 1's cmlogd runs under the LD_PRELOAD shim tests/func/faultcpg.so, which answers
# CPGFAULT_PCT percent (default 35) of its cpg_mcast_joined calls with CS_ERR_TRY_AGAIN (every
# 4th refusal CS_ERR_QUEUE_FULL) without sending, and its first 3 cpg_join calls with
# CS_ERR_TRY_AGAIN. cluster/cpg.c must turn each refusal into -EAGAIN plus a retry timer (the
# group keeps the message) and retry the join. Two logs in turn, each active on all three
# nodes: a clustered-core log, then a clustered-disk log on a device file all nodes share whose
# preferred disk writer is node 1 (so the writer handover and the disk writer's own messages go
# through the refusals too).
#
# Required for each log: activation works on every node; under concurrent write load on all
# nodes (cluster_drv load) every MARK/CLEAR/FLUSH is answered 0 and IN_SYNC 0|1, nothing times
# out and no request waits longer than STALL_MAX_MS (default 3000: the retry backoff is capped
# at 200 ms, so only a lost message gets near it); node 1's log shows both refusals and at least
# CPGFAULT_MIN (default 200) of them; then overlapping held marks, injection switched off
# through the control file, deferred clears settle, and the kernel-visible state plus the rlog
# digest are identical on the three nodes. The shim's counts show nothing was refused while
# switched off.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/cluster_lib.sh
. "$top_srcdir/tests/func/cluster_lib.sh"
SHIM="$top_builddir/tests/func/faultcpg.so"
DRIVER="$top_builddir/tests/func/daemon_driver"
REAL_CMLOGD="$CMLOGD"
N=3
REGIONS=8192
PCT=${CPGFAULT_PCT:-35}
JOINS=3
MIN_INJECTED=${CPGFAULT_MIN:-200}
STALL_MAX_MS=${STALL_MAX_MS:-3000}
LOAD_S=${CPGFAULT_LOAD_S:-5}

[ -x "$DRIVER" ] || cl_skip "tests/func/daemon_driver not built"
[ -f "$SHIM" ] || cl_skip "tests/func/faultcpg.so not built"
clu_init "$N" nostart

CTL="$(cl_node_dir 1)/cpgctl"
echo on >"$CTL"
CMLOGD=$(clu_shim_daemon 1 "$SHIM" CMLOG_FAULT_CPG_PCT="$PCT" CMLOG_FAULT_CPG_JOIN="$JOINS" \
	CMLOG_FAULT_CPG_CTL="$CTL") || exit 99
clu_start_daemon 1
CMLOGD="$REAL_CMLOGD"
clu_start_daemon 2
clu_start_daemon 3
LOG1=${CLU_LOG[1]}

grep -q "faultcpg: armed: $PCT% " "$LOG1" || clu_fail "node 1's cmlogd does not run under the shim"
# "ready" comes before the daemon group is joined: the join is retried (cluster/cpg.c join
# timer, 100 ms) and must be accepted after the last refusal
joined=0
for k in $(seq 1 100); do
	awk '/^faultcpg: cpg_join\(/ { r = NR } r && NR > r && /info cpg .*: joined / { ok = 1 }
		END { exit !ok }' "$LOG1" && { joined=1; break; }
	sleep 0.1
done
[ "$joined" = 1 ] || clu_fail "node 1: no successful cpg_join after the refusals (10 s)"
j=$(grep -c 'faultcpg: cpg_join(.*) -> CS_ERR_TRY_AGAIN' "$LOG1")
[ "$j" = "$JOINS" ] || clu_fail "node 1: $j cpg_join refusals, want $JOINS"
echo "ok - node 1's first $JOINS cpg_join calls refused (CS_ERR_TRY_AGAIN), cmlogd ready"

# mcast_count: the newest "N injected of" count node 1's shim reported for cpg_mcast_joined
# (a refusal line, or the line of a control-file switch, after the first `from` lines of its log)
mcast_count()
{
	tail -n +"$((${1:-0} + 1))" "$LOG1" |
		sed -n 's/^faultcpg: \(cpg_mcast_joined -> \|injection \).*(\([0-9]*\) injected of.*/\2/p' |
		tail -n 1
}

# wait_switch word from: node 1's shim reports the switch to `word` after line `from` (5 s)
wait_switch()
{
	local k
	for k in $(seq 1 50); do
		tail -n +"$(($2 + 1))" "$LOG1" | grep -q "^faultcpg: injection $1 " && return 0
		sleep 0.1
	done
	return 1
}

MAXLAT=0
TOTAL_OFF=0
# run_log type: one log (core or disk) through activation, load, held marks and comparison
run_log()
{
	local type=$1 base=$TOTAL_OFF i rc lat line from n q want bits k
	local -a pids
	case $type in
	core)
		CLU_LUID=0x5100
		CTR="$((REGIONS * 8)) clustered-core 8 nosync"
		;;
	disk)
		# a uuid whose preferred disk writer (cluster/group.h "Writer") is node 1
		CLU_UUID=$(clu_uuid_for_writer "$CLU_UUID" 1 "$N") || clu_fail "no uuid prefers node 1"
		CLU_LUID=0x5200
		DEV="$CL_TMP/logdev" # "shared storage": the same file for every node
		truncate -s 1M "$DEV" || clu_fail "cannot create $DEV"
		CTR="$((REGIONS * 8)) clustered-disk $DEV 8 nosync"
		;;
	esac
	from=$(wc -l <"$LOG1")
	echo on >"$CTL"
	# node 1 last: for the disk log the writer is handed over to it through the refusals
	# (a joining node's RESUME waits for the state transfer: ms, bounded at 10 s here)
	for i in 2 3 1; do
		clu_drv "$i" --timeout-ms 10000 activate "$CTR" || clu_fail "activation on node $i"
	done
	if [ "$type" = disk ]; then
		clu_wait_writer "$CLU_UUID" 1 1 2 3 || clu_fail "node 1 did not become the disk writer"
		echo "ok - node 1 (under the shim) took over as the disk writer"
	fi
	echo "ok - clustered-$type log $CLU_UUID active on $N nodes"

	for i in 1 2 3; do
		clu_drv_bg "$i" "$CL_TMP/load.$type.$i" --timeout-ms 20000 load "$LOAD_S" "$REGIONS" 4
		pids[i]=$CL_LAST_PID
	done
	for i in 1 2 3; do
		cl_wait_pid "${pids[i]}" 90 >/dev/null
		rc=$?
		cat "$CL_TMP/load.$type.$i"
		[ "$rc" = 0 ] || clu_fail "write load on node $i failed (exit $rc)"
		grep -q '^ok - load: .* 0 errors, 0 timeouts' "$CL_TMP/load.$type.$i" ||
			clu_fail "node $i: no clean load summary"
		lat=$(sed -n 's/.* max_latency_ms=\([0-9]*\).*/\1/p' "$CL_TMP/load.$type.$i")
		[ -n "$lat" ] || clu_fail "node $i: no max_latency_ms"
		[ "$lat" -le "$STALL_MAX_MS" ] ||
			clu_fail "node $i: a request waited $lat ms (bound $STALL_MAX_MS ms)"
		[ "$lat" -gt "$MAXLAT" ] && MAXLAT=$lat
	done
	echo "ok - $type: concurrent writes on $N nodes, every answer as the kernel expects"

	n=$(mcast_count "$from")
	for q in CS_ERR_TRY_AGAIN CS_ERR_QUEUE_FULL; do
		tail -n +"$((from + 1))" "$LOG1" | grep -q "^faultcpg: cpg_mcast_joined -> $q (" ||
			clu_fail "node 1: no $q reported during the $type log's activation and load"
	done
	[ "$((${n:-0} - base))" -ge "$MIN_INJECTED" ] ||
		clu_fail "node 1: only $((${n:-0} - base)) sends refused (want >= $MIN_INJECTED)"

	# marks left in place, overlapping between nodes: regions 1000..1019 stay dirty everywhere;
	# node 1 sends half of its marks under injection, the other half after it is switched off
	clu_drv 1 mark 1000-1004 >/dev/null || clu_fail "node 1 marks (injection on)"
	clu_drv 2 mark 1005-1014 >/dev/null || clu_fail "node 2 marks"
	clu_drv 3 mark 1010-1019 >/dev/null || clu_fail "node 3 marks"
	from=$(wc -l <"$LOG1")
	echo ok >"$CTL"
	sleep 0.2 # the shim reads its control file at most every 100 ms
	clu_drv 1 mark 1005-1009 >/dev/null || clu_fail "node 1 marks (injection off)"
	wait_switch off "$from" || clu_fail "node 1's shim did not report the switch off"
	n=$(mcast_count "$from")
	echo "ok - $type: node 1 refused $((n - base)) sends (>= $MIN_INJECTED; $n in all)," \
		"injection now off"
	TOTAL_OFF=$n

	sleep 3 # deferred clears leave after GROUP_AL_IDLE_MS (2 s) without writes
	clu_compare "$REGIONS" 1 2 3
	line=$(clu_drv 1 dump "$REGIONS" | grep '^state ')
	[ "$(clu_field "$line" sync_count)" = "$REGIONS" ] || clu_fail "nosync log lost sync: $line"
	[ "$(clu_field "$line" clean)" = $((REGIONS - 20)) ] ||
		clu_fail "expected exactly the 20 held marks dirty: $line"
	if [ "$type" = disk ]; then
		# the device: the kernel's header ("MirR") and a bitmap (1 bit per region, set =
		# clean, at byte 1024) with exactly regions 1000..1019 dirty: bytes 125, 126 = 00,
		# byte 127 = f0 (the writer writes the deferred clears after the idle time)
		want=$(python3 -c 'import sys
b = bytearray(b"\xff" * (int(sys.argv[1]) // 8))
for r in range(1000, 1020):
	b[r // 8] &= ~(1 << (r % 8)) & 0xff
print(b.hex())' "$REGIONS")
		for k in $(seq 1 100); do
			bits=$(od -v -A n -t x1 -j 1024 -N $((REGIONS / 8)) "$DEV" | tr -d ' \n')
			[ "$bits" = "$want" ] && break
			sleep 0.1
		done
		[ "$(od -A n -t x1 -N 4 "$DEV" | tr -d ' \n')" = 7252694d ] ||
			clu_fail "no log header on $DEV"
		if [ "$bits" != "$want" ]; then
			od -v -A d -t x1 -j 1024 -N $((REGIONS / 8)) "$DEV" |
				grep -v '\( ff\)\{16\}$' | head -5 >&2
			clu_fail "the device's bitmap is not the held marks (bytes shown, offset from 0)"
		fi
		echo "ok - the log device holds the header and exactly the 20 held marks"
	fi
	for i in 1 2 3; do echo "node $i: $(clu_status_line "$i")"; done
}

BASE_UUID=$CLU_UUID
run_log core
# switched on again: the count it reports is the one reported at the switch off, so nothing
# was refused in between
off=$TOTAL_OFF
CLU_UUID=$BASE_UUID
run_log disk
on=$(sed -n 's/^faultcpg: injection on (\([0-9]*\) injected of.*/\1/p' "$LOG1" | head -n 1)
[ "$on" = "$off" ] || clu_fail "refusals while switched off: $off at the switch off, $on at on"

# the shim's total at exit: nothing refused after the second switch off either (cmlogd
# refuses a SIGTERM while logs are active: node 1's kernel removes both first)
for l in "$BASE_UUID 0x5100" "$CLU_UUID 0x5200"; do
	cl_exec 1 timeout 60 "$DRIVER" --uuid "${l% *}" --luid "${l#* }" --timeout-ms 20000 \
		presuspend postsuspend dtr >/dev/null || clu_fail "removing ${l% *} on node 1"
done
clu_kill_daemon 1 TERM
total=$(sed -n 's/^faultcpg: total: \([0-9]*\) injected of.*/\1/p' "$LOG1" | tail -n 1)
[ "$total" = "$TOTAL_OFF" ] ||
	clu_fail "node 1's shim: total ${total:-none} at exit, $TOTAL_OFF at the switch off"
grep '^faultcpg: total:' "$LOG1"
echo "ok - nothing refused while injection was off (counts $off/$on, $TOTAL_OFF/$total)"
echo "# RELIABILITY: cpg back-pressure: $TOTAL_OFF sends refused on node 1 ($PCT %, 2 logs)," \
	"$JOINS joins refused, max request latency $MAXLAT ms (bound $STALL_MAX_MS ms)"
echo "PASS: cluster CPG back-pressure (CS_ERR_TRY_AGAIN / CS_ERR_QUEUE_FULL)"
