#!/bin/bash
# Fuzz smoke run: every libFuzzer target in tests/fuzz/ for a bounded time, under ASan+UBSan.
#
#   tools/fuzz-smoke.sh [seconds]        (default 60 s per target)
#
# Configures a separate clang build (CC=clang --enable-fuzzing --with-sanitizers=asan,ubsan)
# in a temporary directory, builds the fuzz targets only, and runs each one on a copy of its
# seed corpus (tests/fuzz/corpus/<target>/) with -max_total_time and leak detection. Any
# crash, leak, timeout, out-of-memory or sanitizer report fails the target. Prints per target
# the executions, coverage (cov: and ft: of libFuzzer's last status line), corpus size and
# findings, then "N passed, N failed". Exit status 0 only when every target passed.
#
# Environment:
#   CMLOG_FUZZ_BUILD_DIR  reuse this build directory (configured if it has no Makefile)
#   CMLOG_FUZZ_TARGETS    space-separated subset, e.g. "rlog_ops disk"
#   CMLOG_FUZZ_KEEP=1     keep the work directory (logs, grown corpora, artifacts)
#   CMLOG_FUZZ_TABLE=FILE append one markdown table row per target to FILE (RELIABILITY.md)
# Findings (crash-*, leak-*, timeout-*, oom-* files) are kept and their paths printed.
set -u
secs=${1:-60}
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cmlog-fuzz.XXXXXX") || exit 1
keep=${CMLOG_FUZZ_KEEP:-0}
build=${CMLOG_FUZZ_BUILD_DIR:-$work/build}
jobs=${CMLOG_JOBS:-2}

cleanup() {
	if [ "$keep" = 1 ]; then
		echo "fuzz-smoke: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v clang >/dev/null || { echo "fuzz-smoke: clang not found (Debian packages clang libclang-rt-14-dev)"; echo "0 passed, 1 failed"; exit 1; }

if [ ! -f "$build/Makefile" ]; then
	if [ ! -x "$top/configure" ]; then
		(cd "$top" && ./autogen.sh >"$work/autogen.out" 2>&1) || { cat "$work/autogen.out"; echo "0 passed, 1 failed"; exit 1; }
	fi
	mkdir -p "$build"
	(cd "$build" && CC=clang "$top/configure" --enable-fuzzing --with-sanitizers=asan,ubsan \
		>"$work/configure.out" 2>&1) ||
		{ tail -30 "$work/configure.out"; echo "fuzz-smoke: configure failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! make -C "$build" -j"$jobs" fuzz-targets >"$work/make.out" 2>&1; then
	tail -40 "$work/make.out"
	echo "fuzz-smoke: building the fuzz targets failed"
	echo "0 passed, 1 failed"
	exit 1
fi
warnings=$(grep -c 'warning:' "$work/make.out")
[ "$warnings" -gt 0 ] && { echo "fuzz-smoke: the clang build printed $warnings warning(s):"; grep 'warning:' "$work/make.out" | sort -u | head -20; }

if [ -n "${CMLOG_FUZZ_TARGETS:-}" ]; then
	targets=$CMLOG_FUZZ_TARGETS
else
	targets=$(cd "$build/tests/fuzz" && for f in fuzz_*; do [ -x "$f" ] && echo "${f#fuzz_}"; done)
fi
[ -n "$targets" ] || { echo "fuzz-smoke: no fuzz targets were built"; echo "0 passed, 1 failed"; exit 1; }

symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
export ASAN_SYMBOLIZER_PATH=$symbolizer
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:symbolize=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

pass=0 fail=0
for t in $targets; do
	bin=$build/tests/fuzz/fuzz_$t
	seeds=$top/tests/fuzz/corpus/$t
	corpus=$work/corpus/$t
	out=$work/artifacts/$t
	log=$work/fuzz_$t.log
	mkdir -p "$corpus" "$out"
	if [ ! -x "$bin" ]; then
		echo "fuzz_$t: FAIL (not built)"; fail=$((fail + 1)); continue
	fi
	if [ -d "$seeds" ]; then cp -p "$seeds"/* "$corpus"/ 2>/dev/null; fi
	nseeds=$(find "$corpus" -type f | wc -l)
	# -rss_limit_mb: the decoders may legitimately allocate a large log (2^31 regions is two
	# 256 MiB bitmaps); anything beyond that is a finding.
	"$bin" -max_total_time="$secs" -detect_leaks=1 -print_final_stats=1 -timeout=25 \
		-rss_limit_mb=2560 -artifact_prefix="$out/" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	status=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$status" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	findings=$(find "$out" -type f | wc -l)
	reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$log")
	line="${execs:-0} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${nseeds} seeds -> ${corp:-?}, findings $findings"
	if [ "$rc" -eq 0 ] && [ "$findings" -eq 0 ] && [ "$reports" -eq 0 ]; then
		echo "fuzz_$t: PASS ($secs s) $line"
		pass=$((pass + 1))
		result=pass
	else
		echo "fuzz_$t: FAIL ($secs s, exit $rc) $line"
		grep -E 'ERROR:|runtime error:|SUMMARY:|checked property violated|^    #[0-9]' "$log" | head -25 | sed 's/^/    /'
		for a in "$out"/*; do [ -f "$a" ] && echo "    finding: $a"; done
		keep=1
		fail=$((fail + 1))
		result=FAIL
	fi
	if [ -n "${CMLOG_FUZZ_TABLE:-}" ]; then
		printf '| fuzz_%s | %s s | %s | %s | %s | %s -> %s | %s (%s) |\n' "$t" "$secs" "${execs:-0}" \
			"${cov:-?}" "${ft:-?}" "$nseeds" "${corp:-?}" "$findings" "$result" >>"$CMLOG_FUZZ_TABLE"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
