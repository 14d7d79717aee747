# tests/func/cluster.sh: run N real corosync 3 nodes on this machine for tests (bash, sourced).
#
# Owns the multi-node topology every functional test, the demo and the benchmark use:
#   - one network namespace per node, each with a veth into a per-run bridge in the root namespace
#     (the bridge has no address: nothing of ours is reachable from, or routes to, the host);
#   - private addresses 10.X.Y.i/24 (X, Y random per run), lo up in every namespace;
#   - per node a directory with corosync.conf, state/, corosync.log (corosync's own log) and
#     corosync.out (its stdout/stderr);
#   - corosync started as `ip netns exec NS unshare -m sh -c 'mount -t tmpfs tmpfs /run && ...'`:
#     the private /run hides the host-wide /run/corosync.pid lock (corosync 3.1.7 has no -l).
# Every name (netns, bridge, veth, temp dir) carries the run prefix "cmh" + 5 random hex digits
# (CL_PREFIX), so concurrent runs on the machine never collide, and cl_cleanup (installed on
# EXIT/INT/TERM/HUP by cl_init) removes exactly what this run created. Every wait is bounded.
#
# Usage (from a test script run by the automake harness, which exports top_srcdir):
#   . "$top_srcdir/tests/func/cluster.sh"
#   cl_require_root_or_skip            # exit 77 unless root with corosync/ip/unshare
#   cl_init 3 1000 || exit 99          # 3 nodes, token 1000 ms; installs the cleanup trap
#   cl_start_all || cl_fail "start"
#   cl_wait_membership 1 3 || cl_fail "no membership"
#   cl_bg 2 "$(cl_node_dir 2)/daemon.log" ./cmlogd -f; pid=$CL_LAST_PID
#   cl_exec 1 corosync-cpgtool
#   cl_partition 1; cl_wait_inquorate 1; cl_heal 1
#   (exit: the trap cleans up; or call cl_cleanup yourself, then cl_init again for a new run)
#
# Functions (all return 0 on success and non-zero with a message on stderr otherwise; node
# indices are 1..N):
#   cl_require_root_or_skip       exit 77 when not root or a needed tool is missing
#   cl_init N [token_ms]          create topology + configs (token default 1000), install trap
#   cl_start_node i               start corosync on node i, wait until its IPC answers
#   cl_start_all                  start every node, then wait for each one's IPC
#   cl_wait_membership i n [t]    wait until node i sees n nodes in its membership
#   cl_wait_quorate i [t]         wait until node i is quorate
#   cl_wait_inquorate i [t]       wait until node i is running but not quorate
#   cl_member_count i             print the number of nodes node i sees (empty if unreachable)
#   cl_is_quorate i               0 when quorate, 2 when inquorate, 1 when unreachable
#   cl_cpg_count i group          print how many processes node i sees in CPG group (0 if none)
#   cl_wait_cpg i group n [t]     wait until node i sees n processes in CPG group
#   cl_exec i cmd...              run cmd in node i's network namespace (enough for any corosync
#                                 client: libqb IPC uses abstract sockets, which are per netns)
#   cl_exec_mnt i cmd...          run cmd in node i's netns AND corosync's mount namespace (sees
#                                 the node's private /run); needs node i's corosync running
#   cl_bg i logfile cmd...        start cmd in the background in node i's netns, output to
#                                 logfile; pid in CL_LAST_PID; killed by cl_cleanup
#   cl_stop_bg pid [t]            SIGTERM, wait up to t s (default 5), then SIGKILL
#   cl_wait_pid pid [t]           wait up to t s (default 30) for pid to exit; returns its exit
#                                 status when it is a child of this shell (124 on timeout)
#   cl_kill_corosync i            SIGKILL node i's corosync (a crash), wait until it is gone
#   cl_stop_corosync i [t]        SIGTERM (clean shutdown), SIGKILL after t s (default 10)
#   cl_corosync_running i         0 when node i's corosync process is alive
#   cl_partition i / cl_heal i    take node i's bridge port (host-side veth) down / up
#   cl_node_addr i                print node i's address (no prefix length)
#   cl_node_name i                print node i's corosync node name (never the hostname)
#   cl_ns i                       print node i's network namespace name
#   cl_node_dir i                 print node i's private directory (free for test files)
#   cl_corosync_pid i             print node i's corosync pid (empty if never started)
#   cl_log_tail i [lines]         print the tail of node i's corosync log and stdout/stderr
#   cl_on_cleanup 'shell code'    register code to run first during cl_cleanup
#   cl_cleanup                    kill everything started, delete netns/bridge/veth, remove the
#                                 temp dir and the libqb files (blackbox rings, IPC dirs) of
#                                 the run's dead processes; idempotent; runs from the trap on
#                                 EXIT/INT/TERM/HUP
#   cl_leftovers runid            print any netns/link/temp dir still carrying that run id;
#                                 returns 0 when there is none
#   cl_reap_stale [runid]         by hand only: remove runs (all, or just runid) whose owner
#                                 shell is gone (after a SIGKILLed test); never called
#                                 automatically: a run owned from another pid namespace would
#                                 look dead
#   cl_fail msg                   print "FAIL: msg" and exit 1 (the trap cleans up)
#   cl_skip msg                   print "SKIP: msg" and exit 77
# Variables after cl_init: CL_RUN_ID (e.g. "3fa9c"), CL_PREFIX ("cmh3fa9c"), CL_N, CL_TOKEN,
# CL_TMP (per-run temp dir), CL_NET ("10.X.Y"), CL_LAST_PID (set by cl_bg).
# Environment knobs: CL_TIMEOUT (default wait, 30 s), CL_DEBUG=1 (corosync debug logging),
# CL_KEEP_TMP=1 (keep the temp dir for inspection), CL_TOTEM_EXTRA / CL_QUORUM_EXTRA (extra
# lines inside the totem / quorum sections, e.g. "wait_for_all: 0"), CL_QUIET=1 (no progress
# lines).
#
# Note on signals: bash runs the INT/TERM trap only after the current foreground command ends;
# wait for long-running things with `wait "$pid"` (interrupted by signals), not a long sleep.
#
# Note on two_node: for N=2 the config sets two_node: 1, which implies wait_for_all: a lone
# first node is not quorate until it has seen the other once (man votequorum).

