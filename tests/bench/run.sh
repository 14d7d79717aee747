#!/bin/bash
# tests/bench/run.sh: the cmlog benchmark (issue 8), one command. Needs root.
#
#   sudo tests/bench/run.sh [options]
#
# Local mode (default): for each node count N it starts N real corosync nodes in network
# namespaces (tests/func/cluster.sh), cmlogd -f --userspace-peer on each, measures the CPG floor
# on those nodes (tests/bench/cpgfloor: ping = one agreed message round trip, flood =
# throughput), then runs tests/bench/loadgen on every node at once (same uuids on all nodes =
# the same mirror logs active everywhere) for each scenario:
#   write     clustered-core, new regions, MARK+FLUSH then CLEAR+FLUSH, 1 log, W writers/node
#   many      the same over 64 logs
#   disk      clustered-disk (one file per log, shared by the nodes), 1 log
#   integ     integrated flush (FLUSH carries the mark), 1 log
#   hot       a working set of 256 regions per node, and of 1 region per writer
#   read      IN_SYNC round trips
#   resync    GET_RESYNC_WORK + SET_REGION_SYNC through a whole log that starts out of sync
#   join      (largest N only) nodes 1..N-1 hold a log with a dirty pattern; node N RESUMEs it:
#             1M, 16M, 256M regions (--quick: 1M); also the daemon's resident memory per region
# For every scenario: daemon CPU time per request (utime+stime of every cmlogd from
# /proc/PID/stat, divided by the requests all loadgens sent) and the ratio of the latencies to
# the floor's ping p50 on the same nodes. Prints a table and writes one JSON document.
#
# Options:
#   -b DIR             build directory with daemon/cmlogd, tests/bench/{loadgen,cpgfloor}
#                      (default: $top_builddir, else . when it has them, else the source tree)
#   --cmlogd PATH      another cmlogd binary (e.g. a patched build, to measure a fix)
#   --nodes "1 2 3"    node counts
#   --writers "1 8 32" writers per node
#   --duration S       seconds per measurement (default 10)
#   --regions N        regions per log for write/read/hot (default 1048576)
#   --resync-regions N regions of the resync log (default 16384)
#   --join "1M 16M 256M"  join log sizes (K/M suffixes)
#   --scenarios "..."  subset of: floor write many disk integ hot read resync join
#   --json FILE        write the JSON document there (default: bench-<date>.json in $PWD)
#   --quick            short run: 2 s, W = "1 8", 65536 regions, join 1M only (smoke test)
#   --loop             clustered-disk logs on loop devices (losetup) instead of plain files
#   --keep-tmp         keep the cluster temp dirs (daemon logs) for inspection
# Remote mode (your own cluster): run corosync + `cmlogd -f --userspace-peer` inside a network
# namespace NS on every node (libqb IPC is per network namespace, and a user-space "kernel"
# must never talk to a real kernel's connector), then on every node at the same time:
#   run.sh --remote --netns NS --node I --nodes N [--pid CMLOGD_PID] [--start-at EPOCH] ...
# It runs the write scenario for each W in --writers locally and prints this node's table.
# See BENCHMARKS.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
builddir=${top_builddir:-}
cmlogd_bin=""
nodes_list="1 2 3"
writers_list="1 8 32"
duration=10
regions=1048576
resync_regions=16384
join_list="1M 16M 256M"
scenarios="floor write many disk integ hot read resync join"
json_out=""
quick=0
remote=0
r_netns=""
r_node=1
r_nodes=1
r_pid=""
r_start=""
keep_tmp=0
use_loop=0
cmdline="$0 $*"
start_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)

