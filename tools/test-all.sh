#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine (run as root):
#   sudo tools/test-all.sh
# Installs the Debian packages it needs, builds with warnings as errors, and runs every tier:
# unit + simulation + layering (make check), make distcheck, functional tests with real
# corosync nodes in network namespaces, the end-to-end tests in a qemu guest, fuzz smoke runs
# and the sanitizer build. Prints each tier's result and one closing line
# "N passed, N failed, N skipped". Exit status 0 only when nothing failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${CMLOG_BUILD_DIR:-$top/_build}
skip_install=${CMLOG_SKIP_INSTALL:-0}

total_pass=0 total_fail=0 total_skip=0
tier_results=()

note() { printf '\n=== %s ===\n' "$*"; }

# Add the counts of an automake suite log to the totals.
count_suite() { # name logfile rc
	local name=$1 log=$2 rc=$3 p=0 f=0 s=0 e=0 x=0
	if [ -f "$log" ]; then
		p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
		f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
		s=$(sed -n 's/^# SKIP: *//p' "$log" | head -1)
		e=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
		x=$(sed -n 's/^# XPASS: *//p' "$log" | head -1)
	fi
	p=${p:-0} f=${f:-0} s=${s:-0} e=${e:-0} x=${x:-0}
	f=$((f + e + x))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
	tier_results+=("$name: $p passed, $f failed, $s skipped")
}

# A tier that is one command rather than an automake suite.
count_cmd() { # name rc
	if [ "$2" -eq 0 ]; then
		total_pass=$((total_pass + 1)); tier_results+=("$1: passed")
	elif [ "$2" -eq 77 ]; then
		total_skip=$((total_skip + 1)); tier_results+=("$1: SKIPPED")
	else
		total_fail=$((total_fail + 1)); tier_results+=("$1: FAILED (exit $2)")
	fi
}

# Print the cmocka summaries (they go to the per-test logs, not to make's output).
show_logs() { # dir
	find "$1" -name '*.log' ! -name '*-suite.log' ! -name 'config.log' -newer "$build/config.status" 2>/dev/null |
		sort | while read -r l; do
			if grep -q '^\[==========\]\|^\[  PASSED  \]\|^\[  FAILED  \]' "$l"; then
				echo "--- ${l#"$build"/}"
				grep -E '^\[(==========|  PASSED  |  FAILED  |  SKIPPED )\]' "$l"
			fi
		done
}

if [ "$skip_install" != 1 ]; then
	note "installing Debian packages"
	"$top/tools/install-deps.sh" --e2e || { echo "0 passed, 1 failed"; exit 1; }
fi

note "build"
(cd "$top" && ./autogen.sh >/dev/null 2>&1) || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }
rm -rf "$build" && mkdir -p "$build"
(cd "$build" && "$top/configure" --enable-fatal-warnings >configure.out 2>&1) ||
	{ tail -30 "$build/configure.out"; echo "0 passed, 1 failed"; exit 1; }
make -C "$build" -j2 >"$build/make.out" 2>&1 || { tail -60 "$build/make.out"; echo "0 passed, 1 failed"; exit 1; }
echo "build: ok"

note "format"
make -C "$build" format-check; count_cmd "format-check" $?

note "unit, simulation and layering tests (make check)"
make -C "$build" -j2 check >"$build/check.out" 2>&1; rc=$?
grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$build/check.out"
show_logs "$build/tests"
[ $rc -ne 0 ] && { tail -40 "$build/test-suite.log" 2>/dev/null; }
count_suite "make check" "$build/test-suite.log" $rc

note "functional tests (real corosync in network namespaces)"
make -C "$build" check-func >"$build/func.out" 2>&1; rc=$?
grep -E '^(PASS|FAIL|SKIP|ERROR):' "$build/func.out"
[ $rc -ne 0 ] && { cat "$build/func-suite.log" 2>/dev/null | tail -80; }
count_suite "functional" "$build/func-suite.log" $rc

note "end-to-end tests (real kernel in qemu)"
make -C "$build" check-e2e >"$build/e2e.out" 2>&1; rc=$?
grep -E '^(PASS|FAIL|SKIP|ERROR):' "$build/e2e.out"
[ $rc -ne 0 ] && { cat "$build/e2e-suite.log" 2>/dev/null | tail -80; }
count_suite "end-to-end" "$build/e2e-suite.log" $rc

note "distcheck"
make -C "$build" distcheck >"$build/distcheck.out" 2>&1; rc=$?
[ $rc -ne 0 ] && tail -40 "$build/distcheck.out"
count_cmd "make distcheck" $rc

note "hardening: sanitizers, valgrind, static analysis, fuzz smoke"
if [ -x "$top/tools/check-quality.sh" ]; then
	CMLOG_BUILD_DIR="$build" "$top/tools/check-quality.sh" all >"$build/quality.out" 2>&1; rc=$?
	grep -E '^(==|PASS|FAIL|SKIP|ok|not ok|[0-9]+ passed)' "$build/quality.out" | tail -60
	[ $rc -ne 0 ] && tail -60 "$build/quality.out"
	count_cmd "hardening (tools/check-quality.sh all)" $rc
fi

note "summary"
for r in "${tier_results[@]}"; do echo "  $r"; done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