CL_RUN_ID=""
CL_PREFIX=""
CL_N=0
CL_TOKEN=1000
CL_TMP=""
CL_NET=""
CL_LAST_PID=""
CL_CLEANUP_HOOKS=()
CL_NS_INODES=()
: "${CL_TIMEOUT:=30}"

_cl_msg() { [ "${CL_QUIET:-0}" = 1 ] || echo "cluster.sh: $*" >&2; }
_cl_err() { echo "cluster.sh: error: $*" >&2; }

cl_fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

cl_skip()
{
	echo "SKIP: $*" >&2
	exit 77
}

cl_require_root_or_skip()
{
	local t
	[ "$(id -u)" = 0 ] || cl_skip "needs root (network namespaces, veth, bridge)"
	case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
	for t in corosync corosync-quorumtool corosync-cpgtool corosync-cmapctl ip unshare nsenter \
		timeout mktemp od awk stat; do
		command -v "$t" >/dev/null 2>&1 ||
			cl_skip "'$t' not found (Debian packages: corosync iproute2 util-linux coreutils)"
	done
	unshare -n -m true 2>/dev/null || cl_skip "cannot create network/mount namespaces here"
	[ -e /sys/class/net ] || cl_skip "no /sys/class/net"
}

# _cl_check_node i: validate a node index against the current run.
_cl_check_node()
{
	if [ -z "$CL_RUN_ID" ]; then
		_cl_err "no cluster: call cl_init first"
		return 1
	fi
	case "$1" in
	'' | *[!0-9]*)
		_cl_err "bad node index '$1'"
		return 1
		;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt "$CL_N" ]; then
		_cl_err "node $1 out of range 1..$CL_N"
		return 1
	fi
}

