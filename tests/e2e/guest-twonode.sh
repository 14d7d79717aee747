#!/bin/bash
# guest-twonode.sh: runs INSIDE each of two e2e guests (see test_e2e_twonode.sh). Two nodes,
# each with Debian's real kernel, its own corosync and cmlogd, joined by a private qemu
# socket Ethernet link, share one disk (/dev/vda: leg 0, leg 1 and a disk log as dm-linear
# pieces) and build the same clustered-disk mirror, whose log the two daemons keep together
# through corosync. Checks: a two-member log group; writes on either node reach both legs
# and read back on the other node; both see all regions in sync; one node can remove its
# mirror while the other goes on writing; the disk log is handed over to its preferred writer
# (node 2) and taken back by node 1 when node 2 leaves; no dm-log-userspace timeout or error
# in dmesg.
# Environment: NODE (1 or 2), CMLOG_E2E_IP (this node's address), PEER_IP, CMLOGD.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"

N=${NODE:?NODE must be 1 or 2}
O=$((3 - N))
SH=/e2e-shared
CMLOGD=${CMLOGD:-$top_builddir/daemon/cmlogd}
MY_IP=${CMLOG_E2E_IP%/*}
LEG_SECTORS=32768 # 16 MiB legs: 8 regions of 2 MiB
REGION=4096
[ -x "$CMLOGD" ] || die "$CMLOGD not built"
[ -d "$SH" ] || die "no $SH share"

# barrier NAME [SECONDS]: tell the other node we reached NAME and wait until it has too.
barrier() {
	local i limit=$((${2:-180} * 5))
	touch "$SH/$1.$N"
	for ((i = 0; i < limit; i++)); do
		[ -e "$SH/$1.$O" ] && { info "barrier $1 passed"; return 0; }
		[ -e "$SH/failed.$O" ] && die "node $O failed (at barrier $1)"
		sleep 0.2
	done
	die "node $O never reached barrier $1"
}
trap '[ "$E2E_FAILS" -ne 0 ] || [ "${done_ok:-0}" = 1 ] || touch "$SH/failed.$N"' EXIT

step "node $N ($MY_IP): kernel $(uname -r), shared disk, network"
load_dm_modules
modprobe virtio_blk || die "modprobe virtio_blk"
for _ in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
[ -b /dev/vda ] || die "no /dev/vda (shared disk)"
ip -br addr show eth0
# busybox-static (a prepare.sh dependency) has ping; iputils-ping may not be installed.
peer_up() { busybox ping -c1 -W1 "$PEER_IP" >/dev/null 2>&1; }
for _ in $(seq 100); do peer_up && break; sleep 0.5; done
peer_up && pass "node $O ($PEER_IP) answers ping" || die "no route to node $O"

step "node $N: corosync (2 nodes) and cmlogd"
# Two emulated (TCG) guests on a busy host stall for seconds at times: with a 1 s token
# corosync sees partitions that are only slowness (observed: membership churn, quorum
# lost). This test is about normal operation, so give the token room.
export COROSYNC_TOKEN=${COROSYNC_TOKEN:-5000}
if [ "$N" = 1 ]; then
	start_corosync 1 "$MY_IP" 2 "$PEER_IP"
else
	start_corosync 1 "$PEER_IP" 2 "$MY_IP"
fi
corosync-quorumtool -s | grep -E '^(Nodes|Quorate)'
start_cmlogd

# The same dm-linear pieces in the same order on both nodes (so also the same dm minors).
dmsetup create e2eleg0 --table "0 $LEG_SECTORS linear /dev/vda 0" || die "leg0"
dmsetup create e2eleg1 --table "0 $LEG_SECTORS linear /dev/vda $LEG_SECTORS" || die "leg1"
dmsetup create e2elog --table "0 8192 linear /dev/vda $((2 * LEG_SECTORS))" || die "log"
for d in e2eleg0 e2eleg1 e2elog; do dm_node $d; done
L0=/dev/mapper/e2eleg0 L1=/dev/mapper/e2eleg1
table="0 $LEG_SECTORS mirror userspace 4 CMLOG-E2E-2N clustered-disk $(dm_devno e2elog) $REGION 2 $L0 0 $L1 0 1 handle_errors"
info "table: $table"

step "node $N: the mirror (node 1 first, then node 2)"
[ "$N" = 2 ] && barrier n1-created
dmsetup create m2n --table "$table" || die "dmsetup create m2n"
dm_node m2n
[ "$N" = 1 ] && barrier n1-created
barrier both-created
wait_in_sync m2n 180
info "status: $(dmsetup status m2n)"
for _ in $(seq 50); do grep -q 'members 2' "$TMPDIR/cmlogd.log" && break; sleep 0.2; done
grep -q 'members 2' "$TMPDIR/cmlogd.log" && pass "the log's CPG group has both nodes" ||
	fail "cmlogd never logged a 2-member group"
# node 1 resumed first (master resume: the first writer); node 2 is the uuid's preferred
# writer (1 + FNV-1a-32("CMLOG-E2E-2N") % 2), so the log is handed over to it (group.h "Writer")
for _ in $(seq 50); do grep -q 'disk writer is node 2' "$TMPDIR/cmlogd.log" && break; sleep 0.2; done
grep -q 'disk writer is node 2' "$TMPDIR/cmlogd.log" &&
	pass "the disk log was handed over to node 2, its preferred writer" ||
	fail "cmlogd never logged node 2 as the disk writer"
barrier in-sync

step "node $N: writes on one node, reads on the other"
if [ "$N" = 1 ]; then
	pattern "$SH/patA" 2
	write_dev /dev/mapper/m2n "$SH/patA" 2 || fail "node 1 write A"
	wait_in_sync m2n 60
	barrier wrote-a
	barrier wrote-b
	same_bytes /dev/mapper/m2n "$SH/patB" 10 && pass "node 1 reads node 2's data" || fail "node 1 does not read node 2's data"
else
	barrier wrote-a
	same_bytes /dev/mapper/m2n "$SH/patA" 2 && pass "node 2 reads node 1's data" || fail "node 2 does not read node 1's data"
	pattern "$SH/patB" 2
	write_dev /dev/mapper/m2n "$SH/patB" 10 || fail "node 2 write B"
	wait_in_sync m2n 60
	barrier wrote-b
fi
for p in "patA 2" "patB 10"; do
	set -- $p
	same_bytes "$L0" "$SH/$1" "$2" && pass "leg 0 holds $1" || fail "leg 0 lacks $1"
	same_bytes "$L1" "$SH/$1" "$2" && pass "leg 1 holds $1" || fail "leg 1 lacks $1"
done
barrier checked

step "node $N: node 2 leaves, node 1 goes on"
if [ "$N" = 2 ]; then
	dmsetup remove m2n || fail "node 2 remove"
	barrier n2-removed
else
	barrier n2-removed
	pattern "$TMPDIR/patC" 2
	write_dev /dev/mapper/m2n "$TMPDIR/patC" 6 || fail "node 1 write after node 2 left"
	wait_in_sync m2n 60
	same_bytes "$L1" "$TMPDIR/patC" 6 && pass "node 1 alone still mirrors" || fail "node 1 alone: leg 1 lacks data"
	# the first time at the master resume, again when node 2 left
	[ "$(grep -c 'disk writer is node 1' "$TMPDIR/cmlogd.log")" -ge 2 ] &&
		pass "node 1 took the disk log over when node 2 left" ||
		fail "node 1 did not log itself the disk writer after node 2 left"
	dmsetup remove m2n || fail "node 1 remove"
fi
barrier removed

step "node $N: dmesg and teardown"
msgs=$(dmesg | sed -n '/cmlog-e2e: test start/,$p' | grep -i 'userspace\|raid1' | grep -v version || true)
[ -z "$msgs" ] && pass "no dm-log-userspace message in dmesg" || { fail "dmesg:"; echo "$msgs"; }
dmsetup remove e2elog e2eleg1 e2eleg0
stop_cmlogd TERM
grep -E '\] (warning|err|crit|alert|emerg) |assert|abort|segfault' "$TMPDIR/cmlogd.log" | head -20 | sed 's/^/    cmlogd: /'
cp "$TMPDIR/cmlogd.log" /e2e-results/cmlogd.log
cp "$TMPDIR/corosync/corosync.log" /e2e-results/corosync.log
barrier done 60
stop_corosync
[ "$E2E_FAILS" -eq 0 ] && done_ok=1
finish
