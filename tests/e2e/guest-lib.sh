# guest-lib.sh: shell helpers for scripts that run INSIDE the e2e guest (sourced by bash).
#
# The guest has no udev and a fresh tmpfs in $TMPDIR; these helpers make every device-mapper
# step explicit and checked: loop devices on tmpfs files, `dmsetup mknodes` plus a block
# device check before any write (a missing /dev/mapper node would otherwise make dd write a
# regular file and the test pass without testing anything), waiting for a mirror to report
# all regions in sync, and comparing legs with each other AND with the data written.
set -u

E2E_FAILS=0
E2E_T0=$(date +%s.%N)

e2e_ts() { awk -v a="$E2E_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%7.2f", b - a}'; }
step() { echo "[$(e2e_ts)] == $*"; }
info() { echo "[$(e2e_ts)]    $*"; }
pass() { echo "[$(e2e_ts)] ok $*"; }
fail() {
	echo "[$(e2e_ts)] FAIL: $*"
	E2E_FAILS=$((E2E_FAILS + 1))
}
# Stop now: the rest of the test depends on what just failed.
die() {
	echo "[$(e2e_ts)] FATAL: $*"
	exit 1
}
finish() {
	if [ "$E2E_FAILS" -ne 0 ]; then
		echo "[$(e2e_ts)] $E2E_FAILS check(s) failed"
		exit 1
	fi
	echo "[$(e2e_ts)] all checks passed"
	exit 0
}

# Load the device-mapper stack and loop (shipped by prepare.sh with a modules.dep).
load_dm_modules() {
	local m
	for m in dm-mod dm-log dm-region-hash dm-mirror dm-log-userspace loop; do
		modprobe "$m" || die "modprobe $m"
	done
	[ -c /dev/mapper/control ] || die "no /dev/mapper/control after loading dm-mod"
	info "$(dmesg | grep -o 'dm-log-userspace: version [0-9.]*' | tail -1); dmsetup $(dmsetup --version | tr -s ' \n' ' ')"
}

# mkloop NAME MIB: a loop device over a new tmpfs file; prints the device path.
mkloop() {
	local f="$TMPDIR/$1.img"
	truncate -s "${2}M" "$f" || die "truncate $f"
	losetup -f --show "$f" || die "losetup $f"
}

# dm_node NAME: make /dev/mapper/NAME (no udev here) and insist it is a block device.
dm_node() {
	dmsetup mknodes "$1" >/dev/null 2>&1
	[ -b "/dev/mapper/$1" ] || die "/dev/mapper/$1 is not a block device after dmsetup mknodes"
}

# mirror_sync_counts NAME: prints "in_sync_regions total_regions" from `dmsetup status`.
# Status of a mirror: "<start> <len> mirror <#legs> <devs...> <in>/<total> ..."
mirror_sync_counts() {
	dmsetup status "$1" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, a, "/"); print a[1], a[2]; exit } }'
}

