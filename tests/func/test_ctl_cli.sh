#!/bin/bash
# shellcheck disable=SC2086,SC2154 # top_srcdir/top_builddir come from the harness
# test_ctl_cli.sh: cmlogctl against the real cmlogd over its control socket (daemon/ctl.c),
# on a one-node corosync cluster in a network namespace (tests/func/single_lib.sh), with logs
# activated through the kernel stand-in driver: text and JSON output, exit codes for bad
# arguments (2), an unknown uuid (3), no daemon (1) and a caller without permission (4, as
# nobody via setpriv), socket_group and log_level applied by SIGHUP, and cmlogd -n.
#
# The second part runs tests/func/ctl_fake_daemon, only for what the real daemon cannot
# produce on one node: a synthetic layout of three logs (a disk log, a log recovering a
# region on another node, marks of two nodes, a node that does not answer status --cluster,
# three members with different protocol versions) and a log whose resync progresses by
# itself (watch's rate).
set -u
# $R, $CTL ... and $NOBODY are command prefixes, split into words on purpose.
. "$top_srcdir/tests/func/single_lib.sh"
CTL="$top_builddir/cmlogctl"
FAKE="$top_builddir/tests/func/ctl_fake_daemon"
command -v setpriv >/dev/null || cl_skip "setpriv (util-linux) missing"
command -v python3 >/dev/null || cl_skip "python3 missing (JSON checks)"
single_init

T="$CL_TMP/ctl"
mkdir -p "$T" && chmod 755 "$CL_TMP" "$T"
SVC="cmt$CL_RUN_ID"
PIDS=""
stop_fakes() {
	local p
	for p in $PIDS; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	return 0
}
cl_on_cleanup stop_fakes

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# expect CODE CMD...: run, keep stdout/stderr in $T/out $T/err, check the exit code
expect() {
	local want=$1 got
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || { fail "'$*' exited $got, want $want"; sed 's/^/  | /' "$T/err"; }
}
has() { grep -q -- "$1" "$T/${2:-out}" || { fail "no '$1' in ${2:-out} of last command"; sed 's/^/  | /' "$T/${2:-out}" | head -20; }; }
jcheck() { # jcheck PYTHON-EXPR-ON-j: the last command's stdout parsed as j
	python3 -c "import json,sys; j=json.load(open('$T/out')); sys.exit(0 if ($1) else 1)" ||
		{ fail "JSON check failed: $1"; head -c 2000 "$T/out"; echo; }
}
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"

# ======== part 1: the real cmlogd ========
cat >"$T/cmlogd.conf" <<EOT
log_level = info
ctl_service = $SVC
flight_events = 256
EOT
chmod 644 "$T/cmlogd.conf"
SINGLE_LOG="$SINGLE_DIR/cmlogd.ctl.log"
cl_bg 1 "$SINGLE_LOG" "$CMLOGD" -f --userspace-peer -c "$T/cmlogd.conf" \
	--pidfile "$T/cmlogd.pid" --state-dir "$T"
SINGLE_PID=$CL_LAST_PID
for _ in $(seq 1 100); do
	grep -q 'ready: netlink port' "$SINGLE_LOG" 2>/dev/null && break
	sleep 0.1
done
grep -q 'ready: netlink port' "$SINGLE_LOG" || single_fail "cmlogd did not become ready"
R="cl_exec 1 $CTL -c $T/cmlogd.conf" # cmlogctl in the node's namespace, socket from the file

RA="ctl-a-$CL_RUN_ID"
RB="ctl-b-$CL_RUN_ID"
single_driver --uuid "$RA" --luid 16 "ctr:1024 clustered-core 8 nosync" resume mark:3,9 flush \
	>/dev/null || single_fail "activating log A"
single_driver --uuid "$RB" --luid 17 "ctr:2048 clustered-core 16" >/dev/null ||
	single_fail "constructing log B"
for _ in $(seq 1 50); do # the daemon group joined: "connected"
	$R status 2>/dev/null | grep -q '^  connected:  yes$' && break
	sleep 0.1
done

