#!/bin/bash
# guest-kernel.sh: runs INSIDE the e2e guest (see test_e2e_kernel.sh). Proves the guest, the
# modules and the netlink path to the real kernel, without cmlogd:
#  1. dm-mirror with the kernel's own `core` log, in "sync" mode (leg 1 starts with different
#     bytes and must become a copy of leg 0) and in "nosync" mode: write a known pattern
#     through the mirror with O_DIRECT, wait for all regions in sync, and compare both legs
#     with each other and with the pattern.
#  2. A `userspace` log CTR reaches a listener on connector group 7 (cnlisten), which prints
#     what the kernel sent, answers it with -EINVAL and so makes the table load fail cleanly.
#  3. The host's corosync runs in the guest (quorate single node, CPG IPC via /dev/shm): what
#     the cmlogd scenarios (guest-mirror.sh) build on.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"

cnlisten=$top_builddir/tests/e2e/cnlisten
[ -x "$cnlisten" ] || die "$cnlisten not built (make check-e2e builds it)"
MIB=32
SECTORS=$((MIB * 2048))

step "kernel $(uname -r), modules"
load_dm_modules
grep -q 'mirror' <(dmsetup targets) || die "no mirror target: $(dmsetup targets)"
info "targets: $(dmsetup targets | tr '\n' ';')"

step "legs: two ${MIB} MiB loop devices on tmpfs; leg 1 pre-filled with random bytes"
L0=$(mkloop leg0 $MIB)
L1=$(mkloop leg1 $MIB)
info "legs $L0 $L1"
head -c $((MIB * 1048576)) /dev/urandom >"$TMPDIR/junk"
write_dev "$L1" "$TMPDIR/junk" || die "pre-fill $L1"
same_devs "$L0" "$L1" && die "legs equal before the mirror exists: the pre-fill did nothing"

step "core log, sync mode: resync must copy leg 0 over leg 1"
dmsetup create m0 --table "0 $SECTORS mirror core 1 1024 2 $L0 0 $L1 0 1 handle_errors" ||
	die "dmsetup create m0 (core, sync)"
dm_node m0
info "table: $(dmsetup table m0)"
wait_in_sync m0 120
if same_devs "$L0" "$L1"; then pass "resync made leg 1 a copy of leg 0"; else fail "legs differ after resync"; fi
pattern "$TMPDIR/pat" 8
write_dev /dev/mapper/m0 "$TMPDIR/pat" 8 || fail "write pattern through m0"
wait_in_sync m0 60
info "status: $(dmsetup status m0)"
same_bytes /dev/mapper/m0 "$TMPDIR/pat" 8 && pass "m0 reads back the pattern" || fail "m0 does not read back the pattern"
same_bytes "$L0" "$TMPDIR/pat" 8 && pass "leg 0 holds the pattern" || fail "leg 0 lacks the pattern"
same_bytes "$L1" "$TMPDIR/pat" 8 && pass "leg 1 holds the pattern" || fail "leg 1 lacks the pattern"
same_devs "$L0" "$L1" && pass "legs identical" || fail "legs differ"
dmsetup remove m0 || fail "dmsetup remove m0"

step "core log, nosync mode: no resync, writes still reach both legs"
dmsetup create m1 --table "0 $SECTORS mirror core 2 1024 nosync 2 $L0 0 $L1 0 1 handle_errors" ||
	die "dmsetup create m1 (core, nosync)"
dm_node m1
set -- $(mirror_sync_counts m1)
[ "${1:-x}" = "${2:-y}" ] && pass "nosync mirror reports $1/$2 in sync at once" ||
	fail "nosync mirror not in sync at once: $(dmsetup status m1)"
pattern "$TMPDIR/pat2" 12
write_dev /dev/mapper/m1 "$TMPDIR/pat2" 16 || fail "write pattern through m1"
wait_in_sync m1 30
same_bytes "$L0" "$TMPDIR/pat2" 16 && pass "leg 0 holds the pattern" || fail "leg 0 lacks the pattern"
same_bytes "$L1" "$TMPDIR/pat2" 16 && pass "leg 1 holds the pattern" || fail "leg 1 lacks the pattern"
same_bytes /dev/mapper/m1 "$TMPDIR/pat2" 16 && pass "m1 reads back the pattern" || fail "m1 does not read back the pattern"
dmsetup suspend m1 && dmsetup resume m1 || fail "suspend/resume m1"
dmsetup remove m1 || fail "dmsetup remove m1"

step "userspace log: the kernel's CTR reaches a listener on connector group 7"
uuid=E2EUUID$$
rm -f "$TMPDIR/ready"
"$cnlisten" -n 1 -t 60 -e 22 -r "$TMPDIR/ready" >"$TMPDIR/cn.out" 2>"$TMPDIR/cn.err" &
lpid=$!
for _ in $(seq 100); do [ -e "$TMPDIR/ready" ] && break; sleep 0.1; done
[ -e "$TMPDIR/ready" ] || die "cnlisten did not subscribe: $(cat "$TMPDIR/cn.err")"
# The shape LVM loads for a clustered mirror: no argument count after the log type.
table="0 $SECTORS mirror userspace 3 $uuid clustered-core 1024 2 $L0 0 $L1 0 1 handle_errors"
info "table: $table"
timeout 50 dmsetup create u0 --table "$table" >"$TMPDIR/dms.out" 2>&1 &
dpid=$!
wait $lpid
lrc=$?
cat "$TMPDIR/cn.out" "$TMPDIR/cn.err"
[ $lrc -eq 0 ] || fail "cnlisten exit $lrc: no request from the kernel"
req=$(grep '^req ' "$TMPDIR/cn.out" | head -1)
expect_field() { # name value
	if grep -q " $1=$2\( \|\$\)" <<<"$req"; then pass "request $1=$2"; else fail "request lacks $1=$2"; fi
}
expect_field version 3
expect_field 'type' '1(CTR)'
expect_field uuid "$uuid"
expect_field pid 0
payload="$SECTORS clustered-core 1024"
expect_field data_size ${#payload}
expect_field data "\"$payload\""
grep -q ' luid=0x[0-9a-f]\{8,\} ' <<<"$req" && pass "luid is a kernel pointer" || fail "odd luid"
# We answered -EINVAL: the kernel must fail the table load, and dmsetup must return.
wait $dpid
drc=$?
cat "$TMPDIR/dms.out"
if [ $drc -ne 0 ] && [ $drc -ne 124 ]; then
	pass "dmsetup create failed (exit $drc) after the -EINVAL reply: the kernel took our answer"
elif [ $drc -eq 124 ]; then
	fail "dmsetup create still blocked after 50 s: the kernel ignored the reply"
else
	fail "dmsetup create succeeded although the log CTR was refused"
fi
dmsetup remove u0 >/dev/null 2>&1
dmesg | grep -iE 'userspace|dm-log|mirror|table' | tail -5
dmesg | grep -q 'Userspace log server failed to create log' &&
	pass "kernel logged the refused CTR" || fail "kernel did not log the refused CTR"

losetup -d "$L0" "$L1"

step "cluster stack in the guest: single-node corosync, quorate, CPG IPC"
start_corosync
stop_corosync
finish
