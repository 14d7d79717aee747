#!/bin/sh
# Functional test of the kernel link (daemon/kern.c + codec + ctr) against the kernel
# stand-in over a real NETLINK_CONNECTOR socket, inside a fresh network namespace.
#   - the stand-in refuses to run in the initial network namespace (exit 2);
#   - kern_echo --peer answers link-echo, badinput, reconnect, remove and disk, multicast
#     (as the kernel sends) and unicast to its port;
#   - MSG_TRUNC: a 9000-byte datagram is dropped and counted, the link keeps working;
#   - ENOBUFS: kern_echo is stopped while 2000 requests are flooded at a small receive
#     buffer; it counts the overrun and the link recovers;
#   - without --peer, user-space senders are ignored and counted;
#   - every daemon scenario (standin all disk) passes against standin_ref, a single-node
#     reference responder on log/rlog, so the stand-in's expectations match rlog.
# Needs root (network namespaces). Exit 77 = skipped.
set -u

builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
standin=$builddir/tests/func/standin
echo_bin=$builddir/tests/func/kern_echo
ref_bin=$builddir/tests/func/standin_ref

if [ "${CMLOG_KERN_LINK_INNER:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root for network namespaces"
		exit 77
	fi
	if ! command -v unshare >/dev/null 2>&1; then
		echo "SKIP: unshare (util-linux) not found"
		exit 77
	fi
	# Safety check of the stand-in itself: it must refuse the initial namespace. Only
	# meaningful when we are in it (/proc/net/connector exists only there).
	if [ -e /proc/net/connector ]; then
		"$standin" activate >/dev/null 2>&1
		rc=$?
		if [ $rc -ne 2 ]; then
			echo "FAIL: standin ran in the initial network namespace (exit $rc, want 2)"
			exit 1
		fi
		echo "ok - standin refuses the initial network namespace"
	fi
	if ! unshare -n true 2>/dev/null; then
		echo "SKIP: cannot create a network namespace here"
		exit 77
	fi
	CMLOG_KERN_LINK_INNER=1 exec unshare -n "$0" "$@"
fi

# ---- inside the private network namespace ----------------------------------------------
tmp=$(mktemp -d /tmp/cmkern.XXXXXX) || exit 99
echo_pid=
cleanup() {
	if [ -n "$echo_pid" ]; then
		kill -CONT "$echo_pid" 2>/dev/null
		kill "$echo_pid" 2>/dev/null
		wait "$echo_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

failed=0
fail() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

# start_echo NAME ARGS...: start kern_echo, wait for its "port N" line, set echo_pid/port
start_echo() {
	name=$1
	shift
	"${responder:-$echo_bin}" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	echo_pid=$!
	i=0
	port=
	while [ $i -lt 50 ]; do
		port=$(sed -n 's/^port //p' "$tmp/$name.out")
		[ -n "$port" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	fail "kern_echo $name did not start"
	cat "$tmp/$name.err"
	return 1
}

# stop_echo NAME: SIGTERM, wait, print its counters line
stop_echo() {
	kill "$echo_pid" 2>/dev/null
	wait "$echo_pid"
	rc=$?
	echo_pid=
	[ $rc -eq 0 ] || fail "kern_echo $1 exited $rc"
	grep '^stats:' "$tmp/$1.out"
}

# run_standin DESC ARGS...: the stand-in must pass every check
run_standin() {
	desc=$1
	shift
	"$standin" --timeout-ms 2000 "$@" >"$tmp/standin.out" 2>&1
	rc=$?
	sed 's/^/    /' "$tmp/standin.out"
	if [ $rc -eq 0 ]; then
		echo "ok - $desc"
	else
		fail "$desc (standin exit $rc)"
	fi
}

counter() { # FILE NAME -> value of NAME= in the stats line
	sed -n "s/^stats:.* $2=\([0-9]*\).*/\1/p" "$1"
}

# 1. a responder that accepts the stand-in as a peer
start_echo peer --peer || exit 1
run_standin "multicast: link-echo badinput reconnect remove disk" \
	--dev 7:0 link-echo badinput reconnect remove disk
run_standin "unicast to port $port: link-echo" --port "$port" link-echo
run_standin "MSG_TRUNC: oversized datagram dropped, link keeps working" link-trunc
n0=$(grep -c 'request type not in 1..17' "$tmp/peer.err")
run_standin "bad input is answered but its log lines are rate limited" link-ratelimit
stop_echo peer
# 41 bad requests within about 1 s: at most two windows of 10 lines, then a summary
n=$(grep -c 'request type not in 1..17' "$tmp/peer.err")
[ $((n - n0)) -le 21 ] || fail "rate limit: $((n - n0)) log lines for 41 bad requests"
grep -q "suppressed [0-9]* more 'request type not in 1..17' messages" "$tmp/peer.err" ||
	fail "rate limit: no 'suppressed N' summary line"
[ "$(counter "$tmp/peer.out" truncated)" = 1 ] || fail "truncated counter is not 1"
[ "$(counter "$tmp/peer.out" refused)" = 0 ] || fail "the codec refused a reply of kern_echo"
[ "$(counter "$tmp/peer.out" send_errors)" = 0 ] || fail "kern_echo had send errors"
grep -q 'corrupt datagram' "$tmp/peer.err" || fail "kern_echo logged no corrupt datagram"

# 2. overrun: small receive buffer, responder stopped during the flood
start_echo flood --peer --rcvbuf 16384 --batch 16 || exit 1
run_standin "ENOBUFS: overrun counted, link recovers" --stop-pid "$echo_pid" --count 2000 link-flood
stop_echo flood
ov=$(counter "$tmp/flood.out" overruns)
[ -n "$ov" ] && [ "$ov" -ge 1 ] || fail "no overrun counted (overruns=$ov)"
grep -q 'receive buffer overrun' "$tmp/flood.err" || fail "no overrun log line"

# 3. without --peer only the kernel (port 0) may send requests
start_echo nopeer || exit 1
run_standin "user-space senders are ignored without userspace_peer" link-silent
stop_echo nopeer
[ "$(counter "$tmp/nopeer.out" peer_dropped)" = 1 ] || fail "peer_dropped counter is not 1"
[ "$(counter "$tmp/nopeer.out" requests)" = 0 ] || fail "a user-space request was handled"

# 4. the daemon scenarios against the rlog reference responder
responder=$ref_bin start_echo ref --peer || exit 1
run_standin "daemon scenarios against the single-node rlog reference" --dev 7:0 all disk
kill "$echo_pid" 2>/dev/null
wait "$echo_pid" || fail "standin_ref exited with an error"
echo_pid=

if [ $failed -ne 0 ]; then
	echo "$failed failed"
	exit 1
fi
echo "all kernel link checks passed"
exit 0
