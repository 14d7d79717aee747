#!/bin/bash
# The stand-in's "writes" scenario against cmlogd on one node.
#
# Expected to fail (XFAIL_TESTS in mk/daemon.am) until the stand-in and cluster/group.h agree:
# the scenario expects IS_CLEAN(r) == 1 right after CLEAR + FLUSH (dm-log semantics), while
# the group defers clears in its activity set (group.h "Hot regions", GROUP_AL_IDLE_MS) and
# answers IS_CLEAN from the replica, so it still says 0. dm-raid1 never sends IS_CLEAN, so
# the conservative 0 is safe; every other check of the scenario passes.
set -u
. "$top_srcdir/tests/func/single_lib.sh"
single_init
single_start_daemon
single_standin writes || single_fail "stand-in scenario writes failed"
echo "PASS: writes"
