#!/bin/bash
# test_e2e_mirror.sh (E2E_TESTS): cmlogd against the real kernel in a qemu guest; see
# guest-mirror.sh for the scenarios. Skips (77) while daemon/cmlogd is not built, or when
# qemu cannot run on this machine.
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
if [ ! -x "$top_builddir/daemon/cmlogd" ]; then
	echo "SKIP: cmlogd not built yet ($top_builddir/daemon/cmlogd)"
	exit 77
fi
exec "$here/run-guest.sh" --timeout "${CMLOG_E2E_TIMEOUT:-540}" "$here/guest-mirror.sh"