cl_ns() { echo "${CL_PREFIX}n$1"; }
cl_node_name() { echo "${CL_PREFIX}-node$1"; }
cl_node_addr() { echo "$CL_NET.$1"; }
cl_node_dir() { echo "$CL_TMP/n$1"; }
_cl_hostif() { echo "${CL_PREFIX}v$1"; }
_cl_bridge() { echo "${CL_PREFIX}br"; }

cl_corosync_pid()
{
	[ -f "$CL_TMP/n$1/corosync.pid" ] && cat "$CL_TMP/n$1/corosync.pid"
	return 0
}

# _cl_alive pid: the process exists and is not a zombie.
_cl_alive()
{
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# _cl_ours pid: the process is alive and lives in one of this run's network namespaces, so a
# recycled pid is never signalled.
_cl_ours()
{
	local ino i
	_cl_alive "$1" || return 1
	ino=$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) || return 1
	for i in "${CL_NS_INODES[@]}"; do
		[ "$ino" = "$i" ] && return 0
	done
	return 1
}

cl_corosync_running()
{
	_cl_check_node "$1" || return 1
	_cl_ours "$(cl_corosync_pid "$1")"
}

cl_log_tail()
{
	local n=${2:-30} d
	d=$(cl_node_dir "$1")
	echo "---- node $1 corosync.log (last $n lines) ----" >&2
	tail -n "$n" "$d/corosync.log" >&2 2>/dev/null || echo "(no log)" >&2
	if [ -s "$d/corosync.out" ]; then
		echo "---- node $1 corosync stdout/stderr ----" >&2
		tail -n "$n" "$d/corosync.out" >&2
	fi
	echo "----" >&2
}

cl_on_cleanup() { CL_CLEANUP_HOOKS+=("$1"); }

_cl_on_exit()
{
	local rc=$?
	cl_cleanup
	exit "$rc"
}

_cl_on_signal()
{
	_cl_err "caught signal, cleaning up"
	cl_cleanup
	exit "$1"
}

