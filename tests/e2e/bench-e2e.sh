#!/bin/bash
# bench-e2e.sh: the end-to-end benchmark (`make bench-e2e`): guest-bench.sh in a qemu guest
# with Debian's real kernel; the result lines (bench ..., ratio ...) are also saved in
# $top_builddir/tests/e2e/bench-e2e.txt. Exit status as run-guest.sh (77: qemu cannot run).
here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
export top_builddir
out=$("$here/run-guest.sh" --timeout "${CMLOG_E2E_TIMEOUT:-600}" "$here/guest-bench.sh")
rc=$?
echo "$out"
grep -E '^(bench|ratio) ' <<<"$out" >"$top_builddir/tests/e2e/bench-e2e.txt"
exit $rc
