#!/bin/sh
# check-layering-selftest.sh: prove tools/check-layering.sh catches what it should.
#
# Copies log/, cluster/ and include/ to a private temp tree, checks the clean copy passes,
# then injects one violation at a time and requires exit 1 with a message naming the file
# and line; also requires that prose in comments and strings is not mistaken for a call.
set -u

src=${top_srcdir:-$(dirname "$0")/..}
src=$(cd "$src" && pwd)
check="$src/tools/check-layering.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlog-layering.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0

fresh() {
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree/tools" "$tmp/tree/cluster" "$tmp/tree/include"
	cp -R "$src/log" "$tmp/tree/log"
	[ -d "$src/cluster" ] && cp -R "$src/cluster/." "$tmp/tree/cluster/"
	[ -d "$src/include" ] && cp -R "$src/include/." "$tmp/tree/include/"
	chmod -R u+w "$tmp/tree" # distcheck sources are read-only
}

# expect_fail NAME FILE LINE: the check must fail and name FILE:LINE.
expect_fail() {
	if sh "$check" "$tmp/tree" >"$tmp/out" 2>&1; then
		echo "FAIL: $1: violation not detected"
		failures=$((failures + 1))
	elif ! grep -q "^$2:$3: " "$tmp/out"; then
		echo "FAIL: $1: no message naming $2:$3; got:"
		cat "$tmp/out"
		failures=$((failures + 1))
	else
		echo "ok: $1 -> $(grep "^$2:$3: " "$tmp/out" | head -1)"
	fi
}

expect_pass() {
	if sh "$check" "$tmp/tree" >"$tmp/out" 2>&1; then
		echo "ok: $1 passes"
	else
		echo "FAIL: $1: clean tree rejected:"
		cat "$tmp/out"
		failures=$((failures + 1))
	fi
}

# append FILE TEXT: add TEXT as a new last line; prints that line's number.
append() {
	printf '%s\n' "$2" >>"$1"
	wc -l <"$1" | tr -d ' '
}

fresh
expect_pass "unmodified copy"

fresh
n=$(append "$tmp/tree/log/rlog.c" '#include <stdio.h>')
expect_fail "log/ includes <stdio.h>" log/rlog.c "$n"

fresh
n=$(append "$tmp/tree/log/bitmap.h" '#include <sys/socket.h>')
expect_fail "log/ includes <sys/socket.h>" log/bitmap.h "$n"

fresh
n=$(append "$tmp/tree/log/marks.c" '#include "cluster/group.h"')
expect_fail "log/ includes a cluster/ header" log/marks.c "$n"

fresh
n=$(append "$tmp/tree/log/rlog.c" 'static void bad(void) { printf("%d", 1); }')
expect_fail "log/ calls printf" log/rlog.c "$n"

fresh
n=$(append "$tmp/tree/log/digest.c" 'static long bad(void) { return time (0) + rand(); }')
expect_fail "log/ calls time and rand" log/digest.c "$n"

fresh
n=$(append "$tmp/tree/log/disk.c" 'static int bad(int fd, void *b) { return (int)pread(fd, b, 1, 0); }')
expect_fail "log/ calls pread" log/disk.c "$n"

fresh
n=$(append "$tmp/tree/cluster/layering_probe.c" '#include "daemon/main.h"')
expect_fail "cluster/ includes a daemon/ header" cluster/layering_probe.c "$n"

fresh
n=$(append "$tmp/tree/include/layering_probe.h" '#include "cluster/group.h"')
expect_fail "include/ includes a cluster/ header" include/layering_probe.h "$n"

fresh
{
	echo '/* we never call read() or time() here,'
	echo '   nor printf("x") */'
	echo 'static const char *const probe_text = "write(fd) sleep(1)"; // exit(1)'
	echo 'struct probe_ops { int (*read)(void); };'
	echo 'static int probe_call(struct probe_ops *o) { return o->read(); }'
} >>"$tmp/tree/log/rlog.c"
expect_pass "prose, strings and member calls"

if [ "$failures" -ne 0 ]; then
	echo "check-layering-selftest: $failures case(s) failed"
	exit 1
fi
echo "check-layering-selftest: ok"
exit 0