usage()
{
	sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	-b) builddir=$2; shift ;;
	--cmlogd) cmlogd_bin=$2; shift ;;
	--nodes) nodes_list=$2; shift ;;
	--writers) writers_list=$2; shift ;;
	--duration) duration=$2; shift ;;
	--regions) regions=$2; shift ;;
	--resync-regions) resync_regions=$2; shift ;;
	--join) join_list=$2; shift ;;
	--scenarios) scenarios=$2; shift ;;
	--json) json_out=$2; shift ;;
	--quick) quick=1 ;;
	--keep-tmp) keep_tmp=1 ;;
	--loop) use_loop=1 ;;
	--local) remote=0 ;;
	--remote) remote=1 ;;
	--netns) r_netns=$2; shift ;;
	--node) r_node=$2; shift ;;
	--pid) r_pid=$2; shift ;;
	--start-at) r_start=$2; shift ;;
	-h | --help) usage 0 ;;
	*)
		# --nodes in remote mode is a count, in local mode a list: accept both spellings
		echo "run.sh: unknown option '$1'" >&2
		usage 2
		;;
	esac
	shift
done
if [ "$quick" = 1 ]; then
	duration=2
	writers_list="1 8"
	regions=65536
	resync_regions=128
	join_list="1M"
fi
[ "$remote" = 1 ] && r_nodes=$(echo "$nodes_list" | awk '{ print $NF }')

if [ -z "$builddir" ]; then
	if [ -x ./tests/bench/loadgen ]; then builddir=.; else builddir=$top_srcdir; fi
fi
builddir=$(cd "$builddir" && pwd)
LOADGEN=$builddir/tests/bench/loadgen
CPGFLOOR=$builddir/tests/bench/cpgfloor
CMLOGD=${cmlogd_bin:-$builddir/daemon/cmlogd}
for b in "$LOADGEN" "$CPGFLOOR" "$CMLOGD"; do
	[ -x "$b" ] || {
		echo "run.sh: $b not built (make in the build dir, or pass -b BUILDDIR)" >&2
		exit 2
	}
done
[ -n "$json_out" ] || json_out=$PWD/bench-$(date -u +%Y%m%dT%H%M%SZ).json

# ---- helpers ------------------------------------------------------------------------------

# jget KEY < json-line: the value of a number or string field (flat objects only)
jget()
{
	sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1
}

# size "16M" -> 16777216
to_count()
{
	case $1 in
	*K) echo $((${1%K} * 1024)) ;;
	*M) echo $((${1%M} * 1048576)) ;;
	*) echo "$1" ;;
	esac
}

