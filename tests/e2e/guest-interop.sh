#!/bin/bash
# guest-interop.sh: runs INSIDE the e2e guest (see test_e2e_interop.sh). Proves that a
# clustered-disk log of cmlogd uses the kernel's own `disk` log format, against the real
# 6.1 kernel: the same log device (a dm-linear over a loop device, given as maj:min) is
# handed back and forth between the kernel's dm-log `disk` log and cmlogd.
#  1. kernel -> cmlogd: a mirror with the kernel's disk log resyncs, takes a known pattern,
#     is removed (the on-disk header and bitmap are checked: magic, version 2, 8 regions,
#     all clean). A marker is then written to leg 1 only, behind the mirror's back. The same
#     mirror with `userspace ... clustered-disk <logdev> <region>` (no sync/nosync) must be
#     in sync at once, cmlogd must say it read 8 regions (not "FRESH"), the marker must
#     survive (no region was resynced) and the pattern must be on both legs.
#  2. cmlogd -> kernel: through cmlogd's mirror a second pattern overwrites the marker's
#     region, the mirror is removed, the header and bitmap are checked again, a new marker
#     goes to leg 1, and the kernel's own disk log on the same device must be in sync at
#     once with the marker intact (no resync) and the second pattern on both legs.
#  3. negative: the header magic is corrupted; cmlogd says "no valid header ... FRESH log,
#     full resync", the mirror resyncs (leg 1's marker is replaced: legs identical), the
#     data reads back, and cmlogd writes a valid header again.
# Environment: CMLOGD (default $top_builddir/daemon/cmlogd), CMLOGD_ARGS (added after -f).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"

CMLOGD=${CMLOGD:-$top_builddir/daemon/cmlogd}
[ -x "$CMLOGD" ] || die "$CMLOGD not built"
MIB=16       # leg size: 8 regions of 2 MiB
SECTORS=$((MIB * 2048))
REGION=4096  # sectors
NREG=$((MIB / 2))
UUID=CMLOG-E2E-interop

if [ ! -e /etc/cmlog/cmlogd.conf ] && [ -r "$top_srcdir/conf/cmlogd.conf" ]; then
	mkdir -p /etc/cmlog
	sed -e 's/^log_level *=.*/log_level = debug/' -e 's/^log_target *=.*/log_target = stderr/' \
		-e '/^socket_group/d' "$top_srcdir/conf/cmlogd.conf" >/etc/cmlog/cmlogd.conf
fi

load_dm_modules
step "kernel $(uname -r); corosync; cmlogd $CMLOGD"
start_corosync
start_cmlogd

