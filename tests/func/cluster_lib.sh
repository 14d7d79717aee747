# tests/func/cluster_lib.sh: N real corosync nodes (tests/func/cluster.sh) with cmlogd on each
# and one mirror log driven by tests/func/cluster_drv, for the multi-node functional tests and
# tools/demo.sh (bash, sourced; needs top_srcdir and top_builddir).
#
#   clu_init N                  skip unless root + corosync + built; N nodes, token 1000 ms,
#                               all members of one ring; cmlogd started on every node
#   clu_start_daemon i          cmlogd -f --userspace-peer on node i; waits for "ready"
#   clu_kill_daemon i [sig]     signal node i's cmlogd (default KILL), wait until it is gone
#   clu_drv i args...           cluster_drv --uuid $CLU_UUID --luid $CLU_LUID on node i
#   clu_drv_bg i out args...    the same in the background (pid in CL_LAST_PID, output in out)
#   clu_activate i ctr          CTR + RESUME of the log on node i
#   clu_wait_synced i [t]       wait until node i's cmlogd says the log is synced (SIGUSR1 line)
#   clu_compare regions nodes...  dump the log's state on each node (and its rlog digest through
#                               cmlogctl when cmlogd serves it) and require equality
#   clu_fail msg                print the daemons' log tails, then fail
# Variables: CLU_UUID (unique per run), CLU_LUID, CLU_PID[i] (cmlogd pids), CLU_LOG[i].
# Every wait is bounded; cl_cleanup (trap) kills everything the run started.

# shellcheck source=tests/func/cluster.sh
. "${top_srcdir:?}/tests/func/cluster.sh"

CMLOGD="${top_builddir:?}/daemon/cmlogd"
CLU_DRV="$top_builddir/tests/func/cluster_drv"
CMLOGCTL="$top_builddir/cmlogctl"
CLU_UUID=""
CLU_LUID=0x5100
CLU_PID=()
CLU_LOG=()
CLU_RUNS=0
CLU_FAILED=0

# clu_init n [nostart]: n corosync nodes with quorum, then cmlogd on each (not with nostart).
clu_init()
{
	local n=$1 i
	cl_require_root_or_skip
	[ -x "$CMLOGD" ] || cl_skip "cmlogd not built ($CMLOGD)"
	[ -x "$CLU_DRV" ] || cl_skip "tests/func/cluster_drv not built"
	cl_init "$n" 1000 || exit 99
	CLU_UUID="cmlog-func-$CL_RUN_ID"
	cl_on_cleanup 'clu_dump_logs'
	cl_start_all || clu_fail "corosync did not start"
	for i in $(seq 1 "$n"); do
		cl_wait_membership "$i" "$n" || clu_fail "node $i does not see $n members"
	done
	[ "${2:-}" = nostart ] && return 0 # the test starts the daemons (e.g. under a shim)
	for i in $(seq 1 "$n"); do
		clu_start_daemon "$i"
	done
}

# clu_shim_daemon i shim [VAR=value...]: write a wrapper for node i's cmlogd ($CMLOGD) that
# preloads `shim` with the given environment, and print its path (set CMLOGD to it for
# clu_start_daemon i). A sanitizer build (tools/check-quality.sh) needs its runtime first in
# the preload list, or ASan refuses to start ("runtime does not come first"): it goes ahead.
clu_shim_daemon()
{
	local i=$1 shim=$2 w san_rt v
	shift 2
	w="$(cl_node_dir "$i")/cmlogd-shim"
	san_rt=$(ldd "$CMLOGD" 2>/dev/null | awk '/libasan/ { print $3; exit }')
	{
		echo '#!/bin/bash'
		printf 'export LD_PRELOAD=%q\n' "${san_rt:+$san_rt }$shim"
		for v in "$@"; do
			printf 'export %s=%q\n' "${v%%=*}" "${v#*=}"
		done
		printf 'exec %q "$@"\n' "$CMLOGD"
	} >"$w" && chmod +x "$w" && echo "$w"
}

# On failure the daemons' logs are the first thing to read.
clu_dump_logs()
{
	local i
	[ "$CLU_FAILED" != 0 ] || return 0
	for i in "${!CLU_LOG[@]}"; do
		[ -f "${CLU_LOG[$i]}" ] || continue
		echo "---- tail of node $i cmlogd log ${CLU_LOG[$i]}"
		tail -n 40 "${CLU_LOG[$i]}"
	done
}

clu_fail()
{
	CLU_FAILED=1
	cl_fail "$@"
}

clu_start_daemon()
{
	local i=$1 dir k
	dir=$(cl_node_dir "$i")
	CLU_RUNS=$((CLU_RUNS + 1))
	CLU_LOG[i]="$dir/cmlogd.$CLU_RUNS.log"
	cl_bg "$i" "${CLU_LOG[i]}" "$CMLOGD" -f --userspace-peer --pidfile "$dir/cmlogd.pid" \
		--state-dir "$dir" || clu_fail "cannot start cmlogd on node $i"
	CLU_PID[i]=$CL_LAST_PID
	for k in $(seq 1 100); do
		grep -q 'ready: netlink port' "${CLU_LOG[i]}" 2>/dev/null && return 0
		kill -0 "${CLU_PID[i]}" 2>/dev/null || break
		sleep 0.1
	done
	clu_fail "cmlogd on node $i did not become ready (log ${CLU_LOG[i]})"
}

