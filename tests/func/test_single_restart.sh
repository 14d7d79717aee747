#!/bin/bash
# cmlogd life cycle on one node: SIGKILL + restart between kernel requests (the -ESRCH
# reconnect path), the SIGTERM policy with active logs, the pid file lock, SIGUSR1 dumps,
# and daemonizing.
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init
single_start_daemon
U="single-restart-$CL_RUN_ID"
L=0x7000
single_driver --uuid "$U" --luid $L "ctr:1024 clustered-core 8" resume mark:4 flush \
	in-sync:4=0 sync-count=0 || single_fail "activation"

# Table reload with integrated_flush: the kernel runs the old luid's delayed FLUSH (no
# payload) after its POSTSUSPEND (userspace_dtr). It must succeed, not -ESRCH (the reconnect
# RESUME of the old luid would hang `dmsetup resume`).
R="single-reload-$CL_RUN_ID"
single_driver --uuid "$R" --luid 0x10 "ctr:1024 clustered-core 8" resume \
	flush:3 || single_fail "reload: old table"
single_driver --uuid "$R" --luid 0x11 "ctr:1024 clustered-core 8" ||
	single_fail "reload: new table CTR"
single_driver --uuid "$R" --luid 0x10 presuspend postsuspend flush clear:3 ||
	single_fail "reload: FLUSH after POSTSUSPEND of the old luid"
single_driver --uuid "$R" --luid 0x11 resume flush:4 || single_fail "reload: RESUME of the new luid"
single_driver --uuid "$R" --luid 0x10 flush dtr || single_fail "reload: late FLUSH + DTR of the old luid"
single_driver --uuid "$R" --luid 0x11 in-sync:5=0 flush:5 presuspend postsuspend flush dtr ||
	single_fail "reload: new luid after the old one left"
grep -q "FLUSH while suspended: -ESRCH" "$SINGLE_LOG" && single_fail "reload: -ESRCH answered"
echo "ok - reload: the old luid's late FLUSH (after POSTSUSPEND) and DTR succeed"

# a second daemon refuses to start while the first holds the pid file lock
if cl_exec 1 "$CMLOGD" -f --pidfile "$SINGLE_DIR/cmlogd.pid" >"$SINGLE_DIR/second.out" 2>&1; then
	single_fail "a second cmlogd started"
fi
grep -q 'another cmlogd' "$SINGLE_DIR/second.out" || single_fail "no clear refusal message"
echo "ok - a second cmlogd refuses to start"

# SIGUSR1: blackbox written
kill -USR1 "$SINGLE_PID"
for i in $(seq 1 50); do ls "$SINGLE_DIR"/cmlogd-blackbox-* >/dev/null 2>&1 && break; sleep 0.1; done
ls "$SINGLE_DIR"/cmlogd-blackbox-* >/dev/null 2>&1 || single_fail "no blackbox dump on SIGUSR1"
for i in $(seq 1 50); do ls "$SINGLE_DIR"/cmlogd-flight-* >/dev/null 2>&1 && break; sleep 0.1; done
grep -q " request $U CTR seq " "$SINGLE_DIR"/cmlogd-flight-* ||
	single_fail "no flight recorder dump with the CTR on SIGUSR1"
echo "ok - SIGUSR1 writes the blackbox and the flight recorder"

# SIGTERM with an active log is refused once
kill -TERM "$SINGLE_PID"; sleep 1
kill -0 "$SINGLE_PID" 2>/dev/null || single_fail "first SIGTERM with an active log ended cmlogd"
grep -q 'logs are active' "$SINGLE_LOG" || single_fail "no 'logs are active' message"
echo "ok - the first SIGTERM with an active log is refused"

# SIGKILL between requests, restart: the kernel's reconnect path recovers the log
single_kill_daemon KILL
single_start_daemon
single_driver --uuid "$U" --luid $L esrch:in-sync:4 "ctr-reconnect:1024 clustered-core 8" \
	resume "ctr-reconnect:1024 clustered-core 8" resume in-sync:4=0 sync-count=0 \
	mark:5 flush || single_fail "reconnect after SIGKILL"
echo "ok - after SIGKILL + restart: -ESRCH, reconnect CTR (twice), RESUME (twice), core log resyncs"

# two SIGTERMs within 5 s end it even with an active log
kill -TERM "$SINGLE_PID"; sleep 0.5; kill -TERM "$SINGLE_PID"
cl_wait_pid "$SINGLE_PID" 10 >/dev/null
kill -0 "$SINGLE_PID" 2>/dev/null && single_fail "two SIGTERMs did not end cmlogd"
echo "ok - a second SIGTERM within 5 s exits"

# daemonized start: the parent returns once the daemon is ready; the pid file names it
cl_exec 1 "$CMLOGD" --userspace-peer -c /dev/null --pidfile "$SINGLE_DIR/cmlogd.pid" \
	--state-dir "$SINGLE_DIR" || single_fail "daemonized start failed"
dpid=$(cat "$SINGLE_DIR/cmlogd.pid")
kill -0 "$dpid" 2>/dev/null || single_fail "daemon from the pid file is not running"
cl_on_cleanup "kill -KILL $dpid 2>/dev/null"
single_driver --uuid "$U-2" --luid 0x7100 "ctr:64 clustered-core 8" resume dtr ||
	single_fail "the daemonized cmlogd does not answer"
kill -TERM "$dpid"
for i in $(seq 1 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && single_fail "daemonized cmlogd did not exit on SIGTERM"
echo "ok - daemonized start, pid file, clean exit"
echo "PASS: life cycle"