# Same per-case watchdog as guest-mirror.sh: a hung dmsetup must not eat the whole run.
CASE_LIMIT=${E2E_CASE_LIMIT:-150}
WATCHDOG=
watchdog_start() {
	local me=$$
	(
		sleep "$CASE_LIMIT"
		echo "[$(e2e_ts)] FAIL: WATCHDOG: part $1 still running after ${CASE_LIMIT}s (hung?)"
		kill -KILL "$me"
	) &
	WATCHDOG=$!
}
watchdog_stop() { kill "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null; }

# The shared pieces: two legs (leg 1 full of junk, so only a resync or mirrored writes make
# them agree) and one 4 MiB zeroed log device under the dm-linear "ix-log".
L0=$(mkloop leg0 $MIB)
L1=$(mkloop leg1 $MIB)
head -c $((MIB * 1048576)) /dev/urandom >"$TMPDIR/junk"
write_dev "$L1" "$TMPDIR/junk" || die "pre-fill $L1"
LOGLOOP=$(mkloop log 4)
dmsetup create ix-log --table "0 8192 linear $LOGLOOP 0" || die "dm-linear ix-log"
dm_node ix-log
LOGDEV=$(dm_devno ix-log)
LOGPATH=/dev/mapper/ix-log
info "legs $L0 $L1; log device $LOGPATH ($LOGDEV) over $LOGLOOP; $NREG regions"

KTABLE="0 $SECTORS mirror disk 2 $LOGDEV $REGION 2 $L0 0 $L1 0 1 handle_errors"
UTABLE="0 $SECTORS mirror userspace 4 $UUID clustered-disk $LOGDEV $REGION 2 $L0 0 $L1 0 1 handle_errors"

# check_header WHO: the log device holds the kernel's disk format (magic 0x4D695272, version
# 2, nr_regions $NREG as le64) and, after a clean remove, every region clean (bitmap byte 0 =
# 0xff at 1024): what the kernel's own disk log leaves. Two checks, so a valid header with
# regions left dirty (a resync of those regions at the next activation) is told apart.
check_header() {
	local magic version nr bm dirty="" i b0
	dd if="$LOGPATH" of="$TMPDIR/hdr" bs=4096 count=1 iflag=direct status=none || {
		fail "$1: cannot read $LOGPATH"
		return
	}
	magic=$(od -An -tx4 -N4 "$TMPDIR/hdr" | tr -d ' ')
	version=$(od -An -tu4 -j4 -N4 "$TMPDIR/hdr" | tr -d ' ')
	nr=$(od -An -tu8 -j8 -N8 "$TMPDIR/hdr" | tr -d ' ')
	bm=$(od -An -tx1 -j1024 -N8 "$TMPDIR/hdr" | tr -d ' ')
	info "$1: on-disk header magic=0x$magic version=$version nr_regions=$nr bitmap=$bm"
	if [ "$magic" = 4d695272 ] && [ "$version" = 2 ] && [ "$nr" = "$NREG" ]; then
		pass "$1 left a valid kernel-format header"
	else
		fail "$1 left no valid kernel-format header"
	fi
	b0=$((0x${bm:0:2}))
	for i in $(seq 0 $((NREG - 1))); do
		[ $(((b0 >> i) & 1)) -eq 1 ] || dirty="$dirty $i"
	done
	if [ -z "$dirty" ] && [ "${bm:2}" = 00000000000000 ]; then
		pass "$1 left every region clean on disk"
	else
		fail "$1 left region(s)${dirty:- past $NREG} not clean on disk after a clean remove (the next activation resyncs them)"
	fi
}

# in_sync_now NAME: all regions in sync within 5 s of creation (a resync of 8 regions takes
# several seconds under TCG, and would start from 0/8).
in_sync_now() {
	local i c first=
	for i in $(seq 10); do
		c=$(mirror_sync_counts "$1")
		[ -z "$first" ] && first=$c
		set -- "$1" $c
		if [ $# -eq 3 ] && [ "$2" = "$3" ] && [ "$3" = "$NREG" ]; then
			pass "$1 in sync at once: first status ${first/ //}, $2/$3 after $(((i - 1) * 5))00 ms"
			return 0
		fi
		sleep 0.5
	done
	fail "$1 not in sync within 5 s (first status ${first/ //}): $(dmsetup status "$1")"
	return 1
}

# marker MIB: 1 MiB of fresh random bytes onto leg 1 only, at MIB, behind the mirror's back.
marker() {
	head -c 1048576 /dev/urandom >"$TMPDIR/marker"
	write_dev "$L1" "$TMPDIR/marker" "$1" || die "marker on $L1"
}
# marker_kept MIB WHAT: leg 1 still holds the marker (nothing resynced that region).
marker_kept() {
	if same_bytes "$L1" "$TMPDIR/marker" "$1" && ! same_bytes "$L0" "$TMPDIR/marker" "$1"; then
		pass "$2: leg 1 keeps the marker at ${1} MiB (no resync)"
	else
		fail "$2: leg 1's marker at ${1} MiB is gone (a resync ran)"
	fi
}
# data_on_all NAME FILE MIB: the mirror and both legs hold FILE at MIB.
data_on_all() {
	same_bytes "/dev/mapper/$1" "$2" "$3" && same_bytes "$L0" "$2" "$3" && same_bytes "$L1" "$2" "$3" &&
		pass "$1: the mirror and both legs hold $(basename "$2") at $3 MiB" ||
		fail "$1: $(basename "$2") at $3 MiB is not on the mirror and both legs"
}
log_mark() { wc -l <"$TMPDIR/cmlogd.log"; }
log_since() { tail -n +"$(($1 + 1))" "$TMPDIR/cmlogd.log"; }

# ---- 1. kernel -> cmlogd -----------------------------------------------------------------
watchdog_start 1
step "1. the kernel's disk log writes the log, cmlogd reads it"
info "table: $KTABLE"
dmsetup create ix --table "$KTABLE" || die "create ix (kernel disk log)"
dm_node ix
info "status: $(dmsetup status ix)"
wait_in_sync ix 120
pattern "$TMPDIR/pat1" 4
write_dev /dev/mapper/ix "$TMPDIR/pat1" 4 || fail "write pat1 (I/O error?)"
wait_in_sync ix 60
same_devs "$L0" "$L1" && pass "kernel disk log: legs identical after resync + write" || fail "kernel disk log: legs differ"
sleep 2 # the kernel clears regions once their writes are done, then flushes the log
dmsetup remove ix || fail "remove ix (kernel disk log)"
check_header "the kernel's disk log"
marker 12
at=$(log_mark)
info "table: $UTABLE"
dmsetup create ix --table "$UTABLE" || die "create ix (cmlogd clustered-disk)"
dm_node ix
in_sync_now ix
info "status: $(dmsetup status ix)"
dmsetup status ix | grep -q ' clustered-disk' || fail "status does not show clustered-disk"
log_since "$at" | grep -E "read [0-9]+ regions from|FRESH" | sed 's/^/    cmlogd: /'
log_since "$at" | grep -q "read $NREG regions from $LOGDEV" &&
	pass "cmlogd read the kernel's log ($NREG regions from $LOGDEV)" ||
	fail "cmlogd did not report reading $NREG regions from $LOGDEV"
log_since "$at" | grep -q FRESH && fail "cmlogd started a FRESH log on the kernel's log"
data_on_all ix "$TMPDIR/pat1" 4
sleep 2
marker_kept 12 "cmlogd on the kernel's log"
info "status: $(dmsetup status ix)"
watchdog_stop

# ---- 2. cmlogd -> kernel -----------------------------------------------------------------
watchdog_start 2
step "2. cmlogd writes the log, the kernel's disk log reads it"
pattern "$TMPDIR/pat2" 4
write_dev /dev/mapper/ix "$TMPDIR/pat2" 10 || fail "write pat2 through cmlogd's mirror (I/O error?)"
wait_in_sync ix 60
data_on_all ix "$TMPDIR/pat2" 10
same_devs "$L0" "$L1" && pass "cmlogd: legs identical (the write replaced the marker)" || fail "cmlogd: legs differ"
sleep 2 # cmlogd clears regions lazily; give the kernel's CLEAR + FLUSH their time
dmsetup remove ix || fail "remove ix (cmlogd clustered-disk)"
check_header "cmlogd's clustered-disk log"
marker 0
info "table: $KTABLE"
dmsetup create ix --table "$KTABLE" || die "create ix (kernel disk log on cmlogd's log)"
dm_node ix
in_sync_now ix
info "status: $(dmsetup status ix)"
data_on_all ix "$TMPDIR/pat2" 10
data_on_all ix "$TMPDIR/pat1" 4
sleep 2
marker_kept 0 "the kernel's disk log on cmlogd's log"
dmsetup remove ix || fail "remove ix (kernel disk log)"
watchdog_stop

# ---- 3. negative: a corrupt header ---------------------------------------------------------
watchdog_start 3
step "3. corrupt header magic: cmlogd starts a fresh log and resyncs"
dd if="$LOGPATH" of="$TMPDIR/blk0" bs=512 count=1 iflag=direct status=none || die "read block 0"
printf 'XXXX' | dd of="$TMPDIR/blk0" bs=1 conv=notrunc status=none
dd if="$TMPDIR/blk0" of="$LOGPATH" bs=512 count=1 oflag=direct conv=notrunc status=none || die "write block 0"
info "magic now 0x$(dd if="$LOGPATH" bs=512 count=1 iflag=direct status=none | od -An -tx4 -N4 | tr -d ' ')"
marker 0
at=$(log_mark)
dmsetup create ix --table "$UTABLE" || die "create ix (cmlogd on a corrupt header)"
dm_node ix
info "first status: $(dmsetup status ix)"
wait_in_sync ix 120
log_since "$at" | grep -E "read [0-9]+ regions from|FRESH" | sed 's/^/    cmlogd: /'
log_since "$at" | grep -q "no valid header.*FRESH log, full resync" &&
	pass "cmlogd reported the bad header and started a fresh log" ||
	fail "cmlogd did not report a fresh log on the corrupt header"
same_devs "$L0" "$L1" && pass "full resync: legs identical (leg 1's marker replaced)" ||
	fail "legs differ after the resync"
data_on_all ix "$TMPDIR/pat1" 4
data_on_all ix "$TMPDIR/pat2" 10
sleep 2
dmsetup remove ix || fail "remove ix (cmlogd, fresh log)"
check_header "cmlogd's fresh log"
watchdog_stop

step "teardown"
dmsetup remove ix-log || fail "remove ix-log"
[ -n "$(dmsetup ls | grep -v 'No devices')" ] && { fail "devices left: $(dmsetup ls)"; dmsetup remove_all; }
stop_cmlogd TERM
stop_corosync
step "dmesg: no device-mapper trouble"
dmesg_clean && pass "dmesg clean"
grep -E '\] (warning|err|crit|alert|emerg) |assert|abort|segfault|AddressSanitizer' \
	"$TMPDIR/cmlogd.log" | head -30 | sed 's/^/    cmlogd: /'
cp "$TMPDIR/cmlogd.log" /e2e-results/cmlogd.log 2>/dev/null
cp "$TMPDIR/corosync/corosync.log" /e2e-results/corosync.log 2>/dev/null
finish
