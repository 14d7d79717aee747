#!/bin/bash
# Quality tiers beyond `make check`, each in its own build directory:
#
#   tools/check-quality.sh [sanitizers|valgrind|static|fuzz|all]...    (default: all)
#
#   sanitizers  build with --with-sanitizers=asan,ubsan --enable-fatal-warnings and run
#               `make check` (unit, simulation, corpus replays) and, as root, `make check-func`,
#               with leak detection on and every sanitizer report fatal;
#   valgrind    plain build; every unit test program and corpus replay of `make check` under
#               valgrind memcheck, two at a time (any error or definite/indirect leak fails it;
#               tests/unit/valgrind.supp holds the suppressions for bugs in other projects);
#   static      cppcheck on log/ cluster/ daemon/ include/ tests/ and clang's scan-build over
#               the whole build (programs and test programs), warnings as errors: zero reports,
#               or each remaining one suppressed in place with a comment saying why;
#   fuzz        tools/fuzz-smoke.sh with CMLOG_FUZZ_SECONDS (default 60) per target.
#
# Prints a summary per part and a final "N passed, N failed"; exit status 0 only when every
# requested part passed. CMLOG_QUALITY_DIR keeps the build directories and logs there
# (default: a temporary directory removed at exit); CMLOG_JOBS sets make -j (default 2).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${CMLOG_JOBS:-2}
if [ -n "${CMLOG_QUALITY_DIR:-}" ]; then
	work=$CMLOG_QUALITY_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/cmlog-quality.XXXXXX") || exit 1
	trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT TERM

pass=0 fail=0
summary=()

note() { printf '\n=== %s ===\n' "$*"; }
part_start=$SECONDS
result() { # part rc text
	local took="$((SECONDS - part_start)) s"
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1)); summary+=("ok - $1: PASSED ($took) - $3")
	else
		fail=$((fail + 1)); summary+=("not ok - $1: FAILED ($took) - $3")
	fi
	part_start=$SECONDS
}

ensure_configure() {
	[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] && return 0
	(cd "$top" && ./autogen.sh >"$work/autogen.out" 2>&1) || { cat "$work/autogen.out"; return 1; }
}

# configure_build dir [configure args...]; CC and friends come from the environment.
configure_build() {
	local dir=$1
	shift
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$dir" && "$top/configure" "$@" >configure.out 2>&1) || { tail -30 "$dir/configure.out"; return 1; }
}

# Counts of an automake suite log: "P passed, F failed, S skipped".
suite_counts() {
	local log=$1 p f s e
	p=$(sed -n 's/^# PASS: *//p' "$log" 2>/dev/null | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$log" 2>/dev/null | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$log" 2>/dev/null | head -1)
	s=$(sed -n 's/^# SKIP: *//p' "$log" 2>/dev/null | head -1)
	echo "${p:-0} passed, $((${f:-0} + ${e:-0})) failed, ${s:-0} skipped"
}

# Show the failing tests' logs of an automake run.
show_failures() { # builddir suite-log
	grep -E '^(FAIL|ERROR):' "$1/$2" 2>/dev/null | head -20
	tail -60 "$1/$2" 2>/dev/null
}

part_sanitizers() {
	local b=$work/sanitizers rc=0 text func="check-func not run (not root)"
	note "sanitizers: ASan+UBSan build, make check"
	ensure_configure && configure_build "$b" --with-sanitizers=asan,ubsan --enable-fatal-warnings ||
		{ result sanitizers 1 "configure failed"; return; }
	make -C "$b" -j"$jobs" >"$b/make.out" 2>&1 || { tail -40 "$b/make.out"; result sanitizers 1 "build failed"; return; }
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	make -C "$b" -j"$jobs" check >"$b/check.out" 2>&1 || rc=1
	grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$b/check.out"
	[ $rc -ne 0 ] && show_failures "$b" test-suite.log
	text="make check: $(suite_counts "$b/test-suite.log")"
	if [ "$(id -u)" -eq 0 ]; then
		note "sanitizers: make check-func"
		if make -C "$b" check-func >"$b/func.out" 2>&1; then
			func="check-func: $(suite_counts "$b/func-suite.log")"
		else
			rc=1
			show_failures "$b" func-suite.log
			func="check-func FAILED: $(suite_counts "$b/func-suite.log")"
		fi
		grep -E '^(PASS|FAIL|SKIP|ERROR):' "$b/func.out"
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
	result sanitizers $rc "$text; $func"
}

# One test program under memcheck; its verdict goes to $b/<name>.vg.rc.
vg_one() { # builddir program
	local b=$1 p=$2 log t0=$SECONDS rc
	log=$b/$(echo "$p" | tr / _).vg
	# Run as automake would (same working directory and environment).
	(cd "$b" && top_srcdir=$top top_builddir=$b valgrind --tool=memcheck --error-exitcode=99 \
		--suppressions="$top/tests/unit/valgrind.supp" --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--num-callers=30 --quiet "./$p") >"$log.log" 2>&1
	rc=$?
	echo "$rc $((SECONDS - t0))" >"$log.rc"
}

