# Shared helpers for the shell tests.  Each t-*.sh sources this file; CTest
# sets BOUNCEDB (the binary), SRCDIR and BUILDDIR.
set -u
: "${BOUNCEDB:?run through ctest}" "${SRCDIR:?}"
CORPUS=$SRCDIR/corpus
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bouncedb-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
tests=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

ok() {
	tests=$((tests + 1))
}

# expect_status WANT DESCRIPTION -- COMMAND...
expect_status() {
	want=$1 desc=$2
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	ok
	if [ "$got" != "$want" ]; then
		fail "$desc: exit $got, want $want"
		sed 's/^/    stderr: /' "$TMP/err" | head -5 >&2
	fi
}

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
	ok
	grep -q -- "$1" "$2" || { fail "$3: no '$1' in $(basename "$2")"; head -5 "$2" | sed 's/^/    /' >&2; }
}

expect_no_grep() {
	ok
	if grep -q -- "$1" "$2"; then fail "$3: unexpected '$1' in $(basename "$2")"; fi
}

# Wait up to 20 s for a command to succeed.
wait_for() {
	n=0
	while ! "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -gt 100 ] && return 1
		sleep 0.2
	done
	return 0
}

done_testing() {
	echo "$tests checks, $failures failures"
	[ "$failures" -eq 0 ]
}
