#!/bin/bash
# test_e2e_twonode.sh (E2E_TESTS): two qemu guests with Debian's real kernel, each running
# corosync + cmlogd, on a private qemu socket link, sharing one disk, build the same
# clustered-disk mirror (guest-twonode.sh). Skips (77) while daemon/cmlogd is not built, or
# when qemu cannot run on this machine.
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
export top_builddir
[ -x "$top_builddir/daemon/cmlogd" ] || { echo "SKIP: cmlogd not built yet ($top_builddir/daemon/cmlogd)"; exit 77; }
timeout_s=${CMLOG_E2E_TIMEOUT:-480}
# Build (or check) the guest once, before either node starts: a machine that cannot run a
# guest skips here, instead of one node skipping while the other waits for it and fails.
"$here/prepare.sh" >/dev/null
case $? in
0) ;;
77) exit 77 ;;
*) echo "prepare.sh failed"; exit 99 ;;
esac

mkdir -p "$top_builddir/tests/e2e/results"
work=$(mktemp -d "$top_builddir/tests/e2e/results/twonode.XXXXXX")
mkdir -p "$work/shared" "$work/n1" "$work/n2"
truncate -s 40M "$work/disk.img"
# A free TCP port on the host loopback for the guests' socket link.
for _ in $(seq 50); do
	port=$((20000 + RANDOM % 40000))
	[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && break
done
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

common=(--timeout "$timeout_s" --smp 1 --disk "$work/disk.img" --share "$work/shared")
"$here/run-guest.sh" "${common[@]}" --results "$work/n1" --net-listen "$port" --ip 10.77.0.1/24 \
	--env NODE=1 --env PEER_IP=10.77.0.2 "$here/guest-twonode.sh" >"$work/n1.out" 2>&1 &
pids+=($!)
# Node 2's qemu connects to node 1's: start it once node 1's qemu listens.
for _ in $(seq 300); do
	[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && break
	kill -0 "${pids[0]}" 2>/dev/null || break
	sleep 0.2
done
"$here/run-guest.sh" "${common[@]}" --results "$work/n2" --net-connect "$port" --ip 10.77.0.2/24 \
	--env NODE=2 --env PEER_IP=10.77.0.1 "$here/guest-twonode.sh" >"$work/n2.out" 2>&1 &
pids+=($!)
wait "${pids[0]}"
rc1=$?
wait "${pids[1]}"
rc2=$?
pids=()
echo "===== node 1 (exit $rc1)"
cat "$work/n1.out"
echo "===== node 2 (exit $rc2)"
cat "$work/n2.out"
for rc in $rc1 $rc2; do
	[ "$rc" -eq 0 ] || exit "$rc"
done
exit 0