# wait_in_sync NAME SECONDS: until every region is in sync, or fail.
wait_in_sync() {
	local name=$1 limit=$2 start now c
	start=$(date +%s)
	while :; do
		c=$(mirror_sync_counts "$name")
		set -- $c
		if [ $# -eq 2 ] && [ "$1" = "$2" ] && [ "$2" -gt 0 ]; then
			info "$name in sync: $1/$2 regions after $(($(date +%s) - start))s"
			return 0
		fi
		now=$(date +%s)
		if [ $((now - start)) -ge "$limit" ]; then
			fail "$name not in sync after ${limit}s: $(dmsetup status "$name")"
			return 1
		fi
		sleep 0.5
	done
}

# pattern FILE MIB: a known random pattern of MIB MiB (kept, so we can compare against it).
pattern() {
	head -c "$(($2 * 1048576))" /dev/urandom >"$1" || die "pattern $1"
}

# write_dev DEV FILE [SEEK_MIB]: write FILE to DEV with O_DIRECT, 1 MiB blocks.
write_dev() {
	dd if="$2" of="$1" bs=1M seek="${3:-0}" oflag=direct conv=notrunc,fsync status=none
}

# same_bytes DEV FILE [SKIP_MIB]: DEV (read with O_DIRECT) holds FILE's bytes at SKIP_MIB.
same_bytes() {
	local mib
	mib=$(($(stat -c %s "$2") / 1048576))
	cmp -s <(dd if="$1" bs=1M skip="${3:-0}" count="$mib" iflag=direct status=none) "$2"
}

# same_devs A B: two block devices are identical over their whole (equal) size.
same_devs() {
	cmp -s <(dd if="$1" bs=1M iflag=direct status=none) <(dd if="$2" bs=1M iflag=direct status=none)
}

# dmesg_clean: no dm-log-userspace timeout/error and no dm-mirror error since boot.
dmesg_clean() {
	local bad
	bad=$(dmesg | grep -Ei 'userspace.*(timed out|fail|error)|dm-log-userspace|mirror.*(error|fail)|device-mapper: raid1|I/O error|Buffer I/O' |
		grep -vi 'version' || true)
	if [ -n "$bad" ]; then
		fail "dmesg shows device-mapper trouble:"
		echo "$bad" | head -20
		return 1
	fi
	return 0
}

# start_corosync [NODEID ADDR]...: a corosync of this guest's own (knet, no crypto) with
# config, state and log under $TMPDIR/corosync; the nodelist is the given (nodeid, address)
# pairs (default: a single node 1 at 127.0.0.1). Node names are "e2e-node<ID>", never the
# hostname; COROSYNC_TOKEN sets the token timeout in ms (default 1000). Waits until it is
# quorate and a CPG client (corosync-cpgtool, libqb IPC through /dev/shm) can talk to it.
# Sets COROSYNC_PID.
start_corosync() {
	local d="$TMPDIR/corosync" nodes="" i
	[ $# -eq 0 ] && set -- 1 127.0.0.1
	while [ $# -ge 2 ]; do
		nodes="$nodes	node {
		ring0_addr: $2
		nodeid: $1
		name: e2e-node$1
	}
"
		shift 2
	done
	mkdir -p "$d/state"
	cat >"$d/corosync.conf" <<CONF
totem {
	version: 2
	cluster_name: cmloge2e
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: ${COROSYNC_TOKEN:-1000}
}
nodelist {
$nodes}
quorum {
	provider: corosync_votequorum
}
logging {
	to_logfile: yes
	logfile: $d/corosync.log
	to_syslog: no
	to_stderr: no
	timestamp: on
}
system {
	state_dir: $d/state
}
CONF
	corosync -f -c "$d/corosync.conf" >"$d/stdout.log" 2>&1 &
	COROSYNC_PID=$!
	for i in $(seq 180); do
		if corosync-quorumtool -s 2>/dev/null | grep -q '^Quorate: *Yes'; then
			break
		fi
		kill -0 "$COROSYNC_PID" 2>/dev/null || {
			cat "$d/stdout.log" "$d/corosync.log" 2>/dev/null | tail -20
			die "corosync exited"
		}
		sleep 0.5
	done
	corosync-quorumtool -s 2>/dev/null | grep -q '^Quorate: *Yes' || {
		tail -20 "$d/corosync.log"
		die "corosync not quorate after 90 s"
	}
	corosync-cpgtool >/dev/null 2>&1 || die "corosync-cpgtool cannot reach corosync (libqb IPC, /dev/shm?)"
	info "corosync pid $COROSYNC_PID quorate; CPG IPC works"
}

stop_corosync() {
	[ -n "${COROSYNC_PID:-}" ] || return 0
	kill "$COROSYNC_PID" 2>/dev/null
	wait "$COROSYNC_PID" 2>/dev/null
	COROSYNC_PID=
}

# connector_listeners: number of netlink connector sockets (protocol 11) subscribed to group
# 7 (mask 0x40), from /proc/net/netlink. A daemon is ready for the kernel once it has one.
connector_listeners() {
	local n=0 sk proto pid groups rest
	while read -r sk proto pid groups rest; do
		[ "$proto" = 11 ] && [ $((0x$groups & 0x40)) -ne 0 ] && n=$((n + 1))
	done < <(tail -n +2 /proc/net/netlink)
	echo "$n"
}

# start_cmlogd: run $CMLOGD in the foreground mode (`cmlogd -f` plus $CMLOGD_ARGS, default
# "-d --state-dir $TMPDIR/cmlogd-state"; pid file: the default /run/cmlogd.pid) with its
# output in $TMPDIR/cmlogd.log (appended across restarts), and wait until it listens on the
# connector group. Sets CMLOGD_PID.
start_cmlogd() {
	local before i
	before=$(connector_listeners)
	echo "=== start $(date +%T.%N)" >>"$TMPDIR/cmlogd.log"
	mkdir -p "$TMPDIR/cmlogd-state"
	# shellcheck disable=SC2086
	"$CMLOGD" -f ${CMLOGD_ARGS:--d --state-dir $TMPDIR/cmlogd-state} >>"$TMPDIR/cmlogd.log" 2>&1 &
	CMLOGD_PID=$!
	for i in $(seq 100); do
		[ "$(connector_listeners)" -gt "$before" ] && break
		kill -0 "$CMLOGD_PID" 2>/dev/null || {
			tail -20 "$TMPDIR/cmlogd.log"
			die "cmlogd exited at start"
		}
		sleep 0.2
	done
	[ "$(connector_listeners)" -gt "$before" ] || {
		tail -20 "$TMPDIR/cmlogd.log"
		die "cmlogd never joined connector group 7"
	}
	info "cmlogd pid $CMLOGD_PID listening on connector group 7"
}

stop_cmlogd() { # [signal]
	[ -n "${CMLOGD_PID:-}" ] || return 0
	kill "-${1:-TERM}" "$CMLOGD_PID" 2>/dev/null
	wait "$CMLOGD_PID" 2>/dev/null
	CMLOGD_PID=
}

# dm_devno NAME: "major:minor" of a device-mapper device.
dm_devno() {
	dmsetup info -c --noheadings -o major,minor "$1" | tr -d ' '
}
