#!/bin/bash
# The stand-in's "writes" scenario against cmlogd on one node, and the deferred clears of
# cluster/group.h ("Hot regions") seen through the control socket.
#
# IS_CLEAN after CLEAR + FLUSH: the group defers clears in its activity set and answers
# IS_CLEAN from the replica, so right after the FLUSH it may still say 0 (safe: dm-raid1
# never sends IS_CLEAN, and 0 only costs a resync). The scenario accepts 0 or 1 at once and
# requires 1 within 5 s of the last write (the clear leaves GROUP_AL_IDLE_MS = 2 s later).
# Then, with the daemon_driver and `cmlogctl show --json` (commits_sent): a MARK + FLUSH of a
# region whose clear is still deferred is answered without a cluster message, and the
# deferred clear goes out as exactly one commit once the log is idle.
set -u
. "$top_srcdir/tests/func/single_lib.sh"
CMLOGCTL="$top_builddir/cmlogctl"
single_init
single_start_daemon
single_standin writes || single_fail "stand-in scenario writes failed"
echo "ok - stand-in scenario writes"

command -v jq >/dev/null || cl_skip "jq not installed (the commits_sent checks need it)"
U="single-writes-$CL_RUN_ID"
L=0x7200
commits() {
	cl_exec 1 "$CMLOGCTL" -c /dev/null show "$U" --json | jq -r '.logs[0].commits_sent'
}
single_driver --uuid "$U" --luid $L "ctr:1024 clustered-core 8 nosync" resume mark:5 flush \
	clear:5 flush || single_fail "first write"
c1=$(commits)
single_driver --uuid "$U" --luid $L mark:5 flush || single_fail "re-mark"
c2=$(commits)
[ -n "$c1" ] && [ "$c1" = "$c2" ] ||
	single_fail "MARK + FLUSH of a region with a deferred clear sent a commit ($c1 -> $c2)"
echo "ok - MARK + FLUSH of region 5 within the idle window: no cluster message (commits_sent $c1)"
single_driver --uuid "$U" --luid $L clear:5 flush || single_fail "clear"
c3=$(commits)
[ "$c3" = "$c2" ] || single_fail "CLEAR + FLUSH sent a commit at once ($c2 -> $c3)"
sleep 3
c4=$(commits)
[ "$c4" = $((c3 + 1)) ] || single_fail "the deferred clear did not leave as one commit ($c3 -> $c4)"
single_driver --uuid "$U" --luid $L is-clean:5=1 || single_fail "region 5 not clean after idle"
echo "ok - the deferred clear left as one commit after the idle window (commits_sent $c4); IS_CLEAN(5) = 1"
echo "PASS: writes"
