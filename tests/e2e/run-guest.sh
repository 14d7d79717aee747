#!/bin/bash
# run-guest.sh: run one script inside a qemu guest with Debian's real 6.1 kernel.
#
# Usage: tests/e2e/run-guest.sh [options] GUEST_SCRIPT
#   --timeout SEC     hard limit for the whole run, boot to power-off (default 300)
#   --results DIR     where the guest writes output.log, dmesg.log, status (default: a new
#                     directory under $top_builddir/tests/e2e/results/)
#   --mem MB          guest memory (default 1024)
#   --smp N           guest CPUs (default 2)
#   --tap IFNAME      add a virtio NIC on the existing host tap device IFNAME
#   --net-listen PORT / --net-connect PORT
#                     add a virtio NIC on a qemu socket link (127.0.0.1:PORT): one guest
#                     listens, the other connects; a private two-guest Ethernet
#   --ip ADDR/LEN     address for the guest's eth0 (with --tap or --net-*)
#   --disk FILE       attach FILE as a raw virtio disk (/dev/vda, ...), shareable between
#                     guests (host O_DIRECT, no locking): shared storage for a cluster
#   --share DIR       a writable 9p share of DIR at /e2e-shared (markers between guests)
#   --env NAME=VALUE  export NAME=VALUE to the guest script (repeatable)
# Environment: top_srcdir, top_builddir (set by `make check-e2e`), CMLOG_E2E_CACHE (see
# prepare.sh), CMLOG_E2E_QEMU (the emulator binary, default qemu-system-x86_64).
#
# The guest mounts the host's / read-only over 9p under a tmpfs overlay, so GUEST_SCRIPT,
# the build tree and the host's corosync/dmsetup are all visible at their host paths. The
# script runs as root under bash with TMPDIR on a guest tmpfs; it must leave no state behind
# (there is none to leave: the guest is powered off after it).
#
# Exit status:
#   the guest script's own status, when it reported one (0 pass, 77 skip, other fail);
#   77  qemu cannot run on this machine at all (no qemu after prepare.sh tried to install it,
#       or qemu fails even to start an empty stopped machine), or prepare.sh could not get
#       the kernel: the reason is printed. Missing /dev/kvm is NOT a reason: we use TCG.
#   1   qemu ran but the guest did not report: never booted, booted and hung past --timeout,
#       or crashed. That is a FAILURE, never a skip: qemu works, so the guest must too.
#   99  a bug in the harness (bad usage, prepare.sh broke).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir

timeout_s=300 results="" mem=1024 smp=2 tap="" ip="" envs=() sock="" disks=() share=""
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--tap) tap=$2; shift 2 ;;
	--ip) ip=$2; shift 2 ;;
	--net-listen) sock="listen=127.0.0.1:$2"; shift 2 ;;
	--net-connect) sock="connect=127.0.0.1:$2"; shift 2 ;;
	--disk) disks+=("$2"); shift 2 ;;
	--share) share=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--) shift; break ;;
	-*) echo "run-guest: unknown option $1" >&2; exit 99 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: run-guest.sh [options] GUEST_SCRIPT" >&2; exit 99; }
script=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -r "$script" ] || { echo "run-guest: no such script: $1" >&2; exit 99; }
[ "$timeout_s" -ge 60 ] 2>/dev/null || { echo "run-guest: --timeout must be >= 60" >&2; exit 99; }

# --- the guest's kernel and initramfs -------------------------------------------------
t0=$(date +%s.%N)
envfile=$("$here/prepare.sh")
rc=$?
case $rc in
0) ;;
77) exit 77 ;; # prepare.sh printed "SKIP: reason"
*) echo "run-guest: prepare.sh failed (exit $rc)" >&2; exit 99 ;;
esac
# shellcheck disable=SC1090
. "$envfile"
# CMLOG_E2E_QEMU overrides the emulator (e.g. to check the SKIP path with /bin/false).
qemu=${CMLOG_E2E_QEMU:-$(command -v qemu-system-x86_64)} ||
	{ echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }

# --- can qemu run at all? -----------------------------------------------------------------
# Start an empty, stopped TCG machine and quit it through the monitor. This uses none of our
# options, so a failure here is the machine's (no usable TCG, missing firmware, seccomp...)
# and a SKIP; a failure of the real boot below is ours and a FAIL.
probe_err=$(echo quit | timeout 30 "$qemu" -accel tcg -machine pc -nodefaults -no-user-config \
	-display none -S -monitor stdio 2>&1 >/dev/null)
