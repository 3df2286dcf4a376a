#!/bin/sh
# bouncedb serve with a real Postfix (a private instance on 127.0.0.1, as in
# t-contrib.sh), configured from contrib/postfix/serve-main.cf and
# serve-policy.cf: check_recipient_access through serve's socketmap refuses
# a suppressed recipient with the configured text and delivers to a clean
# one; the same through the policy service; mail injected with sendmail(1)
# is returned through the transport map; suppressions added while Postfix
# runs count at once; and the notice Postfix writes about such a refusal
# is never counted as a new bounce.
. "$(dirname "$0")/lib.sh"

C=$SRCDIR/contrib
PF=$TMP/postfix
S=$TMP/run
SERVE=

have() {
	command -v "$1" >/dev/null 2>&1
}

cleanup() {
	if [ -f "$PF/spool/pid/master.pid" ]; then
		postfix -c "$PF/etc" stop >/dev/null 2>&1
	fi
	if [ -n "$SERVE" ]; then
		kill "$SERVE" 2>/dev/null
		wait "$SERVE" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! have postfix || ! have postconf; then
	echo "SKIP: postfix not installed"
	done_testing
	exit
fi
if [ "$(id -u)" -ne 0 ] || ! id postfix >/dev/null 2>&1 || ! getent group nogroup >/dev/null; then
	echo "SKIP: the Postfix test needs root and the user postfix"
	done_testing
	exit
fi

chmod 755 "$TMP"
mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/vmail" "$S"
chown postfix "$PF/data"
chown nobody:nogroup "$PF/vmail"
chmod 755 "$S"
DB=$TMP/db
B=$BOUNCEDB
$B add --db "$DB" --reason userunknown gone@example.net >/dev/null
cat >"$TMP/serve.conf" <<EOF
[serve]
socketmap = unix:$S/socketmap
policy = unix:$S/policy
http = none
# proxymap(8) and smtpd(8) run as postfix
socket_group = postfix
socket_mode = 0660
EOF
$B --config "$TMP/serve.conf" serve --db "$DB" 2>"$TMP/serve.log" &
SERVE=$!
ok
wait_for test -S "$S/policy" || fail "serve did not start: $(cat "$TMP/serve.log")"

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(freeport)   # smtpd with the access map (main.cf)
PPORT=$(freeport)  # smtpd with the policy service
postfix_main_cf >"$PF/etc/main.cf"
cat >>"$PF/etc/main.cf" <<EOF
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtputf8_enable = no
biff = no
alias_maps =
# Every recipient of these domains lands in one Maildir.
virtual_mailbox_domains = example.net lists.example.org
virtual_mailbox_base = $PF/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
EOF
# The contrib lines, with this test's socket paths; the pipe transport's
# hash map is not part of this test.
grep -v '^#' "$C/postfix/serve-main.cf" | grep . |
	sed -e "s|/run/bouncedb|$S|g" -e "s|, hash:/etc/postfix/transport||" >>"$PF/etc/main.cf"
policy_rr=$(sed -n 's/^smtpd_recipient_restrictions = //p' "$C/postfix/serve-policy.cf" |
	sed -e "s|/run/bouncedb|$S|g")
cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$PORT inet n  -       n       -       -       smtpd
127.0.0.1:$PPORT inet n -       n       -       -       smtpd
  -o { smtpd_recipient_restrictions = $policy_rr }
virtual   unix  -       n       n       -       -       virtual
EOF
postfix_services >>"$PF/etc/master.cf"
postconf -c "$PF/etc" -n >"$TMP/out" 2>"$TMP/err"
ok
[ -s "$TMP/err" ] && fail "postconf -n: $(head -3 "$TMP/err")"
expect_grep "check_recipient_access proxy:socketmap:unix:$S/socketmap:access" "$TMP/out" "main.cf: the access map"
expect_status 0 "postfix start" -- postfix -c "$PF/etc" start
wait_for test -S "$PF/spool/public/pickup" -o -p "$PF/spool/public/pickup"

# rcpt PORT RCPT: "sent", or the SMTP reply to RCPT ("550 5.1.1 ...").
rcpt() {
	python3 - "$1" "$2" <<'PY'
import smtplib, sys, time
port, rcpt = int(sys.argv[1]), sys.argv[2]
for attempt in range(50):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("cannot connect to 127.0.0.1:%d" % port)
msg = "From: news@lists.example.org\r\nTo: %s\r\nSubject: news for %s\r\n\r\nhello\r\n" % (rcpt, rcpt)
try:
    with s:
        s.sendmail("news@lists.example.org", [rcpt], msg)
    print("sent")
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients[rcpt]
    print(code, text.decode())
PY
}
# delivered RCPT: a message to RCPT is in the Maildir.
delivered() {
	grep -lq "^To: $1" "$PF/vmail/box/new/"* 2>/dev/null
}
refused_by_serve() { # PORT RCPT REASON DESCRIPTION
	got=$(rcpt "$1" "$2")
	ok
	case $got in
	"550 5.1.1 <$2>: Recipient address rejected: <$2>: suppressed ($3 since "*") [bouncedb]") ;;
	*) fail "$4: '$got'" ;;
	esac
}