# _cl_new_run_id: 5 random hex digits not used by any netns, link or temp dir on the machine.
_cl_new_run_id()
{
	local id
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-5)
		[ ${#id} = 5 ] || continue
		if ip netns list 2>/dev/null | grep -q "cmh$id" ||
			ip -o link show 2>/dev/null | grep -q "cmh$id" ||
			compgen -G "${TMPDIR:-/tmp}/cmh$id.*" >/dev/null; then
			continue
		fi
		echo "$id"
		return 0
	done
	return 1
}

_cl_write_conf()
{
	local i=$1 j d
	d=$(cl_node_dir "$i")
	{
		echo "# generated by tests/func/cluster.sh for run $CL_RUN_ID, node $i"
		echo "totem {"
		echo "	version: 2"
		echo "	cluster_name: $CL_PREFIX"
		echo "	transport: knet"
		echo "	crypto_cipher: none"
		echo "	crypto_hash: none"
		echo "	token: $CL_TOKEN"
		[ -n "${CL_TOTEM_EXTRA:-}" ] && printf '\t%s\n' "$CL_TOTEM_EXTRA"
		echo "}"
		# 3.1.7's parser wants every key on its own line.
		echo "logging {"
		echo "	to_logfile: yes"
		echo "	logfile: $d/corosync.log"
		echo "	to_stderr: no"
		echo "	to_syslog: no"
		echo "	timestamp: hires"
		if [ "${CL_DEBUG:-0}" = 1 ]; then echo "	debug: on"; else echo "	debug: off"; fi
		echo "}"
		echo "quorum {"
		echo "	provider: corosync_votequorum"
		[ "$CL_N" = 2 ] && echo "	two_node: 1"
		[ -n "${CL_QUORUM_EXTRA:-}" ] && printf '\t%s\n' "$CL_QUORUM_EXTRA"
		echo "}"
		echo "system {"
		echo "	state_dir: $d/state"
		echo "}"
		echo "nodelist {"
		for ((j = 1; j <= CL_N; j++)); do
			echo "	node {"
			echo "		nodeid: $j"
			echo "		name: $(cl_node_name "$j")"
			echo "		ring0_addr: $(cl_node_addr "$j")"
			echo "	}"
		done
		echo "}"
	} >"$d/corosync.conf"
}

cl_init()
{
	local n=$1 token=${2:-1000} i id ns br hif x y
	if [ -n "$CL_RUN_ID" ]; then
		_cl_err "cl_init: run $CL_RUN_ID still active (call cl_cleanup first)"
		return 1
	fi
	case "$n" in '' | *[!0-9]*) n=0 ;; esac
	if [ "$n" -lt 1 ] || [ "$n" -gt 32 ]; then
		_cl_err "cl_init: node count must be 1..32, got '$1'"
		return 1
	fi
	case "$token" in '' | *[!0-9]*)
		_cl_err "cl_init: bad token '$token'"
		return 1
		;;
	esac
	id=$(_cl_new_run_id) || {
		_cl_err "cl_init: could not pick a free run id"
		return 1
	}
	CL_RUN_ID=$id
	CL_PREFIX="cmh$id"
	CL_N=$n
	CL_TOKEN=$token
	CL_CLEANUP_HOOKS=()
	CL_NS_INODES=()
	trap _cl_on_exit EXIT
	trap '_cl_on_signal 130' INT
	trap '_cl_on_signal 143' TERM
	trap '_cl_on_signal 129' HUP
	CL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$CL_PREFIX.XXXXXX") || {
		_cl_err "cl_init: mktemp failed"
		cl_cleanup
		return 1
	}
	echo "$$" >"$CL_TMP/owner"
	x=$((100 + RANDOM % 150))
	y=$((RANDOM % 256))
	CL_NET="10.$x.$y"
	br=$(_cl_bridge)
	_cl_msg "run $CL_RUN_ID: $n node(s), token $token ms, net $CL_NET.0/24, dir $CL_TMP"

	if ! ip link add name "$br" type bridge forward_delay 0 stp_state 0 mcast_snooping 0 ||
		! ip link set "$br" up; then
		_cl_err "cl_init: cannot create bridge $br"
		cl_cleanup
		return 1
	fi
	for ((i = 1; i <= n; i++)); do
		ns=$(cl_ns "$i")
		hif=$(_cl_hostif "$i")
		mkdir -p "$CL_TMP/n$i/state" || {
			cl_cleanup
			return 1
		}
		if ! ip netns add "$ns" ||
			! ip -n "$ns" link set lo up ||
			! ip link add "$hif" type veth peer name eth0 netns "$ns" ||
			! ip link set "$hif" master "$br" ||
			! ip link set "$hif" up ||
			! ip -n "$ns" addr add "$(cl_node_addr "$i")/24" dev eth0 ||
			! ip -n "$ns" link set eth0 up; then
			_cl_err "cl_init: cannot set up node $i (netns $ns, veth $hif)"
			cl_cleanup
			return 1
		fi
		CL_NS_INODES+=("$(stat -L -c %i "/run/netns/$ns")")
		_cl_write_conf "$i"
	done
	# corosync -t also finds the local node, so it must run inside the node's namespace; its
	# complaints go to the configured log file.
	if ! cl_exec 1 corosync -t -c "$CL_TMP/n1/corosync.conf" >"$CL_TMP/conftest.out" 2>&1; then
		_cl_err "cl_init: corosync -t rejects the generated config $CL_TMP/n1/corosync.conf:"
		cat "$CL_TMP/conftest.out" >&2
		tail -n 20 "$CL_TMP/n1/corosync.log" >&2 2>/dev/null
		cl_cleanup
		return 1
	fi
	return 0
}

