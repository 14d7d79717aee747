#!/bin/sh
# guest-stage2.sh: stage 2 of the e2e guest boot, PID 1 in the switched root (the host's own
# userland, read-only over 9p, under a tmpfs overlay). Copied into the initramfs by
# prepare.sh and run by init.sh as /.cmlog-stage2.sh.
#
# Reads /e2e-results/run.env (written by run-guest.sh on the host), prepares what a test
# needs that a plain devtmpfs/overlay root lacks (/run, /dev/shm for libqb IPC, /dev/pts, a
# scratch tmpfs in $TMPDIR, lo up, optionally eth0 and the /e2e-shared share), runs the test script under a timeout with
# its output in /e2e-results/output.log, saves dmesg, writes the exit status to
# /e2e-results/status (the host's completion marker, so it is written last) and powers the
# guest off. It never returns: PID 1 exiting would panic the kernel.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
R=/e2e-results

power_off() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/shm /dev/pts /scratch
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts devpts /dev/pts
# devtmpfs has no /dev/fd (bash process substitution needs it) nor the std links.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777,size=60% tmpfs /scratch
[ -d /sys/kernel/config ] && mount -t configfs configfs /sys/kernel/config 2>/dev/null
hostname cmlog-guest
ip link set lo up

if [ ! -r "$R/run.env" ]; then
	echo "cmlog-stage2: no $R/run.env" >/dev/console
	power_off
fi
# run.env sets CMLOG_E2E_SCRIPT, CMLOG_E2E_TIMEOUT, top_srcdir, top_builddir and the
# test's own variables (exported); CMLOG_E2E_IP optionally configures eth0.
set -a
. "$R/run.env"
set +a
TMPDIR=/scratch
HOME=/scratch
export TMPDIR HOME

if [ -n "${CMLOG_E2E_SHARED:-}" ]; then
	mkdir -p /e2e-shared
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 shared /e2e-shared
fi
if [ -n "${CMLOG_E2E_IP:-}" ]; then
	modprobe virtio_net
	ip addr add "$CMLOG_E2E_IP" dev eth0 && ip link set eth0 up
fi

echo "cmlog-stage2: running $CMLOG_E2E_SCRIPT (timeout ${CMLOG_E2E_TIMEOUT}s)" >/dev/console
cd /scratch
# A mark in the kernel log: run-guest.sh shows dmesg from here on (the boot is noise).
echo "cmlog-e2e: test start" >/dev/kmsg
timeout -k 5 "$CMLOG_E2E_TIMEOUT" /bin/bash "$CMLOG_E2E_SCRIPT" >"$R/output.log" 2>&1 </dev/null
rc=$?
[ $rc -eq 124 ] && echo "cmlog-stage2: test timed out after ${CMLOG_E2E_TIMEOUT}s" >>"$R/output.log"
dmesg >"$R/dmesg.log" 2>&1
if [ $rc -ne 0 ]; then
	# Whatever helps explain a failure or a hang: who is blocked where, what device-mapper
	# has, and the logs the test kept on the guest's tmpfs (cmlogd, corosync).
	{
		echo "== ps"
		ps -eo pid,ppid,stat,wchan:32,etime,args
		for p in /proc/[0-9]*; do
			case "$(cut -d' ' -f3 "$p/stat" 2>/dev/null)" in
			D)
				echo "== blocked: $(cat "$p/cmdline" 2>/dev/null | tr '\0' ' ') (pid ${p#/proc/})"
				cat "$p/stack" 2>/dev/null
				;;
			esac
		done
		echo "== dmsetup info"
		timeout 10 dmsetup info -c
		echo "== dmsetup table"
		timeout 10 dmsetup table
		echo "== dmsetup status"
		timeout 10 dmsetup status
	} >"$R/diag.log" 2>&1
	mkdir -p "$R/scratch"
	find /scratch -name '*.log' -size -64M -exec cp {} "$R/scratch/" \; 2>/dev/null
fi
echo "$rc" >"$R/status.tmp" && mv "$R/status.tmp" "$R/status"
echo "cmlog-stage2: test exited $rc, powering off" >/dev/console
power_off
