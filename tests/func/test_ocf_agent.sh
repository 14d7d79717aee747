#!/bin/bash
# test_ocf_agent.sh: the OCF agent ocf:cmlog:cmlogd driving the real cmlogd on a one-node
# corosync cluster in a network namespace (tests/func/single_lib.sh): ocf-tester, then the
# checks ocf-tester does not make: monitor depth 10, validate-all errors, reload (SIGHUP vs
# restart), a stale pid file, a log that keeps cmlogd from stopping on the first SIGTERM.
# The daemon gets --userspace-peer --state-dir through the agent's "args" parameter.
#
# Only the depth-10 "disk log failed" check uses tests/func/ctl_fake_daemon: a failed log
# device needs a disk that fails under a resumed log, which this test does not build (the
# real daemon's 'D' state is covered by tests/func/test_single_disk.sh).
set -u
. "$top_srcdir/tests/func/single_lib.sh"
CTL="$top_builddir/cmlogctl"
FAKE="$top_builddir/tests/func/ctl_fake_daemon"
AGENT_SRC="$top_builddir/conf/ocf/cmlogd"
command -v ocf-tester >/dev/null || cl_skip "ocf-tester missing (Debian package resource-agents)"
command -v xmllint >/dev/null || cl_skip "xmllint missing (libxml2-utils)"
export OCF_ROOT=/usr/lib/ocf
[ -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ] || cl_skip "no ocf-shellfuncs"
[ -x "$AGENT_SRC" ] || { echo "ERROR: $AGENT_SRC not built"; exit 99; }
single_init