# _cl_launch i: start node i's corosync in the background (no wait).
_cl_launch()
{
	local i=$1 d pid
	_cl_check_node "$i" || return 1
	if cl_corosync_running "$i"; then
		_cl_err "node $i: corosync already running (pid $(cl_corosync_pid "$i"))"
		return 1
	fi
	d=$(cl_node_dir "$i")
	echo "=== start $(date -u +%H:%M:%S.%N)" >>"$d/corosync.out"
	# ip netns exec, unshare (no --fork) and sh all exec, so $! is corosync's own pid.
	ip netns exec "$(cl_ns "$i")" unshare -m sh -c \
		'mount -t tmpfs -o mode=0755,size=16m tmpfs /run && mkdir -p /run/corosync &&
		 exec corosync -f -c "$1"' cl-node "$d/corosync.conf" \
		>>"$d/corosync.out" 2>&1 </dev/null &
	pid=$!
	disown "$pid" 2>/dev/null
	echo "$pid" >"$d/corosync.pid"
	_cl_wait_entered "$pid" || {
		_cl_err "node $i: corosync pid $pid did not enter $(cl_ns "$i") within 5 s"
		return 1
	}
	_cl_msg "node $i: corosync pid $pid ($(cl_ns "$i"), $(cl_node_addr "$i"))"
}

# _cl_wait_ipc i timeout: wait until node i's corosync answers a cmap query.
_cl_wait_ipc()
{
	local i=$1 t=$2 end pid
	pid=$(cl_corosync_pid "$i")
	end=$((SECONDS + t))
	while :; do
		if ! _cl_alive "$pid"; then
			_cl_err "node $i: corosync (pid $pid) exited during startup"
			cl_log_tail "$i"
			return 1
		fi
		if cl_exec "$i" timeout 5 corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; then
			return 0
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			_cl_err "node $i: corosync IPC not ready after $t s"
			cl_log_tail "$i"
			return 1
		fi
		sleep 0.1
	done
}

cl_start_node()
{
	_cl_launch "$1" || return 1
	_cl_wait_ipc "$1" "${CL_TIMEOUT}"
}

cl_start_all()
{
	local i
	for ((i = 1; i <= CL_N; i++)); do
		_cl_launch "$i" || return 1
	done
	for ((i = 1; i <= CL_N; i++)); do
		_cl_wait_ipc "$i" "${CL_TIMEOUT}" || return 1
	done
}

cl_exec()
{
	local i=$1
	_cl_check_node "$i" || return 1
	shift
	ip netns exec "$(cl_ns "$i")" "$@"
}

cl_exec_mnt()
{
	local i=$1 pid
	_cl_check_node "$i" || return 1
	shift
	pid=$(cl_corosync_pid "$i")
	if ! _cl_ours "$pid"; then
		_cl_err "cl_exec_mnt: node $i has no running corosync"
		return 1
	fi
	nsenter -t "$pid" -n -m "$@"
}

cl_bg()
{
	local i=$1 log=$2
	_cl_check_node "$i" || return 1
	if [ -z "$log" ] || [ "$#" -lt 3 ]; then
		_cl_err "usage: cl_bg i logfile cmd..."
		return 1
	fi
	shift 2
	ip netns exec "$(cl_ns "$i")" "$@" >"$log" 2>&1 </dev/null &
	CL_LAST_PID=$!
	echo "$CL_LAST_PID" >>"$CL_TMP/bgpids"
	# Return only once the child has entered the namespace: cleanup signals only processes it
	# finds in this run's namespaces, so a just-forked child must not look like a stranger.
	_cl_wait_entered "$CL_LAST_PID" || {
		_cl_err "cl_bg: pid $CL_LAST_PID did not enter $(cl_ns "$i") within 5 s"
		return 1
	}
}

# _cl_wait_entered pid: wait (5 s max) until pid is in one of our netns or has exited.
_cl_wait_entered()
{
	local n=0
	while _cl_alive "$1" && ! _cl_ours "$1"; do
		n=$((n + 1))
		[ "$n" -ge 500 ] && return 1
		sleep 0.01
	done
	return 0
}