# --- text output ---
expect 0 $R status
has '^Daemon$'; has '^  connected:  yes$'; has '^  quorate:    yes$'; has '^  protocol:   3$'
has '^  node id:    1$'; has '^  log level:  info$'; has "^  pid:        $SINGLE_PID$"
has '^Logs: 2$'; has "^log $RA (luid 16)$"; has "^log $RB (luid 17)$"
has '^  state       constructed$'

expect 0 $R show "$RA"
head -n 11 "$T/out" >"$T/got"
cat >"$T/want" <<EOT
log $RA (luid 16)
  type        core
  state       resumed
  regions     128 x 4 KiB
  in sync     128/128 (100.00%)
  recovering  none
  members     1
  writer      none
  disk        -
  marks       node 1: 2
  pending     0
EOT
diff -u "$T/want" "$T/got" || fail "show text differs"
has '^  protocol    3 (gen [0-9]*)$'; has '^  digest      [0-9a-f]\{16\}$'

expect 0 $R logs
has '^LUID   TYPE  STATE        DISK    SYNC%  UUID$'
has "^16     core  resumed      -     100.00%  $RA\$"
has "^17     core  constructed  -       0.00%  $RB\$"

expect 0 $R members
has '^Protocol version: 3$'; has '^Quorate:          yes$'
has '^     1        3     2 (local)$'

expect 0 $R status --cluster
has '^Cluster view: 1 node$'
has '^1      yes        yes        yes      3        2$'
has "^resumed 100.0%      $RA/16\$"

expect 0 $R dump
has '^# flight recorder: [0-9]* events, [0-9]* dropped, capacity 256$'
has " request    $RA CTR seq "; has " request    $RA RESUME seq "
has ' membership - daemon group: 1 members, 1 joined$'
has " membership $RA synced$"

expect 0 $R version
has '^cmlogctl [0-9.]* (api 1)$'; has '^cmlogd [0-9.]* (api 1)$'

# --- JSON output (schema in cmlogctl(8)) ---
expect 0 $R -j status
jcheck 'j["api_version"]==1 and j["command"]=="status" and j["corosync"]["quorate"] is True and j["corosync"]["connected"] is True'
jcheck 'isinstance(j["corosync"]["ring_id"], str) and __import__("re").fullmatch(r"1\.[0-9]+", j["corosync"]["ring_id"])'
jcheck 'set(j["daemon"])>={"version","pid","node_id","uptime_s","log_level"} and j["daemon"]["node_id"]==1'
jcheck 'len(j["logs"])==2 and [l["uuid"] for l in j["logs"]]==["'"$RA"'","'"$RB"'"]'
jcheck 'set(j["logs"][0])=={"uuid","luid","type","state","region_size","region_count","sync_count","sync_percent","in_sync","recovering","disk_state","writer","protocol_version","gen","pending_requests","synced","commits_sent","rejected_messages","requests","hot_requests","digest","members","marks"}'
jcheck 'j["logs"][0]["requests"]>=4 and j["logs"][0]["hot_requests"]==2'
jcheck 'j["logs"][0]["marks"]==[{"node_id":1,"regions":2}] and j["logs"][0]["members"]==[1] and j["logs"][0]["synced"] is True and len(j["logs"][0]["digest"])==16'
jcheck 'j["logs"][0]["region_count"]==128 and j["logs"][0]["region_size"]==4096 and j["logs"][0]["sync_percent"]==100.0 and j["logs"][0]["recovering"] is None'
jcheck 'j["logs"][1]["state"]=="constructed" and j["logs"][1]["digest"] is None and j["logs"][1]["region_count"]==128 and j["logs"][1]["region_size"]==8192'
expect 0 $R -j show "$RA"
jcheck 'j["command"]=="show" and len(j["logs"])==1 and j["logs"][0]["luid"]==16'
expect 0 $R status -j --cluster
jcheck 'j["command"]=="cluster" and [n["node_id"] for n in j["nodes"]]==[1] and j["nodes"][0]["reachable"] is True and j["nodes"][0]["status"]["logs"][0]["uuid"]=="'"$RA"'"'
expect 0 $R -j members
jcheck 'j["protocol_version"]==3 and j["members"]==[{"node_id":1,"local":True,"protocol_max":3,"logs":2}]'
expect 0 $R -j dump
jcheck 'j["capacity"]==256 and any(e["kind"]=="request" and e["uuid"]=="'"$RA"'" for e in j["events"])'
expect 0 $R -j logs
jcheck 'j["command"]=="logs" and len(j["logs"])==2'

