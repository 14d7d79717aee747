#!/bin/sh
# test_ctl_cli.sh: cmlogctl against a daemon over the real control socket (daemon/ctl.c):
# text and JSON output, watch, exit codes for bad arguments (2), an unknown uuid (3), no
# daemon (1) and a caller without permission (4).
# The daemon is tests/func/ctl_fake_daemon until cmlogd serves ctl; set CMLOGD to a real
# cmlogd (same -f/-c/-s/-p options) to run the same checks against it.
set -u
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(dirname "$0")/../..}"
CTL="$top_builddir/cmlogctl"
FAKE="${CMLOGD:-$top_builddir/tests/func/ctl_fake_daemon}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (permission checks run cmlogctl as nobody)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing (JSON checks)"; exit 77; }

T=$(mktemp -d /tmp/cmlog-ctl.XXXXXX) || exit 99
chmod 755 "$T"
SVC="cmt$$x$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
PIDS=""
cleanup() {
	for p in $PIDS; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	sleep 0.2
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# expect CODE CMD...: run, keep stdout/stderr in $T/out $T/err, check the exit code
expect() {
	want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || { fail "'$*' exited $got, want $want"; sed 's/^/  | /' "$T/err"; }
}
has() { grep -q -- "$1" "$T/${2:-out}" || { fail "no '$1' in $2 of last command"; sed 's/^/  | /' "$T/${2:-out}" | head -20; }; }
start() { # start NAME ARGS...: start a daemon in the background and wait for its socket
	name=$1; shift
	"$FAKE" -p "$T/$name.pid" "$@" || { echo "ERROR: daemon $name did not start"; exit 99; }
	PIDS="$PIDS $T/$name.pid"
}

UA=LVM-fakeA9Jm0d3vH0c8k2Qz7wYtq1eRrPpXxL0a2b3c4d5e6f7g8h9i0jKkLlMmNn
UB=LVM-fakeB7Qx1s9kR4t6u8v0w2x4y6z8A0B2C4D6E8F0G2H4I6J8K0L2M4N6O8P0Q2

start frozen -s "$SVC"
C="$CTL -c $T/none.conf"     # explicit missing config would fail: use -s only below
C="$CTL -s $SVC"

# --- text output ---
expect 0 $C status
has '^Daemon$'; has '^  connected:  yes$'; has '^  quorate:    yes$'; has '^  protocol:   1$'
has '^Logs: 3$'; has "^log $UB (luid 2)$"; has '^  in sync     400/1000 (40.00%)$'
has '^  recovering  region 400 by node 2$'; has '^  marks       node 1: 3, node 2: 1$'
has '^  pending     2$'; has '^  state       suspended$'; has '^  writer      node 1$'

expect 0 $C logs
cat >"$T/want" <<EOT
LUID   TYPE  STATE        DISK    SYNC%  UUID
1      disk  resumed      A     100.00%  $UA
2      core  resumed      -      40.00%  $UB
3      disk  suspended    A     100.00%  LVM-fakeC3Zr5t7u9v1w3x5y7z9A1B3C5D7E9F1G3H5I7J9K1L3M5N7O9P1Q3R5S7
EOT
diff -u "$T/want" "$T/out" || fail "logs text differs"

expect 0 $C show "$UB"
cat >"$T/want" <<EOT
log $UB (luid 2)
  type        core
  state       resumed
  regions     1000 x 64 KiB
  in sync     400/1000 (40.00%)
  recovering  region 400 by node 2
  members     1 2
  writer      none
  disk        -
  marks       node 1: 3, node 2: 1
  pending     2
  protocol    1 (gen 3)
EOT
diff -u "$T/want" "$T/out" || fail "show text differs"

expect 0 $C members
cat >"$T/want" <<EOT
Protocol version: 1
Quorate:          yes

Nodeid Protocol  Logs
     1        1     3 (local)
     2        1     2
     3        2     1
EOT
diff -u "$T/want" "$T/out" || fail "members text differs"

expect 0 $C status --cluster
has '^Cluster view: 3 nodes$'
has '^3      no         -          -        -        0  (no answer within 2000 ms)$'
has "^resumed 40.0%       resumed 39.0%       -                   $UB/2\$"

expect 0 $C dump
has '^# flight recorder: [0-9]* events, 0 dropped, capacity 1024$'
has ' membership - daemon group: joined, members 1 2 3, protocol 1$'
has ' request    - control: status$'

expect 0 $C version
has '^cmlogctl [0-9.]* (api 1)$'; has '^cmlogd 0.1.0-fake (api 1)$'

# --- JSON output (schema in cmlogctl(8)) ---
jcheck() { # jcheck PYTHON-EXPR-ON-j: the last command's stdout parsed as j
	python3 -c "import json,sys; j=json.load(open('$T/out')); sys.exit(0 if ($1) else 1)" ||
		fail "JSON check failed: $1"
}
expect 0 $C -j status
jcheck 'j["api_version"]==1 and j["command"]=="status" and j["corosync"]["quorate"] is True'
jcheck 'set(j["daemon"])>={"version","pid","node_id","uptime_s","log_level"}'
jcheck 'len(j["logs"])==3 and j["logs"][1]["sync_percent"]==40.0 and j["logs"][1]["recovering"]=={"region":400,"node_id":2}'
jcheck 'j["logs"][0]["disk_state"]=="A" and j["logs"][1]["disk_state"] is None and j["logs"][1]["marks"][0]=={"node_id":1,"regions":3}'
jcheck 'set(j["logs"][0])=={"uuid","luid","type","state","region_size","region_count","sync_count","sync_percent","in_sync","recovering","disk_state","writer","protocol_version","gen","pending_requests","members","marks"}'
expect 0 $C status -j --cluster
jcheck 'j["command"]=="cluster" and [n["node_id"] for n in j["nodes"]]==[1,2,3] and j["nodes"][2]["status"] is None and j["nodes"][2]["reachable"] is False'
expect 0 $C logs -j
jcheck 'j["command"]=="logs" and len(j["logs"])==3'
expect 0 $C -j show "$UA"
jcheck 'j["command"]=="show" and len(j["logs"])==1 and j["logs"][0]["uuid"]=="'"$UA"'"'
expect 0 $C -j members
jcheck 'j["protocol_version"]==1 and j["members"][0]=={"node_id":1,"local":True,"protocol_max":1,"logs":3}'
expect 0 $C -j dump
jcheck 'j["capacity"]==1024 and j["dropped"]==0 and j["events"][0]["kind"]=="membership" and j["events"][0]["uuid"] is None'
expect 0 $C -j version
jcheck 'j["version"]=="0.1.0-fake" and "client_version" in j'

# --- not found: exit 3 ---
expect 3 $C show LVM-no-such-log
has '^cmlogctl: no log with uuid LVM-no-such-log$' err
expect 3 $C -j show LVM-no-such-log
jcheck 'j["exit_code"]==3 and j["error"]=="no log with uuid LVM-no-such-log"'
expect 3 $C watch LVM-no-such-log --count 1

# --- usage: exit 2 ---
expect 2 $CTL; has 'missing command' err
expect 2 $C frobnicate; has "unknown command 'frobnicate'" err
expect 2 $C show; has 'show needs a UUID' err
expect 2 $C logs --cluster; has 'cluster only goes with status' err
expect 2 $C status --count 3
expect 2 $C watch --count 0; has "bad count '0'" err
expect 2 $C watch --interval abc
expect 2 $C --bogus status
expect 2 $C status extra; has "unexpected argument 'extra'" err
expect 2 $C show 'bad uuid'; has "bad UUID" err
expect 2 $CTL -c "$T/missing.conf" status; has "missing.conf: No such file or directory" err
printf 'log_level = loud\n' >"$T/bad.conf"
expect 2 $CTL -c "$T/bad.conf" status; has "bad.conf:1: bad value 'loud' for log_level" err
expect 0 $CTL --help; has '^Usage: cmlogctl'

# --- no daemon: exit 1 ---
expect 1 $CTL -s "${SVC}none" status
has "^cmlogctl: cmlogd is not running (control socket '${SVC}none'" err
expect 1 $CTL -j -s "${SVC}none" logs
jcheck 'j["exit_code"]==1'

# --- permission: exit 4 for a caller that is neither root nor in socket_group ---
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
expect 4 $NOBODY $C status
has '^cmlogctl: permission denied: cmlogctl needs root (no socket_group is configured)$' err
expect 0 $C dump
has ' error      - control: refused peer uid 65534 gid 65534'

# With socket_group = daemon, that group may query; other groups still may not.
cat >"$T/ro.conf" <<EOT
ctl_service = ${SVC}ro
socket_group = daemon
EOT
chmod 644 "$T/ro.conf"
start ro -c "$T/ro.conf"
expect 0 setpriv --reuid=nobody --regid=daemon --clear-groups $CTL -c "$T/ro.conf" status
has '^Logs: 3$'
expect 4 $NOBODY $CTL -c "$T/ro.conf" status
has '^cmlogctl: permission denied: cmlogctl needs root or membership in group daemon$' err
expect 0 $CTL -c "$T/ro.conf" status

# The service name is taken: a second daemon on it fails instead of stealing it.
expect 1 "$FAKE" -f -s "$SVC" -p "$T/dup.pid"

# --- watch ---
expect 0 $C watch --count 2 --interval 0.05
[ "$(grep -c '^-- refresh' "$T/out")" -eq 2 ] || fail "watch --count 2 did not refresh twice"
has '^  \[############..................\]  40.00% 400/1000 '
has '0.0 regions/s'
expect 0 $C watch "$UA"
[ "$(grep -c '^-- refresh' "$T/out")" -eq 1 ] || fail "watch of an in-sync log did not stop at once"
has 'in sync$'

start moving -s "${SVC}mv" --resync-step 100
expect 0 $CTL -s "${SVC}mv" watch "$UB" --interval 0.1
has '^  \[##############################\] 100.00% 1000/1000  [0-9.]* regions/s  in sync$'
n=$(grep -c '^-- refresh' "$T/out")
[ "$n" -ge 3 ] || fail "watch of a resyncing log refreshed only $n times"
rate=$(grep -o '[0-9.]* regions/s' "$T/out" | tail -1 | cut -d' ' -f1)
python3 -c "import sys; sys.exit(0 if 300 <= $rate <= 1500 else 1)" || fail "watch rate $rate not near 1000/s"
expect 0 $CTL -s "${SVC}mv" -j watch --count 1
jcheck 'j["command"]=="watch" and j["in_sync"] is True and all(l["rate"] is None for l in j["logs"])'

# SIGINT stops watch cleanly.
$C watch --interval 0.1 >"$T/wout" 2>&1 &
wp=$!
sleep 0.5
kill -INT $wp
wait $wp; rc=$?
[ $rc -eq 0 ] || fail "watch after SIGINT exited $rc"
grep -q '^-- refresh' "$T/wout" || fail "watch printed nothing before SIGINT"

# The daemon going away is "not running" for the next query.
kill "$(cat "$T/frozen.pid")"; sleep 0.3
expect 1 $C status
[ ! -f "$T/frozen.pid" ] || fail "daemon left its pid file behind"

# --- config check (cmlogd -n -c FILE) on the shipped example ---
expect 0 "$FAKE" -n -c "$top_srcdir/conf/cmlogd.conf"
has '^# socket_group unset: root only$'; has '^flight_events = 1024$'
expect 1 "$FAKE" -n -c "$T/bad.conf"
has "^cmlogd: $T/bad.conf:1: bad value 'loud' for log_level" err

[ $FAILS -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "PASS: cmlogctl CLI checks"
