#!/bin/bash
# tools/demo.sh: cmlog end to end on one machine, in about two minutes.
#
#   sudo tools/demo.sh [BUILD_DIR]
#
# On a fresh Debian 12 machine: installs the build and test dependencies (tools/install-deps.sh;
# skipped with CMLOG_SKIP_INSTALL=1), builds cmlog (autogen, configure, make) into BUILD_DIR
# (default: _build in the source tree; an already built tree is reused), starts a three-node
# corosync cluster in network namespaces (tests/func/cluster.sh), runs cmlogd on every node,
# activates the same mirror log on all three through the kernel stand-in (the real netlink
# connector protocol, inside each node's namespace), then drives a mirror workload:
#   writes on every node -> kill -9 of node 3 (cmlogd and corosync) under load -> resync of the
#   regions node 3 had dirty -> node 3 restarts and rejoins -> identical state on all nodes,
# showing `cmlogctl status` (and `status --cluster`, `watch`) when cmlogd serves its control
# socket, else the status line cmlogd logs on SIGUSR1. Everything it starts (namespaces,
# bridge, processes, temp dir) is removed on exit, also on Ctrl-C. Every wait is bounded.
# Exit 0 when every phase passed. Needs root (network namespaces).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${CMLOG_BUILD_DIR:-$SRC/_build}}
# An in-tree configured source tree cannot also host a VPATH build: use it as is.
if [ -z "${1:-}" ] && [ -z "${CMLOG_BUILD_DIR:-}" ] && [ -f "$SRC/config.status" ]; then
	BUILD=$SRC
fi
REGIONS=8192
START=$(date +%s)
PHASE=0
NPHASES=10

