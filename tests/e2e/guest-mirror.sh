#!/bin/bash
# guest-mirror.sh: runs INSIDE the e2e guest (see test_e2e_mirror.sh). The real kernel's
# dm-mirror + dm-log-userspace against a freshly built cmlogd (no --userspace-peer: the
# kernel is the peer) on a single-node corosync, driven through dmsetup:
#  1. clustered-core and clustered-disk logs (the disk log is a dm-linear over a loop device,
#     given as maj:min, because the daemon finds a maj:min log among the dm devices), each
#     with and without integrated_flush, in sync and nosync mode, with handle_errors: write a
#     known pattern with O_DIRECT, wait until `dmsetup status` shows every region in sync,
#     compare both legs with each other and with the pattern, suspend/resume, remove.
#  2. reload (a second log instance, new luid, beside the live one) and suspend/resume while a
#     writer runs, and remove of another mirror meanwhile; no write may fail.
#  3. kill -9 of cmlogd under write load and a restart: no I/O error reaches the writer, the
#     kernel reconnects (dmesg), the legs match each other and the data.
#  4. dmesg: no dm-log-userspace timeout or error before the kill; after it, only the
#     documented reconnect messages and timeouts of requests that were in flight at the kill.
# Environment: CMLOGD (default $top_builddir/daemon/cmlogd), CMLOGD_ARGS (added after -f),
# E2E_CASES (space-separated subset of the case names below, default all), E2E_LOG:
#   userspace (default) as above;
#   kernel    the same scenarios with the kernel's own core/disk logs and no daemon (no
#             integrated_flush and no kill cases): proves the scenarios themselves against
#             the real kernel, so a failure with cmlogd is the daemon's, not the script's.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"

E2E_LOG=${E2E_LOG:-userspace}
CMLOGD=${CMLOGD:-$top_builddir/daemon/cmlogd}
case $E2E_LOG in
userspace) [ -x "$CMLOGD" ] || die "$CMLOGD not built" ;;
kernel) ;;
*) die "E2E_LOG must be userspace or kernel" ;;
esac
MIB=16                 # leg size: 8 regions of 2 MiB (few regions: a resync through
                       # the daemon costs about 0.5 s per region under TCG)
SECTORS=$((MIB * 2048))
REGION=4096            # sectors
PAT_MIB=4

# A minimal configuration for the daemon, in the guest's overlay only (never on the host).
if [ ! -e /etc/cmlog/cmlogd.conf ] && [ -r "$top_srcdir/conf/cmlogd.conf" ]; then
	mkdir -p /etc/cmlog
	sed -e 's/^log_level *=.*/log_level = debug/' -e 's/^log_target *=.*/log_target = stderr/' \
		-e '/^socket_group/d' "$top_srcdir/conf/cmlogd.conf" >/etc/cmlog/cmlogd.conf
fi

load_dm_modules
if [ "$E2E_LOG" = userspace ]; then
	step "kernel $(uname -r); corosync; cmlogd $CMLOGD"
	start_corosync
	start_cmlogd
else
	step "kernel $(uname -r); the kernel's own core/disk logs, no daemon"
fi

cleanup_case() {
	local n
	for n in "$@"; do dmsetup remove "$n" >/dev/null 2>&1; done
}

# new_legs: fresh loop devices L0 L1 ($MIB MiB) with leg 1 full of junk, so that only a real
# resync (sync mode) or real mirrored writes can make the legs agree.
new_legs() {
	L0=$(mkloop "leg0-$1" $MIB)
	L1=$(mkloop "leg1-$1" $MIB)
	head -c $((MIB * 1048576)) /dev/urandom >"$TMPDIR/junk"
	write_dev "$L1" "$TMPDIR/junk" || die "pre-fill $L1"
}
drop_legs() {
	losetup -d "$L0" "$L1" 2>/dev/null
	rm -f "$TMPDIR/leg0-$1.img" "$TMPDIR/leg1-$1.img"
}