# _cl_wait_gone pid timeout_s: poll until the process is gone; 1 on timeout.
_cl_wait_gone()
{
	local pid=$1 end
	end=$((SECONDS + $2))
	while _cl_alive "$pid"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
	return 0
}

cl_wait_pid()
{
	local pid=$1 t=${2:-30}
	if ! _cl_wait_gone "$pid" "$t"; then
		_cl_err "pid $pid still running after $t s"
		return 124
	fi
	wait "$pid" 2>/dev/null
}

cl_stop_bg()
{
	local pid=$1 t=${2:-5}
	_cl_ours "$pid" || {
		wait "$pid" 2>/dev/null
		return 0
	}
	kill -TERM "$pid" 2>/dev/null
	if ! _cl_wait_gone "$pid" "$t"; then
		_cl_err "pid $pid ignored SIGTERM for $t s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null
		_cl_wait_gone "$pid" 5
	fi
	wait "$pid" 2>/dev/null
	return 0
}

cl_kill_corosync()
{
	local i=$1 pid
	_cl_check_node "$i" || return 1
	pid=$(cl_corosync_pid "$i")
	if ! _cl_ours "$pid"; then
		_cl_err "cl_kill_corosync: node $i has no running corosync"
		return 1
	fi
	kill -KILL "$pid"
	if ! _cl_wait_gone "$pid" 10; then
		_cl_err "node $i: corosync pid $pid survived SIGKILL for 10 s"
		return 1
	fi
	_cl_msg "node $i: corosync killed"
}

cl_stop_corosync()
{
	local i=$1 t=${2:-10} pid
	_cl_check_node "$i" || return 1
	pid=$(cl_corosync_pid "$i")
	if ! _cl_ours "$pid"; then
		_cl_err "cl_stop_corosync: node $i has no running corosync"
		return 1
	fi
	kill -TERM "$pid"
	if ! _cl_wait_gone "$pid" "$t"; then
		_cl_err "node $i: corosync did not stop within $t s, sending SIGKILL"
		cl_log_tail "$i"
		kill -KILL "$pid"
		_cl_wait_gone "$pid" 5
		return 1
	fi
	_cl_msg "node $i: corosync stopped"
}

cl_partition()
{
	_cl_check_node "$1" || return 1
	ip link set "$(_cl_hostif "$1")" down || return 1
	_cl_msg "node $1: partitioned (link down)"
}

cl_heal()
{
	_cl_check_node "$1" || return 1
	ip link set "$(_cl_hostif "$1")" up || return 1
	_cl_msg "node $1: healed (link up)"
}

cl_member_count()
{
	_cl_check_node "$1" || return 1
	cl_exec "$1" timeout 5 corosync-quorumtool -s 2>/dev/null | awk '$1 == "Nodes:" { print $2 }'
}

cl_is_quorate()
{
	local rc
	_cl_check_node "$1" || return 1
	cl_exec "$1" timeout 5 corosync-quorumtool -s >/dev/null 2>&1
	rc=$?
	case $rc in
	0 | 2) return $rc ;;
	*) return 1 ;;
	esac
}

# _cl_wait_for i timeout what cmd...: poll cmd (true = done) every 0.2 s; on timeout explain
# with quorumtool output and the log tail.
_cl_wait_for()
{
	local i=$1 t=$2 what=$3 end start
	shift 3
	start=${EPOCHREALTIME/[.,]/}
	end=$((SECONDS + t))
	while :; do
		if "$@"; then
			_cl_msg "node $i: $what (after $(((${EPOCHREALTIME/[.,]/} - start) / 1000)) ms)"
			return 0
		fi
		if ! cl_corosync_running "$i"; then
			_cl_err "node $i: waiting for '$what' but its corosync is not running"
			cl_log_tail "$i"
			return 1
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			_cl_err "node $i: timed out after $t s waiting for '$what'"
			cl_exec "$i" timeout 5 corosync-quorumtool -s >&2 2>&1
			cl_log_tail "$i"
			return 1
		fi
		sleep 0.2
	done
}

