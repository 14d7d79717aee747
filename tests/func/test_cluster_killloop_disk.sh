#!/bin/bash
# The kill loop (test_cluster_killloop.sh) on a clustered-disk log: three nodes share one log
# device file; node 3's cmlogd is SIGKILLed under load CMLOG_KILLLOOP_N times (default 25
# here) and restarted. Node 3 is the log's preferred disk writer (the uuid is chosen so), so
# every kill is a writer crash with writes in flight (a survivor takes over at once) and every
# rejoin hands the log back to node 3 (TAKEOVER + HANDOVER). Besides the core variant's
# checks, the device ends with the kernel's header and every region clean.
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
export top_srcdir
CMLOG_KILLLOOP_LOG=disk CMLOG_KILLLOOP_N=${CMLOG_KILLLOOP_N:-25} \
	exec bash "$top_srcdir/tests/func/test_cluster_killloop.sh"