phase()
{
	PHASE=$((PHASE + 1))
	printf '\n==== [%d/%d] %s  (t=%ds)\n' "$PHASE" "$NPHASES" "$*" $(($(date +%s) - START))
}
say() { echo "  $*"; }
die()
{
	echo "demo: FAILED in phase $PHASE: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root: sudo $0 (network namespaces, corosync)"

phase "Dependencies (Debian packages)"
if [ "${CMLOG_SKIP_INSTALL:-0}" = 1 ]; then
	say "skipped (CMLOG_SKIP_INSTALL=1)"
else
	"$SRC/tools/install-deps.sh" || die "tools/install-deps.sh failed"
fi

phase "Build into $BUILD"
mkdir -p "$BUILD" || die "cannot create $BUILD"
BLOG="$BUILD/demo-build.log"
: >"$BLOG" || die "cannot write $BLOG"
if [ ! -x "$SRC/configure" ]; then
	say "autogen"
	(cd "$SRC" && ./autogen.sh) >>"$BLOG" 2>&1 || die "autogen failed (see $BLOG)"
fi
if [ ! -f "$BUILD/Makefile" ]; then
	say "configure"
	(cd "$BUILD" && "$SRC/configure") >>"$BLOG" 2>&1 || die "configure failed (see $BLOG)"
fi
say "make -j2"
# not the caller's make: this may run under `make check-func` of the same tree
(cd "$BUILD" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j2) >>"$BLOG" 2>&1 ||
	die "make failed (see $BLOG)"
for f in daemon/cmlogd cmlogctl tests/func/cluster_drv; do
	[ -x "$BUILD/$f" ] || die "$f was not built"
done
say "built: $BUILD/daemon/cmlogd, $BUILD/cmlogctl, $BUILD/tests/func/cluster_drv"

top_srcdir=$SRC
top_builddir=$BUILD
CL_QUIET=1
# shellcheck source=tests/func/cluster_lib.sh
. "$SRC/tests/func/cluster_lib.sh"
CTL="$BUILD/cmlogctl"
CTR="$((REGIONS * 8)) clustered-core 8 nosync"
HAVE_CTL=0

# One log line per node: cmlogctl when cmlogd serves it, else cmlogd's SIGUSR1 status line.
show_status()
{
	local i
	local out
	if [ "$HAVE_CTL" = 1 ]; then
		if out=$(cl_exec "$1" timeout 10 "$CTL" status --cluster 2>&1); then
			echo "    \$ cmlogctl status --cluster   (on node $1)"
			printf '%s\n' "$out" | sed 's/^/    /' # indent
			return 0
		fi
		for i in "$@"; do
			echo "    \$ cmlogctl status   (on node $i)"
			cl_exec "$i" timeout 10 "$CTL" status 2>&1 | sed 's/^/    /'
		done
	else
		for i in "$@"; do
			echo "    node $i: $(clu_status_line "$i" | sed 's/.*notice //')"
		done
	fi
}

# drv_summary file: the interesting part of a cluster_drv load line.
drv_summary() { sed -n 's/^\(not \)\{0,1\}ok - load: //p' "$1"; }

phase "Three-node corosync cluster in network namespaces"
cl_require_root_or_skip
cl_init 3 1000 || die "cannot set up the namespaces"
CLU_UUID="cmlog-demo-$CL_RUN_ID"
cl_on_cleanup 'clu_dump_logs'
cl_start_all || die "corosync did not start"
for i in 1 2 3; do
	cl_wait_membership "$i" 3 || die "node $i does not see 3 members"
done
for i in 1 2 3; do say "node $i: $(cl_node_name "$i") $(cl_node_addr "$i") netns $(cl_ns "$i")"; done
say "corosync: token 1000 ms, 3 members, quorate"

phase "cmlogd on every node"
for i in 1 2 3; do
	clu_start_daemon "$i"
	say "node $i: cmlogd pid ${CLU_PID[i]}, log ${CLU_LOG[i]}"
done
if cl_exec 1 timeout 10 "$CTL" status >/dev/null 2>&1; then
	HAVE_CTL=1
	say "cmlogctl: the control socket answers"
else
	say "cmlogctl: this cmlogd does not serve the control socket yet;" \
		"status comes from its SIGUSR1 log line"
fi

phase "Activate mirror log $CLU_UUID on all nodes ($REGIONS regions, clustered-core)"
say "each node's kernel stand-in sends CTR '$CTR' and RESUME over netlink"
for i in 1 2 3; do
	out=$(clu_drv "$i" --timeout-ms 30000 activate "$CTR") || die "activation on node $i: $out"
	say "node $i: ${out#ok - activate: }"
done
show_status 1 2 3

phase "Mirror workload: 4 pipelined writers on every node for 5 s"
say "each writer: MARK r, FLUSH, IN_SYNC r, CLEAR r, FLUSH (a FLUSH is answered once committed)"
for i in 1 2 3; do
	clu_drv_bg "$i" "$CL_TMP/load.$i" --timeout-ms 10000 load 5 "$REGIONS" 4
	pids[i]=$CL_LAST_PID
done
for i in 1 2 3; do
	cl_wait_pid "${pids[i]}" 60 >/dev/null || die "writers on node $i: $(cat "$CL_TMP/load.$i")"
	say "node $i: $(drv_summary "$CL_TMP/load.$i")"
done

phase "Node failure: kill -9 of node 3's cmlogd and corosync under load"
clu_drv 3 mark 8000-8099 >/dev/null || die "node 3 could not mark regions"
say "node 3 holds 100 dirty regions (8000-8099): their write is in flight on every leg"
for i in 1 2 3; do
	# the writers stay below region 7168: a kernel never marks a region it already holds
	clu_drv_bg "$i" "$CL_TMP/crash.$i" --timeout-ms 15000 load 8 7168 4
	pids[i]=$CL_LAST_PID
done
sleep 3
clu_kill_daemon 3 KILL
cl_kill_corosync 3 || die "cannot kill node 3's corosync"
say "node 3 killed; nodes 1 and 2 keep writing"
for i in 1 2; do
	cl_wait_pid "${pids[i]}" 60 >/dev/null || die "survivor $i: $(cat "$CL_TMP/crash.$i")"
	say "node $i: $(drv_summary "$CL_TMP/crash.$i")"
done
cl_stop_bg "${pids[3]}" 1 >/dev/null 2>&1
say "(max_gap_ms: the longest time a survivor got no answer: corosync's token timeout for"
say " 3 nodes, 1000 + 650 ms, + consensus 1.2 x 1650 ms = ~3630 ms, + the group's barrier)"
sleep 3
show_status 1 2

phase "Resync of node 3's dirty regions (driven from node 1, as dm-raid1 recovery does)"
before=$(clu_drv 1 sync-count) || die "GET_SYNC_COUNT"
say "GET_SYNC_COUNT on node 1: $before of $REGIONS in sync"
watch_pid=""
if [ "$HAVE_CTL" = 1 ]; then
	cl_bg 1 "$CL_TMP/watch" timeout 60 "$CTL" watch "$CLU_UUID" --interval 0.5
	watch_pid=$CL_LAST_PID
fi
out=$(clu_drv 1 --timeout-ms 10000 resync 60 "$REGIONS") || die "resync: $out"
say "${out#ok - }"
if [ -n "$watch_pid" ]; then
	cl_wait_pid "$watch_pid" 15 >/dev/null
	say "cmlogctl watch on node 1:"
	tail -n 5 "$CL_TMP/watch" | sed 's/^/    /'
fi
sleep 3
show_status 1 2

phase "Node 3 restarts (corosync, cmlogd) and rejoins the log"
cl_start_node 3 || die "corosync did not restart on node 3"
cl_wait_membership 1 3 || die "node 3 did not rejoin the ring"
clu_start_daemon 3
out=$(clu_drv 3 --timeout-ms 30000 activate "$CTR") || die "node 3 reactivation: $out"
say "node 3: ${out#ok - activate: } (state transferred from the group)"
clu_drv 3 --timeout-ms 10000 load 3 "$REGIONS" 4 >"$CL_TMP/rejoin.3" ||
	die "writers on node 3: $(cat "$CL_TMP/rejoin.3")"
say "node 3: $(drv_summary "$CL_TMP/rejoin.3")"

phase "Replicas: the state every node's kernel sees is identical"
sleep 3 # deferred clears leave after 2 s without writes
first=""
for i in 1 2 3; do
	line=$(clu_drv "$i" dump "$REGIONS" | grep '^state ') || die "state dump on node $i"
	dg=$(clu_digest "$i") && line="$line digest=$dg" # the whole replica, through cmlogctl
	say "node $i: ${line#state }"
	[ -z "$first" ] && first=$line
	[ "$line" = "$first" ] || die "node $i differs from node 1"
done
say "identical on all three nodes (IN_SYNC/IS_CLEAN of every region, GET_SYNC_COUNT$([ "$HAVE_CTL" = 1 ] && echo ", rlog digest"))"
show_status 1 2 3
[ "$HAVE_CTL" = 1 ] ||
	say "(cmlogctl status / status --cluster / watch are shown here once cmlogd serves them)"

printf '\n==== demo passed in %ds; cleaning up\n' $(($(date +%s) - START))
exit 0