# cpu_ticks PID: utime + stime of a process, all threads (clock ticks)
cpu_ticks()
{
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

CLK_TCK=$(getconf CLK_TCK)
RESULTS=()    # JSON objects, one per measurement
TABLE=()      # human table rows
FLOOR_P50=()  # per N: the floor's ping p50 (us)

machine_json()
{
	local cpu kern cs
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	kern=$(uname -r)
	cs=$(corosync -v 2>/dev/null | awk -F"'" 'NR == 1 { print $2 }')
	printf '{"date":"%s","end":"%s","command":"%s","host_cpus":%s,"cpu_model":"%s","kernel":"%s",' "$start_date" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${cmdline//\"/\\\"}" "$(nproc)" "$cpu" "$kern"
	printf '"corosync":"%s","duration_s":%s,"regions":%s,"quick":%s}' "$cs" "$duration" \
		"$regions" "$([ $quick = 1 ] && echo true || echo false)"
}

# ---- remote mode --------------------------------------------------------------------------

if [ "$remote" = 1 ]; then
	[ -n "$r_netns" ] || {
		echo "run.sh: --remote needs --netns NS (the namespace of corosync and cmlogd)" >&2
		exit 2
	}
	echo "run.sh: remote mode, node $r_node of $r_nodes, netns $r_netns"
	for w in $writers_list; do
		before=0
		[ -n "$r_pid" ] && before=$(cpu_ticks "$r_pid")
		args=(--mode write --uuid-prefix "bench-remote-w$w" --writers "$w" --regions "$regions"
			--nosync --duration "$duration" --node $((r_node - 1)) --nodes "$r_nodes"
			--label "node$r_node")
		[ -n "$r_start" ] && args+=(--start-at "$r_start") && r_start=$((${r_start%.*} + duration + 15))
		out=$(ip netns exec "$r_netns" "$LOADGEN" "${args[@]}") || echo "run.sh: loadgen failed" >&2
		line=$(grep '^{"tool":"loadgen"' <<<"$out")
		echo "$out" | grep -v '^{'
		if [ -n "$r_pid" ] && [ -n "$line" ]; then
			after=$(cpu_ticks "$r_pid")
			req=$(jget requests <<<"$line")
			awk -v t=$((after - before)) -v hz="$CLK_TCK" -v r="$req" \
				'BEGIN { if (r > 0) printf "  daemon CPU %.1f us per request (this node)\n", t / hz * 1e6 / r }'
		fi
		RESULTS+=("$line")
	done
	{
		printf '{"machine":%s,"mode":"remote","results":[' "$(machine_json)"
		(IFS=,; printf '%s' "${RESULTS[*]}")
		printf ']}\n'
	} >"$json_out"
	echo "JSON written to $json_out"
	exit 0
fi

# ---- local mode ---------------------------------------------------------------------------

# shellcheck source=tests/func/cluster.sh
. "$top_srcdir/tests/func/cluster.sh"
cl_require_root_or_skip
[ "$keep_tmp" = 1 ] && export CL_KEEP_TMP=1
CL_QUIET=${CL_QUIET:-1}

DPIDS=() # cmlogd pid per node (index 1..N)
N=0

start_cluster()
{
	local i
	N=$1
	cl_init "$N" 1000 || return 1
	cl_start_all || return 1
	for ((i = 1; i <= N; i++)); do
		cl_wait_membership "$i" "$N" || return 1
		cl_wait_quorate "$i" || return 1
	done
	DPIDS=(0)
	for ((i = 1; i <= N; i++)); do
		local d log
		d=$(cl_node_dir "$i")
		log=$d/cmlogd.log
		cl_bg "$i" "$log" "$CMLOGD" -f --userspace-peer --pidfile "$d/cmlogd.pid" \
			--state-dir "$d" || return 1
		DPIDS+=("$CL_LAST_PID")
	done
	for ((i = 1; i <= N; i++)); do

		for _ in $(seq 1 100); do
			grep -q 'ready: netlink port' "$(cl_node_dir "$i")/cmlogd.log" 2>/dev/null && break
			kill -0 "${DPIDS[$i]}" 2>/dev/null || break
			sleep 0.1
		done
		grep -q 'ready: netlink port' "$(cl_node_dir "$i")/cmlogd.log" 2>/dev/null || {
			echo "run.sh: cmlogd on node $i did not start:" >&2
			tail -n 20 "$(cl_node_dir "$i")/cmlogd.log" >&2
			return 1
		}
	done
}

daemons_alive()
{
	local i
	for ((i = 1; i <= N; i++)); do
		kill -0 "${DPIDS[$i]}" 2>/dev/null || {
			echo "run.sh: cmlogd on node $i (pid ${DPIDS[$i]}) is gone; its log:" >&2
			tail -n 30 "$(cl_node_dir "$i")/cmlogd.log" >&2
			return 1
		}
	done
}

run_floor()
{
	local i members=() out ping flood
	for ((i = 2; i <= N; i++)); do
		cl_bg "$i" "$(cl_node_dir "$i")/member.out" \
			"$CPGFLOOR" member -m "$N" -l "nodes=$N node=$i" || return 1
		members+=("$CL_LAST_PID")
	done
	out=$(cl_node_dir 1)
	echo "  floor: cpgfloor ping and flood on $N node(s)" >&2
	cl_exec 1 "$CPGFLOOR" ping -m "$N" -s 64 -n $((quick ? 2000 : 10000)) -l "nodes=$N" \
		>"$out/ping.out" || return 1
	cl_exec 1 "$CPGFLOOR" flood -m "$N" -s 64 -n $((quick ? 20000 : 100000)) -w 64 \
		-l "nodes=$N" >"$out/flood.out" || return 1
	for i in "${members[@]}"; do cl_stop_bg "$i"; done
	ping=$(grep '^{' "$out/ping.out")
	flood=$(grep '^{' "$out/flood.out")
	FLOOR_P50[N]=$(jget p50_us <<<"$ping")
	RESULTS+=("${ping/#\{/{\"scenario\":\"floor-ping\",\"nodes_total\":$N,}")
	RESULTS+=("${flood/#\{/{\"scenario\":\"floor-flood\",\"nodes_total\":$N,}")
	TABLE+=("$(printf '%-2s %-16s %4s %5s %10.0f %8.0f %8.0f %8.0f %6s %6s %7s' "$N" floor-ping 1 1 \
		"$(jget msgs_per_s <<<"$ping")" "$(jget p50_us <<<"$ping")" "$(jget p99_us <<<"$ping")" \
		"$(jget max_us <<<"$ping")" 1.00 - -)")
	TABLE+=("$(printf '%-2s %-16s %4s %5s %10.0f %8.0f %8.0f %8.0f %6s %6s %7s' "$N" floor-flood 64 1 \
		"$(jget msgs_per_s <<<"$flood")" "$(jget p50_us <<<"$flood")" "$(jget p99_us <<<"$flood")" \
		"$(jget max_us <<<"$flood")" - - -)")
}

# run_load NAME ARGS...: loadgen with ARGS on every node at once; adds a JSON object and a row
run_load()
{
	local name=$1 i pids=() cpu0=() cpu1 go ready ok=1 lines=() t0 waited
	shift
	local prefix="b$CL_RUN_ID-$name"
	go=$CL_TMP/go-$name
	rm -f "$go"
	daemons_alive || return 1
	for ((i = 1; i <= N; i++)); do
		ready=$CL_TMP/ready-$name-$i
		rm -f "$ready"
		cl_bg "$i" "$CL_TMP/lg-$name-$i.out" timeout $((duration + 600)) "$LOADGEN" \
			--uuid-prefix "$prefix" --node $((i - 1)) --nodes "$N" --label "node$i" \
			--ready-file "$ready" --go-file "$go" "$@" || return 1
		pids+=("$CL_LAST_PID")
	done
	# all logs active on every node, then start the load everywhere at once
	t0=$SECONDS
	for ((i = 1; i <= N; i++)); do
		while [ ! -e "$CL_TMP/ready-$name-$i" ]; do
			kill -0 "${pids[$((i - 1))]}" 2>/dev/null || break
			[ $((SECONDS - t0)) -lt 300 ] || break
			sleep 0.1
		done
	done
	sleep 0.3
	for ((i = 1; i <= N; i++)); do cpu0[i]=$(cpu_ticks "${DPIDS[$i]}"); done
	touch "$go"
	waited=0
	while :; do
		local alive=0
		for i in "${pids[@]}"; do kill -0 "$i" 2>/dev/null && alive=1; done
		[ $alive = 1 ] || break
		sleep 1
		waited=$((waited + 1))
		# progress: node 1's latest line (in place on a terminal, every 5 s otherwise)
		local p
		p=$(grep 'loadgen\[' "$CL_TMP/lg-$name-1.out" 2>/dev/null | tail -n 1 | cut -c1-90)
		if [ -t 2 ]; then
			printf '\r  %-22s %-92s' "$name N=$N" "$p" >&2
		elif [ $((waited % 5)) = 0 ]; then
			printf '  %-22s %s\n' "$name N=$N" "$p" >&2
		fi
	done
	[ -t 2 ] && printf '\r%*s\r' 118 '' >&2
	cpu1=0
	for ((i = 1; i <= N; i++)); do
		cpu1=$((cpu1 + $(cpu_ticks "${DPIDS[$i]}") - cpu0[i]))
	done
	for ((i = 1; i <= N; i++)); do
		local l
		cl_wait_pid "${pids[$((i - 1))]}" 5 >/dev/null
		l=$(grep '^{"tool":"loadgen"' "$CL_TMP/lg-$name-$i.out")
		if [ -z "$l" ]; then
			echo "run.sh: $name: no result from node $i:" >&2
			tail -n 5 "$CL_TMP/lg-$name-$i.out" >&2
			ok=0
			continue
		fi
		lines+=("$l")
	done
	[ ${#lines[@]} -gt 0 ] || return 1
	# aggregate: ops/s summed, latencies of the worst node, requests summed
	local agg
	agg=$(printf '%s\n' "${lines[@]}" | awk -v cpu="$cpu1" -v hz="$CLK_TCK" -v fl="${FLOOR_P50[N]:-0}" '
		function g(k,   m) { if (match($0, "\"" k "\":[^,}]*")) { m = substr($0, RSTART, RLENGTH); sub(/^[^:]*:/, "", m); gsub(/"/, "", m); return m } return "" }
		{ ops += g("ops_per_s"); req += g("requests"); err += g("errors"); n++
		  if (g("p50_us") > p50) p50 = g("p50_us"); if (g("p99_us") > p99) p99 = g("p99_us")
		  if (g("max_us") > mx) mx = g("max_us"); w = g("writers"); k = g("logs") }
		END { us = req > 0 ? cpu / hz * 1e6 / req : 0
		      r50 = fl > 0 ? p50 / fl : 0; r99 = fl > 0 ? p99 / fl : 0
		      printf "%.1f %.1f %.1f %.1f %d %d %.2f %.2f %.2f %s %s %d", ops, p50, p99, mx, req, err, us, r50, r99, w, k, n }')
	local a_ops a_p50 a_p99 a_max a_req a_err a_us a_r50 a_r99 a_w a_k
	read -r a_ops a_p50 a_p99 a_max a_req a_err a_us a_r50 a_r99 a_w a_k _ <<<"$agg"
	RESULTS+=("$(printf '{"scenario":"%s","nodes_total":%s,"writers_per_node":%s,"logs":%s,"ops_per_s_total":%s,"p50_us_worst":%s,"p99_us_worst":%s,"max_us_worst":%s,"requests_total":%s,"errors_total":%s,"daemon_cpu_ticks":%s,"clk_tck":%s,"daemon_cpu_us_per_request":%s,"floor_p50_us":%s,"ratio_p50_to_floor":%s,"ratio_p99_to_floor":%s,"per_node":[%s]}' \
		"$name" "$N" "$a_w" "$a_k" "$a_ops" "$a_p50" "$a_p99" "$a_max" "$a_req" "$a_err" "$cpu1" \
		"$CLK_TCK" "$a_us" "${FLOOR_P50[N]:-0}" "$a_r50" "$a_r99" "$(IFS=,; echo "${lines[*]}")")")
	TABLE+=("$(printf '%-2s %-16s %4s %5s %10.0f %8.0f %8.0f %8.0f %6.2f %6.2f %7.1f%s' "$N" "$name" \
		"$a_w" "$a_k" "$a_ops" "$a_p50" "$a_p99" "$a_max" "$a_r50" "$a_r99" "$a_us" \
		"$([ "$a_err" != 0 ] && echo "  ERRORS $a_err")")")
	echo "  $(printf '%-16s' "$name") W=$a_w logs=$a_k: $(printf '%.0f' "$a_ops") ops/s, p50 $a_p50 us p99 $a_p99 us (worst node), $a_us us CPU/request, errors $a_err" >&2
	[ "$ok" = 1 ]
}

# run_join SIZE: nodes 1..N-1 hold a log of SIZE regions with a dirty pattern, node N joins
run_join()
{
	local size=$1 count i rss0=() rss1 name prefix line dirty ok=1
	count=$(to_count "$size")
	name=join-$size
	prefix="b$CL_RUN_ID-$name"
	dirty=$((count / 1000 < 100000 ? count / 1000 : 100000))
	[ "$dirty" -ge 32 ] || dirty=32
	daemons_alive || return 1
	for ((i = 1; i <= N; i++)); do rss0[i]=$(rss_kb "${DPIDS[$i]}"); done
	[ "$N" -gt 1 ] && echo "  $name: nodes 1..$((N - 1)) mark $dirty regions (runs of 16), keep the log" >&2
	local last=$((N - 1))
	[ "$N" -gt 1 ] || echo "  $name: one node: the time to RESUME a fresh log (nothing to receive)" >&2
	for ((i = 1; i <= last; i++)); do
		cl_exec "$i" timeout 900 "$LOADGEN" --mode dirty --uuid-prefix "$prefix" --regions "$count" \
			--nosync --count $((dirty / last)) --keep --quiet --label "node$i" \
			>"$CL_TMP/lg-$name-hold-$i.out" 2>&1 || {
			echo "run.sh: $name: holder on node $i failed:" >&2
			tail -n 5 "$CL_TMP/lg-$name-hold-$i.out" >&2
			return 1
		}
	done
	echo "  $name: node $N RESUMEs it" >&2
	cl_exec "$N" timeout 900 "$LOADGEN" --mode join --uuid-prefix "$prefix" --regions "$count" \
		--nosync --keep --label "node$N" --node $((N - 1)) --nodes "$N" \
		>"$CL_TMP/lg-$name-join.out" 2>&1 || ok=0
	line=$(grep '^{"tool":"loadgen"' "$CL_TMP/lg-$name-join.out")
	[ -n "$line" ] || {
		echo "run.sh: $name: no result from the joiner:" >&2
		tail -n 5 "$CL_TMP/lg-$name-join.out" >&2
		return 1
	}
	sleep 1
	local bits
	bits=""
	for ((i = 1; i <= N; i++)); do
		rss1=$(rss_kb "${DPIDS[$i]}")
		bits+="$(awk -v a="${rss0[$i]}" -v b="$rss1" -v n="$count" 'BEGIN { printf "%.3f", (b - a) * 1024 * 8 / n }') "
	done
	RESULTS+=("$(printf '{"scenario":"%s","nodes_total":%s,"regions":%s,"dirty_regions":%s,"resume_us":%s,"first_read_us":%s,"first_write_us":%s,"errors":%s,"rss_bits_per_region_per_node":[%s],"joiner":%s}' \
		"$name" "$N" "$count" "$dirty" "$(jget resume_us <<<"$line")" "$(jget first_read_us <<<"$line")" \
		"$(jget first_write_us <<<"$line")" "$(jget errors <<<"$line")" "$(echo "${bits% }" | tr ' ' ',')" "$line")")
	TABLE+=("$(printf '%-2s %-16s resume %.0f us, first IN_SYNC %.0f us, first write %.0f us; RSS bits/region per node: %s%s' \
		"$N" "$name" "$(jget resume_us <<<"$line")" "$(jget first_read_us <<<"$line")" \
		"$(jget first_write_us <<<"$line")" "$bits" \
		"$([ "$(jget errors <<<"$line")" != 0 ] && echo " ERRORS")")")
	echo "  ${TABLE[-1]#* }" >&2
	[ "$ok" = 1 ]
}

has() { case " $scenarios " in *" $1 "*) return 0 ;; esac; return 1; }

failures=0
fail() { echo "run.sh: FAILED: $*" >&2; failures=$((failures + 1)); }

echo "cmlog benchmark: corosync $(corosync -v | awk -F"'" 'NR == 1 { print $2 }'), $(nproc) cpu(s)," \
	"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)" >&2
echo "  nodes: $nodes_list; writers per node: $writers_list; $duration s per measurement; cmlogd $CMLOGD" >&2
maxn=$(echo "$nodes_list" | awk '{ m = 0; for (i = 1; i <= NF; i++) if ($i > m) m = $i; print m }')
for n in $nodes_list; do
	echo "== $n node(s)" >&2
	start_cluster "$n" || { fail "cluster of $n node(s) did not start"; cl_cleanup; continue; }
	if has floor; then run_floor || fail "floor on $n node(s)"; fi
	for w in $writers_list; do
		if has write; then
			run_load "write-core-w$w" --mode write --writers "$w" --regions "$regions" \
				--nosync --duration "$duration" || fail "write W=$w N=$n"
		fi
	done
	if has many; then
		for w in $writers_list; do
			run_load "write-64logs-w$w" --mode write --writers "$w" --logs 64 \
				--regions "$regions" --nosync --duration "$duration" || fail "64 logs W=$w N=$n"
		done
	fi
	if has disk; then
		for w in $writers_list; do
			dev=$CL_TMP/disk-w$w
			truncate -s $((regions / 8 + 1048576)) "$dev"
			if [ "$use_loop" = 1 ]; then
				loopdev=$(losetup -f --show "$dev") || { fail "losetup $dev"; continue; }
				cl_on_cleanup "losetup -d $loopdev 2>/dev/null"
				dev=$loopdev
			fi
			run_load "write-disk-w$w" --mode write --writers "$w" --regions "$regions" \
				--nosync --dev "$dev" --duration "$duration" || fail "disk W=$w N=$n"
		done
	fi
	if has integ; then
		for w in $writers_list; do
			run_load "write-integ-w$w" --mode write --integrated --writers "$w" \
				--regions "$regions" --nosync --duration "$duration" || fail "integrated W=$w N=$n"
		done
	fi
	if has hot; then
		run_load "hot-256-w1" --mode hot --hot-set $((256 * n)) --writers 1 --regions "$regions" \
			--nosync --duration "$duration" || fail "hot N=$n"
		run_load "hot-1-w8" --mode hot --hot-set $((8 * n)) --writers 8 --regions "$regions" \
			--nosync --duration "$duration" || fail "hot N=$n"
	fi
	if has read; then
		run_load "read-w8" --mode read --writers 8 --regions "$regions" --duration "$duration" ||
			fail "read N=$n"
	fi
	if has resync; then
		run_load "resync" --mode resync --writers 1 --regions "$resync_regions" \
			--duration $((duration * 30 > 120 ? duration * 30 : 120)) || fail "resync N=$n"
	fi
	if has join && [ "$n" = "$maxn" ]; then
		for s in $join_list; do run_join "$s" || fail "join $s N=$n"; done
	fi
	daemons_alive || fail "a cmlogd died on $n node(s)"
	if [ "$keep_tmp" = 1 ]; then echo "  logs kept in $CL_TMP" >&2; fi
	cl_cleanup
done

{
	printf '{"machine":%s,"mode":"local","results":[' "$(machine_json)"
	(IFS=,; printf '%s' "${RESULTS[*]}")
	printf ']}\n'
} >"$json_out"

echo
echo "cmlog benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cpu(s), corosync $(corosync -v | awk -F"'" 'NR == 1 { print $2 }')"
echo "latency in us (worst node); ops/s = total of all nodes; ratio = latency / floor ping p50; CPU = daemon us per request"
printf '%-2s %-16s %4s %5s %10s %8s %8s %8s %6s %6s %7s\n' N scenario W logs ops/s p50 p99 max r50 r99 cpu/req
printf '%s\n' "${TABLE[@]}"
echo "JSON written to $json_out"
if [ "$failures" -gt 0 ]; then
	echo "run.sh: $failures measurement(s) failed (see above)" >&2
	exit 1
fi
exit 0