part_valgrind() {
	local b=$work/valgrind rc=0 progs p n=0 bad=0 r t
	note "valgrind: memcheck over every unit test program"
	command -v valgrind >/dev/null || { result valgrind 1 "valgrind not installed (Debian package valgrind)"; return; }
	ensure_configure && configure_build "$b" --enable-fatal-warnings || { result valgrind 1 "configure failed"; return; }
	make -C "$b" -j"$jobs" >"$b/make.out" 2>&1 && make -C "$b" -j"$jobs" check TESTS= >>"$b/make.out" 2>&1 ||
		{ tail -40 "$b/make.out"; result valgrind 1 "build failed"; return; }
	# Unit tests and corpus replays. Left to the sanitizer tier (ASan+UBSan+LSan run them in
	# full): the simulation programs. test_rlog_model's full randomized sweeps take more than
	# 12 minutes under memcheck on 2 cores: here it runs every seed with walks shortened to
	# CMLOG_MODEL_SCALE percent (default 10; the sanitizer tier and `make check` run 100).
	# CMLOG_VALGRIND_PROGRAMS overrides the list (e.g. "tests/unit/test_rlog_model").
	export CMLOG_MODEL_SCALE=${CMLOG_MODEL_SCALE:-10}
	progs=${CMLOG_VALGRIND_PROGRAMS:-$(make -s -C "$b" print-check-programs | tr ' ' '\n' |
		grep -E '^tests/(unit|fuzz)/')}
	# $jobs programs at a time.
	for p in $progs; do
		[ -x "$b/$p" ] || continue
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		vg_one "$b" "$p" &
	done
	wait
	for p in $progs; do
		[ -f "$b/$(echo "$p" | tr / _).vg.rc" ] || continue
		n=$((n + 1))
		read -r r t <"$b/$(echo "$p" | tr / _).vg.rc"
		if [ "$r" -eq 0 ]; then
			echo "PASS: $p (${t} s)"
		else
			echo "FAIL: $p (exit $r, ${t} s)"
			grep -E '==[0-9]+==|Assertion|FAILED' "$b/$(echo "$p" | tr / _).vg.log" | head -30 | sed 's/^/    /'
			bad=$((bad + 1))
			rc=1
		fi
	done
	unset CMLOG_MODEL_SCALE
	[ $n -gt 0 ] || { result valgrind 1 "no test programs found"; return; }
	result valgrind $rc "$((n - bad)) of $n unit test programs clean under memcheck"
}

part_static() {
	local b=$work/static rc=0 cpp_rc scan_rc dirs d cpp_n scan_n
	note "static: cppcheck"
	command -v cppcheck >/dev/null || { result static 1 "cppcheck not installed (Debian package cppcheck)"; return; }
	command -v scan-build >/dev/null || { result static 1 "scan-build not installed (Debian package clang-tools)"; return; }
	mkdir -p "$b"
	dirs=""
	for d in log cluster daemon include tests; do [ -d "$top/$d" ] && dirs="$dirs $d"; done
	# config.h is generated; missing system headers are not what we check.
	(cd "$top" && cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
		--std=c11 --quiet -j"$jobs" -I. -Iinclude -D__linux__ -D__x86_64__ \
		--suppress=missingIncludeSystem $dirs) >"$b/cppcheck.out" 2>&1
	cpp_rc=$?
	cpp_n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (error|warning|performance|portability|style)' "$b/cppcheck.out")
	cat "$b/cppcheck.out"
	echo "cppcheck: exit $cpp_rc, $cpp_n report(s)"
	[ $cpp_rc -eq 0 ] || rc=1

	note "static: scan-build (clang analyzer, warnings as errors)"
	ensure_configure || { result static 1 "autogen failed"; return; }
	rm -rf "$b/build" "$b/scan" && mkdir -p "$b/build"
	(cd "$b/build" && scan-build --use-cc=clang "$top/configure" --enable-fatal-warnings >configure.out 2>&1) ||
		{ tail -30 "$b/build/configure.out"; result static 1 "configure under scan-build failed"; return; }
	# Programs and test programs alike (check TESTS= builds check_PROGRAMS without running them).
	(cd "$b/build" && scan-build --status-bugs --use-cc=clang -o "$b/scan" \
		sh -c "make -j$jobs all && make -j$jobs check TESTS=") >"$b/scan.out" 2>&1
	scan_rc=$?
	scan_n=$(sed -n 's/^scan-build: \([0-9][0-9]*\) bugs\? found.*/\1/p' "$b/scan.out" | tail -1)
	grep -E 'warning:|error:' "$b/scan.out" | sort -u | head -40
	grep -E '^scan-build:' "$b/scan.out"
	[ $scan_rc -eq 0 ] || { rc=1; tail -20 "$b/scan.out"; }
	result static $rc "cppcheck ${cpp_n} report(s) (exit $cpp_rc); scan-build ${scan_n:-0} bug(s) (exit $scan_rc)"
}

part_fuzz() {
	local secs=${CMLOG_FUZZ_SECONDS:-60} rc
	note "fuzz: tools/fuzz-smoke.sh $secs"
	"$top/tools/fuzz-smoke.sh" "$secs" 2>&1 | tee "$work/fuzz.out"
	rc=${PIPESTATUS[0]}
	result fuzz "$rc" "$(tail -1 "$work/fuzz.out") (${secs} s per target)"
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(all)
for p in "${parts[@]}"; do
	case "$p" in
	sanitizers) part_sanitizers ;;
	valgrind) part_valgrind ;;
	static) part_static ;;
	fuzz) part_fuzz ;;
	all) part_sanitizers; part_valgrind; part_static; part_fuzz ;;
	*) echo "usage: $0 [sanitizers|valgrind|static|fuzz|all]..." >&2; exit 2 ;;
	esac
done

note "quality summary"
for s in "${summary[@]}"; do echo "$s"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
