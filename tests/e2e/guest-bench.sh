#!/bin/bash
# guest-bench.sh: runs INSIDE the e2e guest (see bench-e2e.sh). Write throughput of a
# dm-mirror whose dirty log is cmlogd (clustered-core, clustered-disk on a single-node
# corosync) against the same mirror with the kernel's own log (core, disk): sequential
# 1 MiB writes and random 4 KiB writes with O_DIRECT at queue depth 1 (tests/e2e/wbench),
# same offsets for every log, over a 256 MiB mirror of 512 KiB regions (512 regions). The
# random pass is timed after an untimed random warm-up pass (another seed) on the same
# mirror, so it measures the steady state of a working set of a few hundred regions, as the
# issue asks, not the first write of each region. Prints one line per run and the
# cmlogd/kernel ratios. Absolute numbers are TCG numbers (an emulated CPU): only the ratios
# mean anything.
# Without daemon/cmlogd it measures the kernel's logs only and says so.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"

WB=$top_builddir/tests/e2e/wbench
[ -x "$WB" ] || die "$WB not built (make check-e2e or make bench-e2e builds it)"
CMLOGD=${CMLOGD:-$top_builddir/daemon/cmlogd}
MIB=${BENCH_MIB:-256}
SEQ_OPS=${BENCH_SEQ_OPS:-32}     # x 1 MiB
RAND_OPS=${BENCH_RAND_OPS:-1000}  # x 4 KiB, timed
WARM_OPS=${BENCH_WARM_OPS:-1000}  # x 4 KiB, untimed, before the timed random pass
SECTORS=$((MIB * 2048))
REGION=1024

load_dm_modules
L0=$(mkloop bleg0 $MIB)
L1=$(mkloop bleg1 $MIB)
LOGDEV=$(mkloop blog 4)
dmsetup create blog --table "0 8192 linear $LOGDEV 0" || die "dm-linear blog"
dm_node blog
LOGNO=$(dm_devno blog)

have_daemon=0
if [ -x "$CMLOGD" ]; then
	start_corosync
	start_cmlogd
	have_daemon=1
else
	info "no $CMLOGD: measuring the kernel's logs only"
fi

CTL=$top_builddir/cmlogctl
# counters UUID: "COMMITS REQUESTS" of a cmlogd log (cmlogctl show), or "- -"
counters() {
	local j c r
	j=$("$CTL" -j show "$1" 2>/dev/null | tr -d ' \n')
	c=$(sed -n 's/.*"commits_sent":\([0-9]*\).*/\1/p' <<<"$j")
	r=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' <<<"$j")
	echo "${c:--} ${r:--}"
}

declare -A RES
# bench NAME LOGSPEC [UUID]: nosync mirror (no resync traffic competing), seq then rand; for a
# cmlogd log also the commit messages and kernel requests of the timed random pass.
bench() {
	local name=$1 logspec=$2 uuid=${3:-} out c0="" c1
	dd if=/dev/zero of="$TMPDIR/zero" bs=1M count=4 status=none
	write_dev /dev/mapper/blog "$TMPDIR/zero" 0 # a fresh disk log each time
	dmsetup create bm --table "0 $SECTORS mirror $logspec 2 $L0 0 $L1 0 1 handle_errors" ||
		{ fail "create mirror with $logspec"; return 1; }
	dm_node bm
	wait_in_sync bm 60
	out=$("$WB" -d /dev/mapper/bm -m seq -b 1048576 -n "$SEQ_OPS") || fail "$name seq: $out"
	echo "bench log=$name $out"
	RES[$name.seq]=$(sed -n 's/.*mib_s=\([0-9.]*\).*/\1/p' <<<"$out")
	if [ "$WARM_OPS" -gt 0 ]; then
		out=$("$WB" -d /dev/mapper/bm -m rand -b 4096 -n "$WARM_OPS" -S 7) ||
			fail "$name warm-up: $out"
		echo "bench log=$name warm-up $out"
	fi
	[ -n "$uuid" ] && [ -x "$CTL" ] && c0=$(counters "$uuid")
	out=$("$WB" -d /dev/mapper/bm -m rand -b 4096 -n "$RAND_OPS" -S 42) || fail "$name rand: $out"
	echo "bench log=$name $out"
	if [ -n "$c0" ]; then
		c1=$(counters "$uuid")
		awk -v n="$name" -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ");
			if (x[1] == "-" || y[1] == "-") { print "bench log=" n " rand counters: n/a"; exit }
			printf "bench log=%s rand commits=%d requests=%d\n", n, y[1] - x[1], y[2] - x[2] }'
	fi
	RES[$name.rand]=$(sed -n 's/.*mib_s=\([0-9.]*\).*/\1/p' <<<"$out")
	dmsetup remove bm || fail "remove bm"
}

step "kernel logs"
bench core "core 2 $REGION nosync"
bench disk "disk 3 $LOGNO $REGION nosync"
if [ $have_daemon = 1 ]; then
	step "cmlogd logs"
	bench clustered-core "userspace 4 CMLOG-BENCH-C clustered-core $REGION nosync" CMLOG-BENCH-C
	bench clustered-disk "userspace 5 CMLOG-BENCH-D clustered-disk $LOGNO $REGION nosync" \
		CMLOG-BENCH-D
fi

step "ratios (cmlogd / kernel; 1.00 = as fast as the kernel's own log)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
for w in seq rand; do
	if [ $have_daemon = 1 ]; then
		echo "ratio $w clustered-core/core $(ratio "${RES[clustered-core.$w]:-0}" "${RES[core.$w]:-0}")" \
			"clustered-disk/disk $(ratio "${RES[clustered-disk.$w]:-0}" "${RES[disk.$w]:-0}")"
	else
		echo "ratio $w: not measured (cmlogd not built); core ${RES[core.$w]:-?} MiB/s, disk ${RES[disk.$w]:-?} MiB/s"
	fi
done
dmsetup remove blog
stop_cmlogd TERM
stop_corosync
finish