# --- a log reaching sync: watch ends ---
expect 0 $R watch "$RA"
has 'in sync$'

# --- not found: exit 3 ---
expect 3 $R show LVM-no-such-log
has '^cmlogctl: no log with uuid LVM-no-such-log$' err
expect 3 $R -j show LVM-no-such-log
jcheck 'j["exit_code"]==3 and j["error"]=="no log with uuid LVM-no-such-log"'
expect 3 $R watch LVM-no-such-log --count 1

# --- usage: exit 2 ---
expect 2 $CTL; has 'missing command' err
expect 2 $R frobnicate; has "unknown command 'frobnicate'" err
expect 2 $R show; has 'show needs a UUID' err
expect 2 $R logs --cluster; has 'cluster only goes with status' err
expect 2 $R status --count 3
expect 2 $R watch --count 0; has "bad count '0'" err
expect 2 $R watch --interval abc
expect 2 $R --bogus status
expect 2 $R status extra; has "unexpected argument 'extra'" err
expect 2 $R show 'bad uuid'; has "bad UUID" err
expect 2 $CTL -c "$T/missing.conf" status; has "missing.conf: No such file or directory" err
printf 'log_level = loud\n' >"$T/bad.conf"
expect 2 $CTL -c "$T/bad.conf" status; has "bad.conf:1: bad value 'loud' for log_level" err
expect 0 $CTL --help; has '^Usage: cmlogctl'

# --- no daemon: exit 1 ---
expect 1 cl_exec 1 "$CTL" -s "${SVC}none" status
has "^cmlogctl: cmlogd is not running (control socket '${SVC}none'" err
expect 1 cl_exec 1 "$CTL" -j -s "${SVC}none" logs
jcheck 'j["exit_code"]==1'
# outside the node's network namespace there is no such socket either
expect 1 $CTL -c "$T/cmlogd.conf" status

# --- permission: exit 4 for a caller that is neither root nor in socket_group ---
expect 4 cl_exec 1 $NOBODY "$CTL" -c "$T/cmlogd.conf" status
has '^cmlogctl: permission denied: cmlogctl needs root (no socket_group is configured)$' err
expect 0 $R dump
has ' error      - control: refused peer uid 65534 gid 65534'

# --- SIGHUP: socket_group and log_level apply at once ---
cat >"$T/cmlogd.conf" <<EOT
log_level = warning
ctl_service = $SVC
socket_group = daemon
flight_events = 256
EOT
kill -HUP "$SINGLE_PID"
for _ in $(seq 1 30); do
	$R status 2>/dev/null | grep -q '^  log level:  warning$' && break
	sleep 0.1
done
expect 0 $R status
has '^  log level:  warning$'
expect 0 cl_exec 1 setpriv --reuid=nobody --regid=daemon --clear-groups "$CTL" -c "$T/cmlogd.conf" status
has '^Logs: 2$'
expect 4 cl_exec 1 $NOBODY "$CTL" -c "$T/cmlogd.conf" status
has '^cmlogctl: permission denied: cmlogctl needs root or membership in group daemon$' err
expect 0 $R dump
has ' request    - SIGHUP: reloaded (log level warning, socket group daemon)$'
# a bad file on SIGHUP changes nothing
printf 'log_level = loud\nctl_service = %s\n' "$SVC" >"$T/cmlogd.conf"
kill -HUP "$SINGLE_PID"
sleep 0.3
expect 0 cl_exec 1 setpriv --reuid=nobody --regid=daemon --clear-groups "$CTL" -s "$SVC" status
has '^  log level:  warning$'
grep -q "configuration not reloaded: .*cmlogd.conf:1: bad value 'loud' for log_level" "$SINGLE_LOG" ||
	fail "no log line for the refused reload"

