#!/bin/sh
# test_ocf_agent.sh: the OCF agent ocf:cmlog:cmlogd under ocf-tester (resource-agents),
# plus the checks ocf-tester does not make: monitor depth 10 (failed disk log), validate-all
# errors, reload (SIGHUP vs restart), a stale pid file.
# The daemon is tests/func/ctl_fake_daemon until cmlogd serves ctl; set CMLOGD to a real
# cmlogd to run the same test against it.
set -u
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(dirname "$0")/../..}"
CTL="$top_builddir/cmlogctl"
FAKE="${CMLOGD:-$top_builddir/tests/func/ctl_fake_daemon}"
AGENT_SRC="$top_builddir/conf/ocf/cmlogd"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ocf-tester >/dev/null || { echo "SKIP: ocf-tester missing (Debian package resource-agents)"; exit 77; }
command -v xmllint >/dev/null || { echo "SKIP: xmllint missing (libxml2-utils)"; exit 77; }
export OCF_ROOT=/usr/lib/ocf
[ -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ] || { echo "SKIP: no ocf-shellfuncs"; exit 77; }
[ -x "$AGENT_SRC" ] || { echo "ERROR: $AGENT_SRC not built"; exit 99; }

T=$(mktemp -d /tmp/cmlog-ocf.XXXXXX) || exit 99
chmod 755 "$T"
SVC="cmo$$x$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
cleanup() {
	if [ -f "$T/cmlogd.pid" ]; then
		kill "$(cat "$T/cmlogd.pid")" 2>/dev/null
		sleep 0.2
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

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

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# --- ocf-tester ---
ocf-tester -n cmlog -o daemon="$FAKE" -o ctl="$CTL" \
	-o pidfile="$T/cmlogd.pid" -o config="$T/cmlogd.conf" "$AGENT" >"$T/tester.out" 2>&1
rc=$?
cat "$T/tester.out"
[ $rc -eq 0 ] || fail "ocf-tester exited $rc"
grep -q "passed all tests" "$T/tester.out" || fail "ocf-tester did not pass all tests"
[ ! -f "$T/cmlogd.pid" ] || fail "ocf-tester left the daemon running"

# --- direct agent calls ---
export OCF_RESOURCE_INSTANCE=cmlog OCF_RESKEY_daemon="$FAKE" OCF_RESKEY_ctl="$CTL" \
	OCF_RESKEY_pidfile="$T/cmlogd.pid" \
	OCF_RESKEY_config="$T/cmlogd.conf"
ra() { # ra WANT ACTION [VAR=VALUE...]: run the agent, check the OCF exit code
	want=$1; act=$2; shift 2
	env "$@" "$AGENT" "$act" >"$T/ra.out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] || { fail "$act $* exited $got, want $want"; sed 's/^/  | /' "$T/ra.out"; }
}

"$AGENT" meta-data >"$T/meta.xml" || fail "meta-data failed"
(cd /usr/share/resource-agents && xmllint --noout --valid - <"$T/meta.xml") || fail "meta-data invalid"
grep -q '<version>1.1</version>' "$T/meta.xml" || fail "meta-data is not OCF 1.1"
ra 0 validate-all
ra 7 monitor
ra 0 stop                                   # stopping a stopped daemon succeeds

# Depth 10 sees a failed disk log; depth 0 does not look.
ra 0 start OCF_RESKEY_args=--disk-failed
ra 0 monitor OCF_RESKEY_args=--disk-failed
ra 1 monitor OCF_RESKEY_args=--disk-failed OCF_CHECK_LEVEL=10
grep -q 'disk log failed for: LVM-fakeC' "$T/ra.out" || fail "depth-10 reason missing"
ra 0 stop OCF_RESKEY_args=--disk-failed
ra 7 monitor

ra 0 start
ra 0 monitor OCF_CHECK_LEVEL=10
pid1=$(cat "$T/cmlogd.pid")
# reload with the same parameters: SIGHUP, same process, the daemon re-read its file.
ra 0 reload
[ "$(cat "$T/cmlogd.pid")" = "$pid1" ] || fail "reload with unchanged parameters restarted"
sleep 0.2
"$CTL" -c "$T/cmlogd.conf" dump | grep -q 'reload: configuration re-read' || fail "daemon got no SIGHUP"
# reload with changed parameters: a restart.
ra 0 reload OCF_RESKEY_args="--resync-step 5"
pid2=$(cat "$T/cmlogd.pid")
[ "$pid2" != "$pid1" ] || fail "reload with changed args did not restart"
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

[ $FAILS -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "PASS: OCF agent checks"