clu_kill_daemon()
{
	local i=$1 sig=${2:-KILL}
	kill -"$sig" "${CLU_PID[i]}" 2>/dev/null
	# (stderr: bash's "Killed" job notice)
	cl_wait_pid "${CLU_PID[i]}" 10 >/dev/null 2>&1
	! kill -0 "${CLU_PID[i]}" 2>/dev/null || clu_fail "cmlogd on node $i survived SIG$sig"
}

clu_drv()
{
	local i=$1
	shift
	cl_exec "$i" timeout 120 "$CLU_DRV" --uuid "$CLU_UUID" --luid "$CLU_LUID" "$@"
}

clu_drv_bg()
{
	local i=$1 out=$2
	shift 2
	cl_bg "$i" "$out" timeout 120 "$CLU_DRV" --uuid "$CLU_UUID" --luid "$CLU_LUID" "$@"
}

clu_activate()
{
	clu_drv "$1" --timeout-ms 60000 activate "$2" || clu_fail "activation on node $1"
}

# clu_status_line i: SIGUSR1 makes cmlogd log one line per log; print the newest of ours.
clu_status_line()
{
	local i=$1 before k
	before=$(grep -c "log $CLU_UUID/" "${CLU_LOG[i]}" 2>/dev/null)
	kill -USR1 "${CLU_PID[i]}" 2>/dev/null || return 1
	for k in $(seq 1 50); do
		[ "$(grep -c "log $CLU_UUID/" "${CLU_LOG[i]}")" -gt "${before:-0}" ] && break
		sleep 0.1
	done
	grep "log $CLU_UUID/" "${CLU_LOG[i]}" | tail -n 1
}

clu_wait_synced()
{
	local i=$1 t=${2:-30} k
	for ((k = 0; k < t * 2; k++)); do
		clu_status_line "$i" | grep -q 'resumed.*, synced' && return 0
		sleep 0.5
	done
	return 1
}

# clu_compare regions node...: the state each node's kernel would see (GET_SYNC_COUNT, IN_SYNC
# and IS_CLEAN of regions [0, regions)) and, when cmlogd serves its control socket, the digest
# of the whole replica (cmlogctl) must be the same everywhere. Call it when the writers
# have stopped and deferred clears have left (group.h GROUP_AL_IDLE_MS). CLU_WINDOW="N FIRST"
# limits the sweep to regions [FIRST, FIRST + N) for large logs (the sync count is still global).
clu_compare()
{
	local regions=$1 i first="" line dg
	shift
	for i in "$@"; do
		# shellcheck disable=SC2086 # CLU_WINDOW: "N FIRST" or empty
		line=$(clu_drv "$i" dump ${CLU_WINDOW:-$regions} | grep '^state ') ||
			clu_fail "state dump on node $i failed"
		dg=$(clu_digest "$i") && line="$line digest=$dg"
		echo "node $i: $line"
		if [ -z "$first" ]; then
			first=$line
		elif [ "$line" != "$first" ]; then
			clu_fail "node $i's state differs from node $1's"
		fi
	done
	echo "ok - identical state on nodes $*"
}

# clu_digest i: the rlog_digest of node i's replica (the whole replicated state: bitmaps, sync
# count, marks per node) from `cmlogctl -j show UUID`; fails when cmlogd does not serve it.
clu_digest()
{
	local d
	d=$(cl_exec "$1" timeout 10 "$CMLOGCTL" -j show "$CLU_UUID" 2>/dev/null |
		sed 's/[,{}]/\n/g' | sed -n 's/^ *"digest": *"\([0-9a-f]\{16\}\)".*/\1/p' | head -n 1)
	[ -n "$d" ] && echo "$d"
}

# clu_writer i uuid: the disk writer (node id, 0 = none) node i's cmlogd names for the log.
clu_writer()
{
	cl_exec "$1" timeout 10 "$CMLOGCTL" -j show "$2" 2>/dev/null |
		sed 's/[,{}]/\n/g' | sed -n 's/^ *"writer": *\([0-9]*\).*/\1/p' | head -n 1
}

# clu_preferred_writer uuid n: the disk writer that cluster/group.h "Writer" prefers when nodes
# 1..n are members: node 1 + FNV-1a-32(uuid) % n (computed independently of the daemon).
clu_preferred_writer()
{
	python3 -c 'import sys
h = 2166136261
for b in sys.argv[1].encode():
	h = ((h ^ b) * 16777619) & 0xffffffff
print(1 + h % int(sys.argv[2]))' "$1" "$2"
}

# clu_uuid_for_writer base want n: the first of base-w0, base-w1, ... whose preferred disk
# writer among nodes 1..n is node `want` (fails when none of the first 100 is).
clu_uuid_for_writer()
{
	local k
	for k in $(seq 0 99); do
		[ "$(clu_preferred_writer "$1-w$k" "$3")" = "$2" ] && { echo "$1-w$k"; return 0; }
	done
	return 1
}

# clu_wait_writer uuid want node...: every node names `want` the disk writer (up to 20 s).
clu_wait_writer()
{
	local u=$1 want=$2 i k ok
	shift 2
	for k in $(seq 1 80); do
		ok=1
		for i in "$@"; do
			[ "$(clu_writer "$i" "$u")" = "$want" ] || { ok=0; break; }
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.25
	done
	for i in "$@"; do echo "node $i names writer $(clu_writer "$i" "$u")"; done
	return 1
}

# clu_field line key: the value of key=value in a cluster_drv output line.
clu_field()
{
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