# new_disk_log NAME: a 4 MiB zeroed loop device under a dm-linear NAME-log; prints maj:min.
new_disk_log() {
	local lp
	lp=$(mkloop "log-$1" 4)
	dmsetup create "$1-log" --table "0 8192 linear $lp 0" || die "dm-linear log $1-log"
	dm_node "$1-log"
	dm_devno "$1-log"
}

# log_args NAME TYPE(core|disk) MODE(sync|nosync) IFLUSH(0|1): the "userspace <n> ..." part.
log_args() {
	local name=$1 type=$2 mode=$3 iflush=$4 a
	if [ "$E2E_LOG" = kernel ]; then
		if [ "$type" = disk ]; then
			a="/dev/mapper/$name-log $REGION"
			new_disk_log "$name" >/dev/null
		else
			a="$REGION"
		fi
		[ "$mode" = nosync ] && a="$a nosync"
		[ "$mode" = sync ] && a="$a sync"
		set -- $a
		echo "$type $# $a"
		return
	fi
	a="CMLOG-E2E-$name"
	[ "$iflush" = 1 ] && a="$a integrated_flush"
	if [ "$type" = disk ]; then
		a="$a clustered-disk $(new_disk_log "$name") $REGION"
	else
		a="$a clustered-core $REGION"
	fi
	[ "$mode" = nosync ] && a="$a nosync"
	[ "$mode" = sync ] && a="$a sync"
	set -- $a
	echo "userspace $# $a"
}

# check_data NAME MODE: the mirror, both legs and (sync mode: wholly) the legs agree with
# the pattern written at $PAT_MIB MiB.
check_data() {
	local name=$1 mode=$2
	same_bytes "/dev/mapper/$name" "$TMPDIR/pat" "$PAT_MIB" && pass "$name reads back the pattern" ||
		fail "$name does not read back the pattern"
	same_bytes "$L0" "$TMPDIR/pat" "$PAT_MIB" && pass "$name leg 0 holds the pattern" ||
		fail "$name leg 0 lacks the pattern"
	same_bytes "$L1" "$TMPDIR/pat" "$PAT_MIB" && pass "$name leg 1 holds the pattern" ||
		fail "$name leg 1 lacks the pattern"
	if [ "$mode" = sync ]; then
		same_devs "$L0" "$L1" && pass "$name legs identical" || fail "$name legs differ"
	fi
}

# run_case NAME TYPE MODE IFLUSH
run_case() {
	local name=$1 type=$2 mode=$3 iflush=$4 table
	step "case $name: clustered-$type, $mode, integrated_flush=$iflush, handle_errors"
	new_legs "$name"
	table="0 $SECTORS mirror $(log_args "$name" "$type" "$mode" "$iflush") 2 $L0 0 $L1 0 1 handle_errors"
	info "table: $table"
	if ! dmsetup create "$name" --table "$table"; then
		fail "$name: dmsetup create"
		cleanup_case "$name" "$name-log"
		drop_legs "$name"
		return
	fi
	dm_node "$name"
	# The status's log part is the log's own: "core"/"disk" from the kernel's logs, the
	# daemon's STATUS_INFO string (e.g. "clustered-core") for a userspace log.
	local want="clustered-$type"
	[ "$E2E_LOG" = kernel ] && want=$type
	dmsetup status "$name" | grep -q " $want" || fail "$name: status does not show the $want log: $(dmsetup status "$name")"
	wait_in_sync "$name" 120
	pattern "$TMPDIR/pat" 4
	write_dev "/dev/mapper/$name" "$TMPDIR/pat" "$PAT_MIB" || fail "$name: write (I/O error?)"
	wait_in_sync "$name" 60
	info "status: $(dmsetup status "$name")"
	check_data "$name" "$mode"
	dmsetup suspend "$name" && dmsetup resume "$name" || fail "$name: suspend/resume"
	wait_in_sync "$name" 60
	same_bytes "/dev/mapper/$name" "$TMPDIR/pat" "$PAT_MIB" || fail "$name: data changed over suspend/resume"
	dmsetup remove "$name" || fail "$name: dmsetup remove"
	cleanup_case "$name-log"
	drop_legs "$name"
}

