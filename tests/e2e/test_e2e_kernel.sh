#!/bin/bash
# test_e2e_kernel.sh (E2E_TESTS): Debian's real 6.1 kernel in a qemu guest (TCG) runs
# dm-mirror with the core log and sends a userspace-log CTR over netlink; see guest-kernel.sh.
# Needs no cmlogd. Skips (77) only when qemu cannot run on this machine at all.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/run-guest.sh" --timeout "${CMLOG_E2E_TIMEOUT:-240}" "$here/guest-kernel.sh"
