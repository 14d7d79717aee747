#!/bin/bash
# tools/demo.sh (the README's main command) against the already built tree, without the
# package installation: it must exit 0, print every phase header in order, and leave nothing
# of its cluster behind. About a minute.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
[ "$(id -u)" = 0 ] || { echo "SKIP: the demo needs root"; exit 77; }
command -v corosync >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
command -v corosync >/dev/null 2>&1 || { echo "SKIP: corosync not installed"; exit 77; }
out=$(mktemp /tmp/cmdemo.XXXXXX) || exit 99
trap 'rm -f "$out"' EXIT
CMLOG_SKIP_INSTALL=1 timeout 300 "$top_srcdir/tools/demo.sh" "$top_builddir" >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" = 0 ] || { echo "FAIL: tools/demo.sh exited $rc"; exit 1; }
n=0
for p in "Dependencies" "Build into" "Three-node corosync cluster" "cmlogd on every node" \
	"Activate mirror log" "Mirror workload" "Node failure: kill -9" "Resync of node 3" \
	"Node 3 restarts" "Replicas: the state"; do
	n=$((n + 1))
	grep -q "^==== \[$n/10\] $p" "$out" || { echo "FAIL: phase $n ($p) not printed"; exit 1; }
done
grep -q '^==== demo passed' "$out" || { echo "FAIL: no final line"; exit 1; }
grep -q 'skipped (CMLOG_SKIP_INSTALL=1)' "$out" || { echo "FAIL: installation not skipped"; exit 1; }
grep -q 'identical on all three nodes' "$out" || { echo "FAIL: replicas not compared"; exit 1; }
run=$(sed -n 's/.*netns cmh\([0-9a-f]\{5\}\)n1$/\1/p' "$out" | head -n 1)
[ -n "$run" ] || { echo "FAIL: no run id in the output"; exit 1; }
. "$top_srcdir/tests/func/cluster.sh"
if ! cl_leftovers "$run"; then
	echo "FAIL: the demo left run $run behind"
	exit 1
fi
echo "PASS: demo (10 phases, run $run cleaned up)"