cl_cpg_count()
{
	_cl_check_node "$1" || return 1
	# CSV rows are GROUP,PID,NODEID; a group name may itself hold commas, so count from the end.
	cl_exec "$1" timeout 5 corosync-cpgtool -e -d , 2>/dev/null |
		awk -F, -v g="$2" 'NR > 1 && NF >= 3 {
			name = $1; for (k = 2; k <= NF - 2; k++) name = name "," $k
			if (name == g) n++
		} END { print n + 0 }'
}

_cl_has_cpg() { [ "$(cl_cpg_count "$1" "$2")" = "$3" ]; }

cl_wait_cpg()
{
	_cl_check_node "$1" || return 1
	_cl_wait_for "$1" "${4:-$CL_TIMEOUT}" "$3 process(es) in CPG group '$2'" \
		_cl_has_cpg "$1" "$2" "$3"
}

_cl_has_members() { [ "$(cl_member_count "$1")" = "$2" ]; }
_cl_quorate() { cl_is_quorate "$1"; }
_cl_inquorate()
{
	cl_is_quorate "$1"
	[ $? = 2 ]
}

cl_wait_membership()
{
	_cl_check_node "$1" || return 1
	_cl_wait_for "$1" "${3:-$CL_TIMEOUT}" "membership $2" _cl_has_members "$1" "$2"
}

cl_wait_quorate()
{
	_cl_check_node "$1" || return 1
	_cl_wait_for "$1" "${2:-$CL_TIMEOUT}" "quorate" _cl_quorate "$1"
}

cl_wait_inquorate()
{
	_cl_check_node "$1" || return 1
	_cl_wait_for "$1" "${2:-$CL_TIMEOUT}" "inquorate" _cl_inquorate "$1"
}

# _cl_kill_set sig pids...: signal the pids that are still ours.
_cl_kill_set()
{
	local sig=$1 p
	shift
	for p in "$@"; do
		_cl_ours "$p" && kill "-$sig" "$p" 2>/dev/null
	done
	return 0
}

# _cl_reap_qb_leftovers: libqb keeps a process's blackbox ring (/dev/shm/qb-<name>-<pid>-blackbox-*,
# or /tmp/<name>-<pid>-blackbox-* as the fallback) and its IPC directories
# (/dev/shm/qb-<server>-<client>-<n>-*) until the process closes them. The daemons this run
# SIGKILLed leave them, they pile up in memory, and a later process given the same pid meets
# them. Remove those made since the run began (its owner file, $1) whose process is gone.
_cl_reap_qb_leftovers()
{
	local since=$1 f base pid
	[ -f "$since" ] || return 0
	while IFS= read -r -d '' f; do
		base=${f##*/}
		base=${base#qb-}
		case $base in
		cmlogd-*-blackbox-* | corosync-*-blackbox-*)
			pid=${base#*-}
			pid=${pid%%-*}
			;;
		[0-9]*-[0-9]*-[0-9]*-*) pid=${base%%-*} ;;
		*) continue ;;
		esac
		case $pid in '' | *[!0-9]*) continue ;; esac
		# alive unless gone or a zombie (a killed corosync may not be reaped yet)
		[ -d "/proc/$pid" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
			continue
		rm -rf -- "$f"
	done < <(find /dev/shm /tmp -maxdepth 1 -newer "$since" \( -name 'qb-*' -o \
		-name 'cmlogd-*-blackbox-*' -o -name 'corosync-*-blackbox-*' \) -print0 2>/dev/null)
	return 0
}