probe_rc=$?
if [ $probe_rc -ne 0 ]; then
	echo "SKIP: qemu cannot start a TCG machine here (exit $probe_rc): ${probe_err:0:300}"
	exit 77
fi

# --- results directory and the guest's instructions ------------------------------------------
if [ -z "$results" ]; then
	mkdir -p "$top_builddir/tests/e2e/results"
	results=$(mktemp -d "$top_builddir/tests/e2e/results/$(basename "$script" .sh).XXXXXX")
else
	mkdir -p "$results"
	rm -f "$results"/{status,output.log,dmesg.log,console.log,qemu.err}
fi
results=$(cd "$results" && pwd)
guest_timeout=$((timeout_s - 40))
{
	printf 'CMLOG_E2E_SCRIPT=%q\n' "$script"
	printf 'CMLOG_E2E_TIMEOUT=%q\n' "$guest_timeout"
	printf 'CMLOG_E2E_KVER=%q\n' "$KVER"
	printf 'top_srcdir=%q\n' "$top_srcdir"
	printf 'top_builddir=%q\n' "$top_builddir"
	[ -n "$ip" ] && printf 'CMLOG_E2E_IP=%q\n' "$ip"
	[ -n "$share" ] && printf 'CMLOG_E2E_SHARED=1\n'
	for e in "${envs[@]}"; do
		printf '%s=%q\n' "${e%%=*}" "${e#*=}"
	done
} >"$results/run.env"

net=(-nic none)
mac=$(printf '52:54:00:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
if [ -n "$tap" ]; then
	net=(-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$mac")
elif [ -n "$sock" ]; then
	net=(-netdev "socket,id=n0,$sock" -device "virtio-net-pci,netdev=n0,mac=$mac")
fi
i=0
for d in "${disks[@]}"; do
	net+=(-drive "file=$d,format=raw,if=none,id=d$i,cache=none,file.locking=off"
		-device "virtio-blk-pci,drive=d$i,share-rw=on")
	i=$((i + 1))
done
if [ -n "$share" ]; then
	net+=(-virtfs "local,path=$share,mount_tag=shared,security_model=none")
fi

# --- boot ---------------------------------------------------------------------------------
# -no-reboot + panic=-1: a kernel panic or a failed init ends qemu instead of looping.
echo "run-guest: kernel $KVER, script $script, results $results, timeout ${timeout_s}s"
timeout -k 10 "$timeout_s" "$qemu" -accel tcg -cpu max -m "$mem" -smp "$smp" -machine pc \
	-nodefaults -no-user-config -display none -no-reboot -serial stdio -monitor none \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 loglevel=4 rootwait" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
	-virtfs "local,path=$results,mount_tag=results,security_model=none" \
	"${net[@]}" </dev/null >"$results/console.log" 2>"$results/qemu.err"
qrc=$?
t1=$(date +%s.%N)
elapsed=$(echo "$t1 - $t0" | bc 2>/dev/null || awk "BEGIN{print $t1 - $t0}")

show() { # file title [lines]
	[ -s "$1" ] || return 0
	echo "----- $2 ($1) -----"
	tail -n "${3:-200}" "$1"
}

show "$results/output.log" "guest script output" 1000
if [ -f "$results/status" ]; then
	rc=$(cat "$results/status")
	case "$rc" in '' | *[!0-9]*) echo "run-guest: bad status '$rc'"; rc=1 ;; esac
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		sed -n '/cmlog-e2e: test start/,$p' "$results/dmesg.log" >"$results/dmesg-test.log"
		show "$results/dmesg-test.log" "guest dmesg since the test started" 80
		show "$results/diag.log" "guest diagnostics (logs in $results/scratch)" 120
	fi
	echo "run-guest: guest script exited $rc (qemu exit $qrc, ${elapsed}s)"
	exit "$rc"
fi
show "$results/console.log" "guest console" 80
show "$results/qemu.err" "qemu stderr" 20
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	echo "run-guest: FAIL: the guest did not finish within ${timeout_s}s (killed)"
elif grep -q 'cmlog-stage2: running' "$results/console.log" 2>/dev/null; then
	echo "run-guest: FAIL: the guest ran the script but reported no status (qemu exit $qrc)"
elif grep -q 'Linux version' "$results/console.log" 2>/dev/null; then
	echo "run-guest: FAIL: the kernel started but the guest never reached the script (qemu exit $qrc)"
else
	echo "run-guest: FAIL: qemu ran but the guest never booted (qemu exit $qrc)"
fi
exit 1
