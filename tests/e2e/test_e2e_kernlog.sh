#!/bin/bash
# test_e2e_kernlog.sh (E2E_TESTS): the mirror scenarios of guest-mirror.sh (data checks,
# sync/nosync, suspend/resume, reload and remove under I/O) with the kernel's own core and
# disk logs, in a qemu guest with Debian's real kernel. Needs no cmlogd: it proves the
# scenarios, so that test_e2e_mirror.sh failures point at the daemon.
here=$(cd "$(dirname "$0")" && pwd)
# A representative subset keeps the tier short (E2E_CASES=all-of-them works too).
exec "$here/run-guest.sh" --timeout "${CMLOG_E2E_TIMEOUT:-400}" --env E2E_LOG=kernel \
	--env E2E_CASES="${E2E_CASES:-core-sync disk-nosync reload}" \
	"$here/guest-mirror.sh"