# --- a second daemon on the same service name fails instead of stealing it ---
printf 'ctl_service = %s\n' "$SVC" >"$T/dup.conf"
expect 1 cl_exec 1 "$CMLOGD" -f --userspace-peer -c "$T/dup.conf" --pidfile "$T/dup.pid" --state-dir "$T"
grep -q "cannot open the control socket '$SVC'" "$T/err" || fail "no clear message for a taken service name"

# --- config check: cmlogd -n ---
expect 0 "$CMLOGD" -n -c "$top_srcdir/conf/cmlogd.conf"
has '^# socket_group unset: root only$'; has '^flight_events = 1024$'; has '^log_level = info$'
expect 1 "$CMLOGD" -n -c "$T/bad.conf"
has "^cmlogd: $T/bad.conf:1: bad value 'loud' for log_level" err
expect 1 "$CMLOGD" -n -c "$T/missing.conf"
has "missing.conf" err
expect 1 "$CMLOGD" -f -c "$T/bad.conf" --pidfile "$T/x.pid"
has "bad value 'loud' for log_level" err

# ======== part 2: synthetic layouts (tests/func/ctl_fake_daemon, see the header) ========
start() { # start NAME ARGS...: start a fake daemon in the background, wait for its socket
	local name=$1
	shift
	"$FAKE" -p "$T/$name.pid" "$@" || { echo "ERROR: fake daemon $name did not start"; exit 99; }
	PIDS="$PIDS $T/$name.pid"
}
FSVC="cmf$CL_RUN_ID"
UA=LVM-fakeA9Jm0d3vH0c8k2Qz7wYtq1eRrPpXxL0a2b3c4d5e6f7g8h9i0jKkLlMmNn
UB=LVM-fakeB7Qx1s9kR4t6u8v0w2x4y6z8A0B2C4D6E8F0G2H4I6J8K0L2M4N6O8P0Q2

start frozen -s "$FSVC"
C="$CTL -s $FSVC"

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
  digest      -
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

# --- JSON output of the synthetic layout ---
expect 0 $C -j status
jcheck 'j["api_version"]==1 and j["command"]=="status" and j["corosync"]["quorate"] is True'
jcheck 'set(j["daemon"])>={"version","pid","node_id","uptime_s","log_level"}'
jcheck 'len(j["logs"])==3 and j["logs"][1]["sync_percent"]==40.0 and j["logs"][1]["recovering"]=={"region":400,"node_id":2}'
jcheck 'j["logs"][0]["disk_state"]=="A" and j["logs"][1]["disk_state"] is None and j["logs"][1]["marks"][0]=={"node_id":1,"regions":3}'
jcheck 'set(j["logs"][0])=={"uuid","luid","type","state","region_size","region_count","sync_count","sync_percent","in_sync","recovering","disk_state","writer","protocol_version","gen","pending_requests","synced","commits_sent","rejected_messages","requests","hot_requests","digest","members","marks"}'
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

# --- watch ---
expect 0 $C watch --count 2 --interval 0.05
[ "$(grep -c '^-- refresh' "$T/out")" -eq 2 ] || fail "watch --count 2 did not refresh twice"
has '^  \[############..................\]  40.00% 400/1000 '
has '0.0 regions/s'
expect 0 $C watch "$UA"
[ "$(grep -c '^-- refresh' "$T/out")" -eq 1 ] || fail "watch of an in-sync log did not stop at once"
has 'in sync$'

start moving -s "${FSVC}mv" --resync-step 100
expect 0 $CTL -s "${FSVC}mv" watch "$UB" --interval 0.1
has '^  \[##############################\] 100.00% 1000/1000  [0-9.]* regions/s  in sync$'
n=$(grep -c '^-- refresh' "$T/out")
[ "$n" -ge 3 ] || fail "watch of a resyncing log refreshed only $n times"
rate=$(grep -o '[0-9.]* regions/s' "$T/out" | tail -1 | cut -d' ' -f1)
python3 -c "import sys; sys.exit(0 if 300 <= $rate <= 1500 else 1)" || fail "watch rate $rate not near 1000/s"
expect 0 $CTL -s "${FSVC}mv" -j watch --count 1
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

[ $FAILS -eq 0 ] || { echo "$FAILS check(s) failed"; SINGLE_FAILED=1; exit 1; }
echo "PASS: cmlogctl CLI checks"
