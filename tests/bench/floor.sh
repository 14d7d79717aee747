#!/bin/bash
# tests/bench/floor.sh: measure the CPG "floor" (issue 8) on 1, 2 and 3 real corosync nodes.
#
# For each node count it starts a fresh cluster with tests/func/cluster.sh, runs
# `cpgfloor member` on nodes 2..N and `cpgfloor ping` then `cpgfloor flood` on node 1 (all in one
# CPG group, measurements start once all N processes are in it), and prints each result line.
# Needs root. Usage:
#   tests/bench/floor.sh [-b BUILDDIR] [-o JSONFILE] [NODECOUNT...]    (default: 1 2 3)
# Knobs (environment): FLOOR_COUNT (ping samples, 10000), FLOOR_SIZE (bytes, 64),
#   FLOOR_FLOOD_COUNT (100000), FLOOR_WINDOW (flood outstanding, 64), FLOOR_TOKEN (ms, 1000).
# The JSON lines (one per measurement, with "label":"nodes=N") go to JSONFILE when given.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
builddir=${top_builddir:-}
json_out=""
while getopts "b:o:h" opt; do
	case $opt in
	b) builddir=$OPTARG ;;
	o) json_out=$OPTARG ;;
	*)
		sed -n '2,12p' "$0"
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 2 3)

if [ -z "$builddir" ]; then
	if [ -x ./tests/bench/cpgfloor ]; then builddir=.; else builddir=$top_srcdir; fi
fi
cpgfloor=$(cd "$builddir" && pwd)/tests/bench/cpgfloor
[ -x "$cpgfloor" ] || {
	echo "floor.sh: $cpgfloor not built (make in the build dir, or pass -b BUILDDIR)" >&2
	exit 2
}

# shellcheck source=tests/func/cluster.sh
. "$top_srcdir/tests/func/cluster.sh"
cl_require_root_or_skip

count=${FLOOR_COUNT:-10000}
size=${FLOOR_SIZE:-64}
fcount=${FLOOR_FLOOD_COUNT:-100000}
window=${FLOOR_WINDOW:-64}
token=${FLOOR_TOKEN:-1000}
results="" # result lines of every run (the cluster temp dirs go away with each run)

run_one()
{
	local n=$1 i members=() out
	cl_init "$n" "$token" || return 1
	cl_start_all || return 1
	for ((i = 1; i <= n; i++)); do
		cl_wait_membership "$i" "$n" || return 1
		cl_wait_quorate "$i" || return 1
	done
	for ((i = 2; i <= n; i++)); do
		cl_bg "$i" "$(cl_node_dir "$i")/member.out" \
			"$cpgfloor" member -m "$n" -l "nodes=$n node=$i" || return 1
		members+=("$CL_LAST_PID")
	done
	out=$(cl_node_dir 1)
	cl_exec 1 "$cpgfloor" ping -m "$n" -s "$size" -n "$count" -l "nodes=$n" \
		>"$out/ping.out" || {
		echo "floor.sh: ping on $n node(s) failed" >&2
		return 1
	}
	cl_exec 1 "$cpgfloor" flood -m "$n" -s "$size" -n "$fcount" -w "$window" -l "nodes=$n" \
		>"$out/flood.out" || {
		echo "floor.sh: flood on $n node(s) failed" >&2
		return 1
	}
	for i in "${members[@]}"; do cl_stop_bg "$i"; done
	cat "$out/ping.out" "$out/flood.out"
	for ((i = 2; i <= n; i++)); do cat "$(cl_node_dir "$i")/member.out"; done
	results+=$(cat "$out/ping.out" "$out/flood.out")$'\n'
	cl_cleanup
}

echo "cpgfloor: corosync $(corosync -v | awk -F"'" 'NR == 1 { print $2 }'), token $token ms," \
	"$(nproc) cpu(s), $(uname -r)"
for n in "${counts[@]}"; do
	echo "== $n node(s)"
	run_one "$n" || cl_fail "floor run on $n node(s) failed"
done
if [ -n "$json_out" ]; then
	grep '^{' <<<"$results" >"$json_out"
	echo "JSON lines written to $json_out"
fi
echo "== summary (64-byte AGREED unless FLOOR_SIZE is set)"
grep '^cpgfloor \(ping\|flood\)' <<<"$results"