# 1. The access map (check_recipient_access through proxymap).
refused_by_serve "$PORT" gone@example.net userunknown "access map: a suppressed recipient"
ok
[ "$(rcpt "$PORT" clean@example.net)" = sent ] || fail "access map: a clean recipient was refused"
ok
wait_for delivered clean@example.net || fail "access map: the clean recipient's mail was not delivered"

# 2. The policy service.
refused_by_serve "$PPORT" gone@example.net userunknown "policy: a suppressed recipient"
ok
[ "$(rcpt "$PPORT" clean2@example.net)" = sent ] || fail "policy: a clean recipient was refused"
ok
wait_for delivered clean2@example.net || fail "policy: the clean recipient's mail was not delivered"

# 3. A suppression added while Postfix runs counts at once, without a
# reload, on both; and a removal too.
ok
[ "$(rcpt "$PORT" late@example.net)" = sent ] || fail "late@ refused before it was suppressed"
expect_status 0 "add while Postfix runs" -- $B add --db "$DB" --reason hasmoved late@example.net
refused_by_serve "$PORT" late@example.net hasmoved "access map: a suppression added while running"
refused_by_serve "$PPORT" late@example.net hasmoved "policy: a suppression added while running"
expect_status 0 "remove while Postfix runs" -- $B remove --db "$DB" late@example.net
ok
[ "$(rcpt "$PORT" late@example.net)" = sent ] || fail "access map: a removal while running is not seen"

# 4. sendmail(1) through the transport map: the suppressed recipient's
# mail is returned to its sender (here a Maildir address too), the clean
# one is delivered.
inject() { # SENDER RCPT
	printf 'From: %s\nTo: %s\nSubject: cron for %s\n\nhello\n' "$1" "$2" "$2" |
		sendmail -C "$PF/etc" -f "$1" "$2"
}
expect_status 0 "sendmail to a suppressed recipient" -- inject cron@lists.example.org gone@example.net
expect_status 0 "sendmail to a clean recipient" -- inject cron@lists.example.org clean3@example.net
ok
wait_for delivered clean3@example.net || fail "transport map: the clean recipient's mail was not delivered"
ok
wait_for grep -q "to=<gone@example.net>.*status=bounced (<gone@example.net>: suppressed (userunknown since .*) \[bouncedb\])" \
	"$PF/maillog" || fail "transport map: the suppressed recipient's mail was not returned with serve's text"
ok
wait_for delivered cron@lists.example.org || fail "transport map: no notice to the sender"
notice=$(grep -l "^To: cron@lists.example.org" "$PF/vmail/box/new/"* | head -1)
ok
[ -n "$notice" ] || fail "no notice in the Maildir"
expect_grep "suppressed (userunknown since" "$notice" "the notice quotes serve's text"

# 5. That notice is Postfix's word about our own refusal: bouncedb reads
# it, keeps the reason, and holds it against nobody (no new bounce).
expect_status 0 "parse the notice" -- $B parse --json "$notice"
expect_grep '"recipient":"gone@example.net"' "$TMP/out" "the notice names the recipient"
expect_grep '"disposition":"ignore"' "$TMP/out" "the notice is ignored"
$B show --json --db "$DB" gone@example.net >"$TMP/before"
expect_status 0 "ingest the notice" -- sh -c '"$1" ingest --db "$2" < "$3"' sh "$B" "$DB" "$notice"
$B show --json --db "$DB" gone@example.net >"$TMP/after"
count() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["suppression"]["count"], sum(e["disposition"] != "ignore" for e in d["events"]))' "$1"
}
ok
[ "$(count "$TMP/before")" = "$(count "$TMP/after")" ] ||
	fail "the notice was counted as a bounce: $(count "$TMP/before") -> $(count "$TMP/after")"

expect_no_grep "warning: .*socketmap" "$PF/maillog" "Postfix had no trouble with the socketmap"
expect_no_grep "warning: .*policy" "$PF/maillog" "Postfix had no trouble with the policy service"
if [ "$failures" -gt 0 ]; then
	{ grep -E 'warning|error|fatal' "$PF/maillog" | head -5; tail -10 "$PF/maillog"; } | sed 's/^/    maillog: /' >&2
	sed 's/^/    serve: /' "$TMP/serve.log" >&2
fi
postfix -c "$PF/etc" stop >/dev/null 2>&1
done_testing
