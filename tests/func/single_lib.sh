# tests/func/single_lib.sh: one real corosync node in its own network namespace with cmlogd
# inside it, for cmlogd's single-node functional tests (bash, sourced).
#
# Builds on tests/func/cluster.sh (unique per-run names, cleanup trap, bounded waits).
#   single_init                 skip unless root + corosync; 1-node cluster, quorate
#   single_start_daemon [args]  cmlogd -f --userspace-peer in the node; waits for "ready"
#   single_kill_daemon [sig]    signal cmlogd (default KILL) and wait for it to exit
#   single_standin args...      run the kernel stand-in in the node
#   single_driver args...       run tests/func/daemon_driver in the node
#   single_state_file UUID      path of cmlogd's sync state file for UUID (glob match)
#   single_wait_state UUID N    wait until that file records N regions in sync
#   single_use_faultdisk VAR=VALUE...  from now on run cmlogd under tests/func/faultdisk.so
#                               with these variables (skips when the shim is not built)
# Variables: SINGLE_DIR (node dir), SINGLE_PID (cmlogd pid), SINGLE_LOG (its log).

. "$top_srcdir/tests/func/cluster.sh"

CMLOGD="$top_builddir/daemon/cmlogd"
STANDIN="$top_builddir/tests/func/standin"
DRIVER="$top_builddir/tests/func/daemon_driver"
SINGLE_DIR=""
SINGLE_PID=""
SINGLE_LOG=""
SINGLE_RUNS=0

single_init() {
	cl_require_root_or_skip
	[ -x "$CMLOGD" ] || cl_skip "cmlogd not built"
	[ -x "$STANDIN" ] || cl_skip "tests/func/standin not built"
	cl_init 1 1000 || exit 99
	cl_start_all || cl_fail "corosync did not start"
	cl_wait_quorate 1 || cl_fail "the node is not quorate"
	SINGLE_DIR=$(cl_node_dir 1)
	cl_on_cleanup 'single_dump_logs'
}

single_use_faultdisk() {
	local shim="$top_builddir/tests/func/faultdisk.so" san_rt preload v
	[ -f "$shim" ] || cl_skip "tests/func/faultdisk.so not built"
	# A sanitizer build (tools/check-quality.sh) needs its runtime first in the preload list,
	# or ASan refuses to start ("runtime does not come first"): put it ahead of the shim.
	san_rt=$(ldd "$CMLOGD" 2>/dev/null | awk '/libasan/ { print $3; exit }')
	preload="${san_rt:+$san_rt }$shim"
	{
		echo '#!/bin/bash'
		printf 'export LD_PRELOAD=%q\n' "$preload"
		for v in "$@"; do
			printf 'export %s=%q\n' "${v%%=*}" "${v#*=}"
		done
		printf 'exec %q "$@"\n' "$CMLOGD"
	} >"$SINGLE_DIR/cmlogd-faulty"
	chmod +x "$SINGLE_DIR/cmlogd-faulty"
	CMLOGD="$SINGLE_DIR/cmlogd-faulty"
}

# On failure the daemon's log is the first thing to read.
single_dump_logs() {
	if [ "${SINGLE_FAILED:-0}" != 0 ] && [ -n "$SINGLE_LOG" ] && [ -f "$SINGLE_LOG" ]; then
		echo "---- tail of $SINGLE_LOG"
		tail -n 60 "$SINGLE_LOG"
	fi
}

single_start_daemon() {
	local i
	SINGLE_RUNS=$((SINGLE_RUNS + 1))
	SINGLE_LOG="$SINGLE_DIR/cmlogd.$SINGLE_RUNS.log"
	cl_bg 1 "$SINGLE_LOG" "$CMLOGD" -f -d --userspace-peer -c /dev/null \
		--pidfile "$SINGLE_DIR/cmlogd.pid" \
		--state-dir "$SINGLE_DIR" "$@"
	SINGLE_PID=$CL_LAST_PID
	for i in $(seq 1 100); do
		grep -q 'ready: netlink port' "$SINGLE_LOG" 2>/dev/null && return 0
		kill -0 "$SINGLE_PID" 2>/dev/null || break
		sleep 0.1
	done
	SINGLE_FAILED=1
	cl_fail "cmlogd did not become ready (log $SINGLE_LOG)"
}

single_kill_daemon() {
	local sig=${1:-KILL}
	kill -"$sig" "$SINGLE_PID" 2>/dev/null
	cl_wait_pid "$SINGLE_PID" 10 >/dev/null
	! kill -0 "$SINGLE_PID" 2>/dev/null || cl_fail "cmlogd (pid $SINGLE_PID) did not exit on SIG$sig"
}

single_standin() {
	cl_exec 1 timeout 300 "$STANDIN" --timeout-ms 5000 "$@"
}

single_driver() {
	cl_exec 1 timeout 120 "$DRIVER" "$@"
}

single_fail() {
	SINGLE_FAILED=1
	cl_fail "$@"
}

# The sync state file of a uuid (daemon/disk.c disk_state_path: "sync-<uuid>-<hash>").
single_state_file() {
	local f
	for f in "$SINGLE_DIR"/sync-"${1:0:40}"-*; do
		case "$f" in *.tmp) continue ;; esac
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# Wait (5 s at most) until the state file of $1 records $2 regions in sync (le64 at 24).
single_wait_state() {
	local i f n
	for i in $(seq 1 50); do
		f=$(single_state_file "$1") &&
			n=$(od -A n -t u8 -j 24 -N 8 "$f" 2>/dev/null | tr -d ' ') &&
			[ "$n" = "$2" ] && return 0
		sleep 0.1
	done
	single_fail "no sync state file for $1 with $2 regions in sync (last: ${n:-none})"
}
