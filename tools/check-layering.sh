#!/bin/sh
# check-layering.sh: enforce the module boundaries of style.md section 9 rule 1.
#
#   log/      libc only: includes only a pure subset of libc headers, its own headers and
#             wire.h; calls no I/O, clock, randomness, logging or process functions.
#   cluster/  never includes daemon/ headers.
#   include/  wire formats only: never includes cluster/ or daemon/ headers.
#
# Usage: check-layering.sh [SRCDIR]   (default: $top_srcdir, else the parent of this script)
# Exit 0 when clean, 1 with one "file:line: reason" per violation, 99 on a usage error.
# Comments and string literals are ignored, so prose may mention read() or time().
set -u

src=${1:-${top_srcdir:-$(dirname "$0")/..}}
if [ ! -f "$src/log/rlog.h" ]; then
	echo "check-layering: $src does not look like the cmlog source tree (no log/rlog.h)" >&2
	exit 99
fi
src=$(cd "$src" && pwd)

# One awk program for every file: strip comments and literals (keeping line numbers), then
# apply the rules of the file's area. Prints violations; the exit status counts them.
check_file() {
	area=$1
	file=$2
	awk -v area="$area" -v fname="$file" -v logdir="$src/log" '
	BEGIN {
		n = split("stdint.h stdbool.h stddef.h stdlib.h string.h errno.h limits.h " \
			  "assert.h inttypes.h", a, " ")
		for (i = 1; i <= n; i++)
			pure[a[i]] = 1
		n = split("open openat creat close read write pread pwrite readv writev " \
			  "preadv pwritev fsync fdatasync sync syncfs ioctl mmap munmap lseek " \
			  "fopen fdopen fclose fread fwrite fflush fgets fputs fputc putc " \
			  "putchar puts printf fprintf vprintf vfprintf dprintf perror " \
			  "syslog vsyslog openlog closelog " \
			  "time clock clock_gettime gettimeofday localtime gmtime " \
			  "rand random srand srandom rand_r drand48 lrand48 getrandom arc4random " \
			  "getpid getppid gettid sleep usleep nanosleep alarm " \
			  "socket connect bind listen accept accept4 send sendto sendmsg recv " \
			  "recvfrom recvmsg poll ppoll select pselect epoll_wait epoll_create " \
			  "exit _exit _Exit abort atexit fork vfork execv execve execvp execl " \
			  "system popen getenv setenv signal sigaction kill raise " \
			  "pthread_create dlopen", a, " ")
		for (i = 1; i <= n; i++)
			banned[a[i]] = 1
		incom = 0
		bad = 0
	}
	function report(msg) {
		printf "%s:%d: %s\n", fname, FNR, msg
		bad++
	}
	# Remove comments, string and character literals; keep the rest of the line.
	function strip(s,    out, i, c, d, q) {
		out = ""
		i = 1
		while (i <= length(s)) {
			c = substr(s, i, 1)
			d = substr(s, i, 2)
			if (incom) {
				if (d == "*/") { incom = 0; i += 2 } else i++
				continue
			}
			if (d == "/*") { incom = 1; i += 2; out = out " "; continue }
			if (d == "//") break
			if (c == "\"" || c == "\047") {
				q = c
				i++
				while (i <= length(s) && substr(s, i, 1) != q)
					i += (substr(s, i, 1) == "\\") ? 2 : 1
				i++
				out = out q q
				continue
			}
			out = out c
			i++
		}
		return out
	}
	{
		raw = $0
		line = strip($0)
		# Includes are judged on the raw line (the header name is a literal).
		if (line ~ /^[ \t]*#[ \t]*include/) {
			inc = raw
			sub(/^[ \t]*#[ \t]*include[ \t]*/, "", inc)
			kind = substr(inc, 1, 1)
			name = substr(inc, 2)
			sub(/[">].*$/, "", name)
			if (area == "log") {
				if (kind == "<") {
					if (!(name in pure))
						report("log/ may include only pure libc headers, not <" name ">")
				} else {
					base = name
					sub(/^log\//, "", base)
					if (name == "wire.h" || name == "include/wire.h") {
						# the one shared wire helper, header only, libc only
					} else if (name ~ /\// && name !~ /^log\//) {
						report("log/ may include only log/ headers and wire.h, not \"" name "\"")
					} else if (system("test -f \"" logdir "/" base "\"") != 0) {
						report("log/ includes \"" name "\", which is not a log/ header")
					}
				}
			} else if (area == "cluster") {
				if (name ~ /^(\.\.\/)*daemon\//)
					report("cluster/ must not include daemon/ headers (\"" name "\")")
			} else if (area == "include") {
				if (name ~ /^(\.\.\/)*(cluster|daemon)\//)
					report("include/ must not include cluster/ or daemon/ headers (\"" name "\")")
			}
			next
		}
		if (area != "log")
			next
		rest = line
		while (match(rest, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
			word = substr(rest, RSTART, RLENGTH)
			sub(/[ \t]*\($/, "", word)
			prev = RSTART > 1 ? substr(rest, RSTART - 1, 1) : ""
			prev2 = RSTART > 2 ? substr(rest, RSTART - 2, 2) : ""
			if ((word in banned) && prev != "." && prev2 != "->")
				report("log/ must not call " word "() (I/O, clock, randomness, logging or process control)")
			rest = substr(rest, RSTART + RLENGTH)
		}
	}
	END { exit bad ? 1 : 0 }
	' "$file"
}

status=0
nfiles=0
for area in log cluster include; do
	[ -d "$src/$area" ] || continue
	for f in $(find "$src/$area" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort); do
		nfiles=$((nfiles + 1))
		rel=${f#"$src"/}
		(cd "$src" && check_file "$area" "$rel") || status=1
	done
done

if [ "$status" -ne 0 ]; then
	echo "check-layering: FAILED (module boundaries, see style.md section 9 rule 1)" >&2
	exit 1
fi
echo "check-layering: ok ($nfiles files in log/ cluster/ include/)"
exit 0
