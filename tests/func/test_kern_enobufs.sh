#!/bin/bash
# Kernel-link receive overflow (kernel-protocol.md s3, s6): cmlogd with the smallest receive
# buffer its configuration allows (rcvbuf_bytes = 65536) gets a burst of 4000 requests sent
# back to back (MARK r, IN_SYNC r, GET_SYNC_COUNT, FLUSH over 1000 regions) while it is
# SIGSTOPped (as a busy daemon would not read), far more than the buffer holds. Required: cmlogd reports the overrun (recv ENOBUFS, counted in its kernel
# link statistics and logged) and keeps serving; the driver resends what was not answered
# after 500 ms with a new seq, as the kernel does after 15 s, and then sends ten answered
# requests again with their old seq. Every answer names a seq we sent and that request's
# type, is right for it (MARK/FLUSH 0, IN_SYNC 0|1, GET_SYNC_COUNT the log's count), no seq
# is answered twice except the deliberate duplicates (cmlogd keeps no per-seq memory: a
# same-seq duplicate gets a second, identical answer, which the kernel would discard), and
# the final state is what the requests asked for: the 1000 regions marked (not clean), the
# sync count unchanged; after CLEAR + FLUSH of all of them every region is clean again.
set -u
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/func/single_lib.sh
. "$top_srcdir/tests/func/single_lib.sh"
DRV="$top_builddir/tests/func/cluster_drv"
[ -x "$DRV" ] || cl_skip "tests/func/cluster_drv not built"
REGIONS=1024
N=4000
single_init
printf 'rcvbuf_bytes = 65536\n' >"$SINGLE_DIR/small-rcvbuf.conf"
single_start_daemon -c "$SINGLE_DIR/small-rcvbuf.conf"
U="enobufs-$CL_RUN_ID"
drv() { cl_exec 1 timeout 120 "$DRV" --uuid "$U" --luid 0x7700 "$@"; }

drv activate "$((REGIONS * 8)) clustered-core 8 nosync" >/dev/null || single_fail "activation"
# cmlogd is SIGSTOPped while the burst is sent, so the overflow does not depend on timing
drv --timeout-ms 60000 --stop-pid "$SINGLE_PID" burst "$N" 500 | tee "$SINGLE_DIR/burst.out" ||
	single_fail "the burst was not answered exactly as the kernel expects"
grep -q 'receive buffer overrun' "$SINGLE_LOG" ||
	single_fail "no receive buffer overrun: the burst did not overflow cmlogd's socket"
resends=$(sed -n 's/.* \([0-9]*\) resends (new seq).*/\1/p' "$SINGLE_DIR/burst.out")
[ "${resends:-0}" -gt 0 ] || single_fail "nothing was lost, so nothing was resent"
echo "ok - overrun logged by cmlogd; $resends requests lost to it were resent and answered once"
kill -0 "$SINGLE_PID" 2>/dev/null || single_fail "cmlogd died"

line=$(drv dump "$REGIONS" | grep '^state ') || single_fail "state dump"
echo "$line"
case "$line" in
*" sync_count=$REGIONS "*" clean=$((REGIONS - N / 4)) "*) ;;
*) single_fail "expected sync_count=$REGIONS and $((N / 4)) regions marked: $line" ;;
esac
ops=()
for ((r = 0; r < N / 4; r += 32)); do
	ops+=("clear:$(seq -s, "$r" $((r + 31 < N / 4 - 1 ? r + 31 : N / 4 - 1)))")
done
cl_exec 1 timeout 120 "$top_builddir/tests/func/daemon_driver" --uuid "$U" --luid 0x7700 \
	"${ops[@]}" flush >/dev/null || single_fail "CLEAR + FLUSH of the marked regions"
sleep 3 # deferred clears leave (GROUP_AL_IDLE_MS)
line=$(drv dump "$REGIONS" | grep '^state ') || single_fail "state dump"
case "$line" in
*" sync_count=$REGIONS "*" clean=$REGIONS "*) ;;
*) single_fail "expected every region clean and in sync: $line" ;;
esac
dg=$(cl_exec 1 timeout 10 "$top_builddir/cmlogctl" -j show "$U" 2>/dev/null |
	sed 's/[,{}]/\n/g' | sed -n 's/^ *"digest": *"\([0-9a-f]\{16\}\)".*/\1/p' | head -n 1)
[ -n "$dg" ] || single_fail "no replica digest from cmlogctl"
echo "ok - after CLEAR + FLUSH every region is clean and in sync (digest $dg)"
echo "PASS: kernel link overflow"
