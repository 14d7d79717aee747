#!/bin/bash
# test_e2e_interop.sh (E2E_TESTS): one log device handed back and forth between the real
# kernel's own dm-log `disk` log and cmlogd's clustered-disk log in a qemu guest; see
# guest-interop.sh. Skips (77) while daemon/cmlogd is not built, or when qemu cannot run.
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
if [ ! -x "$top_builddir/daemon/cmlogd" ]; then
	echo "SKIP: cmlogd not built yet ($top_builddir/daemon/cmlogd)"
	exit 77
fi
exec "$here/run-guest.sh" --timeout "${CMLOG_E2E_TIMEOUT:-540}" "$here/guest-interop.sh"