cl_cleanup()
{
	local i ns pids p h end alive
	[ -n "$CL_RUN_ID" ] || return 0
	# Run user hooks once, even if one of them fails or calls cl_cleanup.
	local hooks=("${CL_CLEANUP_HOOKS[@]}")
	CL_CLEANUP_HOOKS=()
	for h in "${hooks[@]}"; do
		eval "$h" || _cl_err "cleanup hook failed: $h"
	done

	# Every process we started lives in one of our namespaces: collect them all (background
	# clients first so they can leave their groups while corosync still runs).
	pids=()
	[ -f "$CL_TMP/bgpids" ] && while read -r p; do pids+=("$p"); done <"$CL_TMP/bgpids"
	_cl_kill_set TERM "${pids[@]}"
	end=$((SECONDS + 3))
	for p in "${pids[@]}"; do
		while _cl_ours "$p" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
	done
	for ((i = 1; i <= CL_N; i++)); do
		ns=$(cl_ns "$i")
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$p"); done
	done
	_cl_kill_set TERM "${pids[@]}"
	end=$((SECONDS + 5))
	while :; do
		alive=0
		for p in "${pids[@]}"; do _cl_ours "$p" && alive=1; done
		[ "$alive" = 0 ] || [ "$SECONDS" -ge "$end" ] && break
		sleep 0.05
	done
	_cl_kill_set KILL "${pids[@]}"
	for ((i = 1; i <= CL_N; i++)); do
		ns=$(cl_ns "$i")
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	for p in "${pids[@]}"; do
		_cl_wait_gone "$p" 5 || _cl_err "cleanup: pid $p survived SIGKILL"
		wait "$p" 2>/dev/null
	done

	for ((i = 1; i <= CL_N; i++)); do
		ns=$(cl_ns "$i")
		[ -e "/run/netns/$ns" ] && { ip netns del "$ns" || _cl_err "cleanup: cannot delete netns $ns"; }
		h=$(_cl_hostif "$i")
		[ -e "/sys/class/net/$h" ] && ip link del "$h" 2>/dev/null
	done
	h=$(_cl_bridge)
	[ -e "/sys/class/net/$h" ] && { ip link del "$h" || _cl_err "cleanup: cannot delete bridge $h"; }
	_cl_reap_qb_leftovers "$CL_TMP/owner"
	if [ -n "$CL_TMP" ] && [ -d "$CL_TMP" ]; then
		if [ "${CL_KEEP_TMP:-0}" = 1 ]; then
			_cl_msg "keeping $CL_TMP (CL_KEEP_TMP=1)"
		else
			rm -rf "$CL_TMP"
		fi
	fi
	_cl_msg "run $CL_RUN_ID cleaned up"
	CL_RUN_ID=""
	CL_PREFIX=""
	CL_N=0
	CL_TMP=""
	CL_NS_INODES=()
	return 0
}

cl_leftovers()
{
	local id=$1 found=0 l
	[ -n "$id" ] || return 0
	for l in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "cmh$id"); do
		echo "netns $l"
		found=1
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "cmh$id"); do
		echo "link $l"
		found=1
	done
	if [ "${CL_KEEP_TMP:-0}" != 1 ]; then
		for l in "${TMPDIR:-/tmp}/cmh$id".*; do
			[ -e "$l" ] || continue
			echo "dir $l"
			found=1
		done
	fi
	[ "$found" = 0 ]
}

cl_reap_stale()
{
	local only=${1:-} d owner id i
	for d in "${TMPDIR:-/tmp}"/cmh?????.*; do
		[ -f "$d/owner" ] || continue
		id=$(basename "$d" | cut -c4-8)
		[ -z "$only" ] || [ "$id" = "$only" ] || continue
		[ "$id" = "$CL_RUN_ID" ] && continue
		owner=$(cat "$d/owner")
		[ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
		echo "cluster.sh: reaping stale run $id (owner $owner gone)" >&2
		for i in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^cmh${id}n"); do
			for owner in $(ip netns pids "$i" 2>/dev/null); do kill -KILL "$owner" 2>/dev/null; done
			ip netns del "$i"
		done
		for i in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
			grep "^cmh${id}"); do
			ip link del "$i" 2>/dev/null
		done
		_cl_reap_qb_leftovers "$d/owner"
		rm -rf "$d"
	done
	return 0
}
