#!/bin/bash
# cmlogd on one node (real corosync in a netns) against the kernel stand-in's scenarios.
# "writes" runs in test_single_writes.sh (see there).
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init
single_start_daemon
single_standin activate resync status reload suspend remove reconnect badinput ||
	single_fail "stand-in scenarios failed"
# no active log left: one SIGTERM ends the daemon cleanly
single_kill_daemon TERM
grep -q 'exiting (code 0)' "$SINGLE_LOG" || single_fail "cmlogd did not exit cleanly"
echo "PASS: stand-in scenarios against cmlogd"
