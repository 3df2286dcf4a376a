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

# The main.cf lines of a private Postfix instance in $PF, on 127.0.0.1.
postfix_main_cf() {
	cat <<EOF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
myhostname = mx.lists.example.org
mydomain = lists.example.org
myorigin = \$myhostname
EOF
}

# The master.cf lines of a private Postfix instance (t-contrib.sh,
# t-serve-postfix.sh) besides its smtpd ports and delivery agent: nothing
# chrooted, so that the test's paths are the same for every daemon.
postfix_services() {
	cat <<EOF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000    0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# dsn_message RECIPIENT ID [STATUS [DIAGNOSTIC [TO [HEADERS]]]]: a DSN for
# RECIPIENT with Message-ID <ID@mx.example.net>, returned to TO
# (news@example.org), with the returned message's HEADERS (lines) as a
# text/rfc822-headers part when given, on stdout.
dsn_message() {
	cat <<MSG
Return-Path: <>
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: ${5:-news@example.org}
Subject: Undelivered Mail Returned to Sender
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <$2@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; $1
Action: failed
Status: ${3:-5.1.1}
Diagnostic-Code: smtp; ${4:-550 5.1.1 <$1>: Recipient address rejected: User unknown}

MSG
	[ -z "${6:-}" ] || printf -- '--XX\nContent-Type: text/rfc822-headers\n\n%s\n\n' "$6"
	echo "--XX--"
}

done_testing() {
	echo "$tests checks, $failures failures"
	[ "$failures" -eq 0 ]
}