T="$CL_TMP/ocf"
mkdir -p "$T" && chmod 755 "$CL_TMP" "$T"
SVC="cmo$CL_RUN_ID"
stop_left() {
	local p
	for p in "$T/cmlogd.pid" "$T/fake.pid"; do
		[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
	return 0
}
cl_on_cleanup stop_left

# ocf-tester runs meta-data as nobody: the agent must sit in a path nobody can read.
cp "$AGENT_SRC" "$T/cmlogd"
chmod 755 "$T/cmlogd"
AGENT="$T/cmlogd"
cat >"$T/cmlogd.conf" <<EOT
log_level = info
ctl_service = $SVC
flight_events = 64
EOT
chmod 644 "$T/cmlogd.conf"
mkdir "$T/rsc"
export HA_RSCTMP="$T/rsc"
ARGS="--userspace-peer --state-dir $T"

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# --- ocf-tester against the real cmlogd ---
cl_exec 1 env OCF_ROOT=$OCF_ROOT HA_RSCTMP="$HA_RSCTMP" ocf-tester -n cmlog \
	-o daemon="$CMLOGD" -o ctl="$CTL" -o pidfile="$T/cmlogd.pid" -o config="$T/cmlogd.conf" \
	-o args="$ARGS" "$AGENT" >"$T/tester.out" 2>&1
rc=$?
cat "$T/tester.out"
[ $rc -eq 0 ] || fail "ocf-tester exited $rc"
grep -q "passed all tests" "$T/tester.out" || fail "ocf-tester did not pass all tests"
[ ! -f "$T/cmlogd.pid" ] || fail "ocf-tester left the daemon running"

# --- direct agent calls (in the node's namespace: the control socket is per netns) ---
export OCF_RESOURCE_INSTANCE=cmlog OCF_RESKEY_daemon="$CMLOGD" OCF_RESKEY_ctl="$CTL" \
	OCF_RESKEY_pidfile="$T/cmlogd.pid" OCF_RESKEY_config="$T/cmlogd.conf" \
	OCF_RESKEY_args="$ARGS"
ra() { # ra WANT ACTION [VAR=VALUE...]: run the agent, check the OCF exit code
	local want=$1 act=$2 got
	shift 2
	cl_exec 1 env "$@" "$AGENT" "$act" >"$T/ra.out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || { fail "$act $* exited $got, want $want"; sed 's/^/  | /' "$T/ra.out"; }
}

"$AGENT" meta-data >"$T/meta.xml" || fail "meta-data failed"
(cd /usr/share/resource-agents && xmllint --noout --valid - <"$T/meta.xml") || fail "meta-data invalid"
grep -q '<version>1.1</version>' "$T/meta.xml" || fail "meta-data is not OCF 1.1"
ra 0 validate-all
ra 7 monitor
ra 0 stop # stopping a stopped daemon succeeds

ra 0 start
pid1=$(cat "$T/cmlogd.pid")
[ "$(readlink "/proc/$pid1/exe")" = "$(readlink -f "$CMLOGD")" ] || fail "the agent did not start cmlogd"
# depth 10: connected to corosync (the daemon group joined) and no failed disk log.
for _ in $(seq 1 20); do
	cl_exec 1 env OCF_CHECK_LEVEL=10 "$AGENT" monitor >/dev/null 2>&1 && break
	sleep 0.25
done
ra 0 monitor OCF_CHECK_LEVEL=10

# A resumed log: the daemon refuses the first SIGTERM, the agent's stop repeats it.
single_driver --uuid "ocf-$CL_RUN_ID" --luid 0x10 "ctr:1024 clustered-core 8" resume mark:1 flush \
	>/dev/null || fail "activating a log through the stand-in driver"
cl_exec 1 "$CTL" -c "$T/cmlogd.conf" status | grep -q '^Logs: 1$' || fail "the log is not in status"

# reload with the same parameters: SIGHUP, same process, the daemon re-read its file.
sed -i 's/^log_level = info$/log_level = warning/' "$T/cmlogd.conf"
ra 0 reload
[ "$(cat "$T/cmlogd.pid")" = "$pid1" ] || fail "reload with unchanged parameters restarted"
sleep 0.3
cl_exec 1 "$CTL" -c "$T/cmlogd.conf" dump | grep -q 'SIGHUP: reloaded (log level warning' ||
	fail "daemon got no SIGHUP"
cl_exec 1 "$CTL" -c "$T/cmlogd.conf" status | grep -q '^  log level:  warning$' ||
	fail "SIGHUP did not apply log_level"
# reload with changed parameters: a restart (the log keeps the first SIGTERM refused).
ra 0 reload OCF_RESKEY_args="$ARGS -d"
pid2=$(cat "$T/cmlogd.pid")
[ "$pid2" != "$pid1" ] || fail "reload with changed args did not restart"
[ -d "/proc/$pid1" ] && fail "the old daemon $pid1 is still alive after the restart"
ra 0 monitor
ra 0 monitor OCF_RESKEY_service="$SVC"
ra 1 monitor OCF_RESKEY_service="${SVC}other"
grep -q 'control socket does not answer' "$T/ra.out" || fail "wrong-socket reason missing"
ra 0 stop
[ -d "/proc/$pid2" ] && fail "daemon $pid2 still alive after stop"

# A pid file naming a live process that is not cmlogd is not "running".
echo $$ >"$T/cmlogd.pid"
ra 7 monitor
ra 0 stop
kill -0 $$ || fail "stop killed a process that is not cmlogd"
rm -f "$T/cmlogd.pid"

# validate-all errors
ra 6 validate-all OCF_RESKEY_CRM_meta_globally_unique=true
ra 6 validate-all OCF_RESKEY_service="bad/name"
ra 6 validate-all OCF_RESKEY_pidfile=relative.pid
ra 5 validate-all OCF_RESKEY_daemon=/nonexistent/cmlogd
printf 'log_level = loud\n' >"$T/bad.conf"
ra 6 validate-all OCF_RESKEY_config="$T/bad.conf"
grep -q "bad.conf:1: bad value 'loud' for log_level" "$T/ra.out" || fail "config error not reported"
ra 6 start OCF_RESKEY_config="$T/bad.conf"
ra 7 monitor
ra 3 frobnicate

# --- depth 10 sees a failed disk log (fake daemon: synthetic 'D' log, see the header) ---
F="OCF_RESKEY_daemon=$FAKE OCF_RESKEY_pidfile=$T/fake.pid OCF_RESKEY_args=--disk-failed"
# shellcheck disable=SC2086
{
	ra 0 start $F
	ra 0 monitor $F
	ra 1 monitor $F OCF_CHECK_LEVEL=10
	grep -q 'disk log failed for: LVM-fakeC' "$T/ra.out" || fail "depth-10 reason missing"
	ra 0 stop $F
	ra 7 monitor $F
}

[ $FAILS -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "PASS: OCF agent checks"
