#!/bin/bash
# Smoke test of the benchmark (issue 8): tests/bench/run.sh --quick on one node must run every
# scenario and write a JSON document with the fields BENCHMARKS.md is built from. No timing
# is asserted: this machine is shared, numbers are for BENCHMARKS.md, not for pass/fail.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/func/cluster.sh"
cl_require_root_or_skip
[ -x "$top_builddir/daemon/cmlogd" ] || cl_skip "cmlogd not built"
[ -x "$top_builddir/tests/bench/loadgen" ] || cl_skip "loadgen not built"

out=$(mktemp -d /tmp/cmbench.XXXXXX) || exit 99
trap 'rm -rf "$out"' EXIT
json=$out/bench.json
"$top_srcdir/tests/bench/run.sh" -b "$top_builddir" --quick --nodes 1 --json "$json" \
	>"$out/run.out" 2>"$out/run.err"
rc=$?
cat "$out/run.out"
if [ $rc != 0 ]; then
	tail -n 40 "$out/run.err"
	cl_fail "run.sh --quick exited $rc"
fi
[ -s "$json" ] || cl_fail "no JSON written"
# one document, one line
[ "$(wc -l <"$json")" = 1 ] || cl_fail "the JSON is not one document on one line"

need()
{
	grep -q "$1" "$json" || cl_fail "JSON lacks $2"
	echo "ok - $2"
}
need '^{"machine":{"date":"' "the machine and the date"
need '"command":"' "the exact command"
need '"cpu_model":"[^"]' "the CPU model"
need '"corosync":"3' "the corosync version"
need '"scenario":"floor-ping","nodes_total":1,[^}]*"p50_us":[0-9]' "the floor round trip"
need '"scenario":"floor-flood","nodes_total":1,[^}]*"msgs_per_s":[0-9]' "the floor throughput"
for s in write-core-w1 write-core-w8 write-64logs-w8 write-disk-w1 write-integ-w8 hot-256-w1 \
	hot-1-w8 read-w8 resync; do
	need "\"scenario\":\"$s\",\"nodes_total\":1,[^}]*\"ops_per_s_total\":[0-9][^}]*\"p50_us_worst\":[0-9][^}]*\"p99_us_worst\":[0-9][^}]*\"max_us_worst\":[0-9][^}]*\"errors_total\":0,[^}]*\"daemon_cpu_us_per_request\":[0-9][^}]*\"ratio_p50_to_floor\":[0-9]" \
		"$s: ops/s, p50/p99/max, no errors, CPU per request, ratio to the floor"
done
need '"scenario":"resync"[^]]*"sync_count":128' "resync reached GET_SYNC_COUNT == region count"
need '"scenario":"join-1M","nodes_total":1,"regions":1048576,[^}]*"resume_us":[0-9]' "the join time"
need '"rss_bits_per_region_per_node":\[[0-9.-]' "resident memory per region"
# the human table
grep -q '^N  scenario' "$out/run.out" || cl_fail "no table printed"
echo "ok - table printed"
echo "PASS: benchmark smoke test"