# writer DEV LOOPS ERRFILE: write the pattern LOOPS times at alternating offsets; every dd
# failure goes to ERRFILE (the point: a daemon event must never surface as an I/O error).
writer() {
	local i
	for i in $(seq "$2"); do
		write_dev "$1" "$TMPDIR/pat" $((PAT_MIB + (i % 2) * PAT_MIB)) 2>>"$3" || echo "write $i failed" >>"$3"
	done
}

# A case that hangs (a request the daemon never answers blocks dmsetup in the kernel, where
# no signal reaches it) must not eat the whole run: the watchdog kills this script, and
# guest-stage2.sh then saves the diagnostics (blocked tasks' kernel stacks, cmlogd log).
CASE_LIMIT=${E2E_CASE_LIMIT:-150}
WATCHDOG=
watchdog_start() {
	local me=$$
	(
		sleep "$CASE_LIMIT"
		echo "[$(e2e_ts)] FAIL: WATCHDOG: case $1 still running after ${CASE_LIMIT}s (hung?)"
		kill -KILL "$me"
	) &
	WATCHDOG=$!
}
watchdog_stop() { kill "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null; }

cases=${E2E_CASES:-"core-sync core-nosync core-sync-if core-nosync-if disk-sync disk-nosync disk-sync-if disk-nosync-if reload kill"}
for c in $cases; do
	if [ "$E2E_LOG" = kernel ]; then
		case $c in
		*-if | kill) info "case $c: not applicable to the kernel's logs"; continue ;;
		esac
	fi
	watchdog_stop 2>/dev/null
	watchdog_start "$c"
	case $c in
	core-sync) run_case c1 core sync 0 ;;
	core-nosync) run_case c2 core nosync 0 ;;
	core-sync-if) run_case c3 core sync 1 ;;
	core-nosync-if) run_case c4 core nosync 1 ;;
	disk-sync) run_case d1 disk sync 0 ;;
	disk-nosync) run_case d2 disk nosync 0 ;;
	disk-sync-if) run_case d3 disk sync 1 ;;
	disk-nosync-if) run_case d4 disk nosync 1 ;;
	reload)
		step "reload, suspend/resume and remove of another mirror, with I/O running"
		new_legs r1
		tr1="0 $SECTORS mirror $(log_args r1 disk sync 1) 2 $L0 0 $L1 0 1 handle_errors"
		info "table: $tr1"
		dmsetup create r1 --table "$tr1" || die "create r1"
		dm_node r1
		R1L0=$L0 R1L1=$L1
		new_legs r2
		dmsetup create r2 --table "0 $SECTORS mirror $(log_args r2 core nosync 0) 2 $L0 0 $L1 0 1 handle_errors" ||
			die "create r2"
		R2L0=$L0 R2L1=$L1
		L0=$R1L0 L1=$R1L1
		wait_in_sync r1 120
		pattern "$TMPDIR/pat" 4
		rm -f "$TMPDIR/werr"
		writer /dev/mapper/r1 20 "$TMPDIR/werr" &
		wpid=$!
		sleep 1
		dmsetup reload r1 --table "$tr1" && dmsetup suspend r1 && dmsetup resume r1 ||
			fail "reload + resume of r1 under I/O"
		dmsetup suspend r1 && dmsetup resume r1 || fail "suspend/resume of r1 under I/O"
		dmsetup remove r2 || fail "remove r2 while r1 has I/O"
		wait $wpid
		if [ -s "$TMPDIR/werr" ]; then fail "writer saw errors:"; cat "$TMPDIR/werr"; else pass "writer saw no error"; fi
		wait_in_sync r1 120
		check_data r1 sync
		dmsetup remove r1 || fail "remove r1"
		cleanup_case r1-log r2-log
		drop_legs r1
		L0=$R2L0 L1=$R2L1 drop_legs r2
		;;
	kill)
		step "dmesg before the kill: no dm-log-userspace timeout or error"
		dmesg_clean && pass "dmesg clean"
		step "kill -9 cmlogd under write load, restart: no I/O error, kernel reconnects"
		new_legs k1
		dmsetup create k1 --table "0 $SECTORS mirror $(log_args k1 disk sync 0) 2 $L0 0 $L1 0 1 handle_errors" ||
			die "create k1"
		dm_node k1
		wait_in_sync k1 120
		pattern "$TMPDIR/pat" 4
		rm -f "$TMPDIR/werr"
		writer /dev/mapper/k1 30 "$TMPDIR/werr" &
		wpid=$!
		sleep 2
		info "kill -9 cmlogd $CMLOGD_PID"
		stop_cmlogd KILL
		sleep 3
		start_cmlogd
		wait $wpid
		if [ -s "$TMPDIR/werr" ]; then fail "writer saw errors:"; cat "$TMPDIR/werr"; else pass "writer saw no error"; fi
		# The restarted cmlogd keeps the sync state across the restart (its state file,
		# man cmlogd.8 RESTART SURVIVAL): the live kernel never asks for resync work
		# again, so a log that lost it would stay out of sync with a stale leg 1.
		# The kernel reconnects (CTR + RESUME) only when it next needs the log and hears
		# -ESRCH: the writer may finish first (its regions were already marked), so ask for
		# the status (an R-type request) until the reconnect has happened.
		if [ "$E2E_LOG" != kernel ]; then
			for t in $(seq 1 60); do
				grep -q 'reconnect after a daemon restart: sync state from' "$TMPDIR/cmlogd.log" &&
					break
				dmsetup status k1 >/dev/null 2>&1
				sleep 1
			done
			grep -q 'reconnect after a daemon restart: sync state from' "$TMPDIR/cmlogd.log" &&
				pass "restarted cmlogd used its sync state file" ||
				fail "restarted cmlogd did not use its sync state file (waited ${t}s for the reconnect)"
		fi
		wait_in_sync k1 60
		check_data k1 sync
		dmsetup remove k1 || fail "remove k1"
		cleanup_case k1-log
		drop_legs k1
		msgs=$(dmesg | sed -n '/cmlog-e2e: test start/,$p' | grep -i 'userspace' | grep -v 'version' || true)
		echo "$msgs" | sed 's/^/    dmesg: /'
		# A request the killed daemon had taken but not answered can only time out (15 s)
		# and be resent (kernel-protocol.md §6): expected here, and harmless if the writer
		# saw no error. Anything else from dm-log-userspace is not.
		if grep -qi 'timed out' <<<"$msgs"; then
			info "$(grep -ci 'timed out' <<<"$msgs") request(s) timed out and were resent (in flight at the kill)"
		fi
		if grep -q 'not found' <<<"$msgs" && ! grep -q 'Reconnected' <<<"$msgs"; then
			fail "the kernel lost the log server and never reconnected"
		fi
		if grep -Eqi 'Error trying to resume|failed' <<<"$msgs"; then fail "dm-log-userspace reported an error"; fi
		;;
	*) die "unknown case $c" ;;
	esac
done
watchdog_stop 2>/dev/null

step "teardown"
[ -n "$(dmsetup ls | grep -v 'No devices')" ] && { fail "devices left: $(dmsetup ls)"; dmsetup remove_all; }
stop_cmlogd TERM
stop_corosync
step "dmesg: no device-mapper trouble"
[ "$E2E_LOG" = kernel ] && { dmesg_clean && pass "dmesg clean"; }
if [ -f "$TMPDIR/cmlogd.log" ]; then
	# Anything the daemon logged at warning or worse, or a crash.
	grep -E '\] (warning|err|crit|alert|emerg) |assert|abort|segfault|AddressSanitizer' \
		"$TMPDIR/cmlogd.log" | head -30 | sed 's/^/    cmlogd: /'
fi
cp "$TMPDIR/cmlogd.log" /e2e-results/cmlogd.log 2>/dev/null
cp "$TMPDIR/corosync/corosync.log" /e2e-results/corosync.log 2>/dev/null
finish
