#!/bin/sh
# bouncedb parse / explain: output formats, errors naming the file, exit codes.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/bounce.eml" <<'MSG'
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: news@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <dsn-42@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4ABC

Final-Recipient: rfc822; Gone@Example.COM
Original-Recipient: rfc822;gone@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected:
    User unknown in local recipient table

--XX
Content-Type: text/rfc822-headers

From: News <news@example.org>
To: gone@example.com
Subject: Our November issue
Message-ID: <issue-11@example.org>
X-Campaign-ID: nov-2026

--XX--
MSG

cat >"$TMP/plain.eml" <<'MSG'
From: Alice <alice@example.com>
To: bob@example.org
Subject: Lunch?
Message-ID: <lunch@example.com>

Are you free on Tuesday?
MSG

# JSON Lines with the contract's fields.
expect_status 0 "parse --json" -- "$BOUNCEDB" parse --json -H X-Campaign-ID -H X-Absent "$TMP/bounce.eml"
cp "$TMP/out" "$TMP/json"
python3 - "$TMP/json" <<'PY' || fail "JSON record content"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
want = {"file": "bounce.eml", "recipient": "gone@example.com", "action": "failed",
        "status": "5.1.1", "reply_code": "550", "reason": "userunknown", "hard": True,
        "disposition": "suppress", "scope": "recipient", "kind": "dsn",
        "original_message_id": "issue-11@example.org", "subject": "Our November issue",
        "message_id": "dsn-42@mx.example.net", "remote_mta": "mx.example.com",
        "reporting_mta": "mx.example.net", "diagnostic_type": "SMTP",
        "original_recipient": "gone@example.com", "rule": "userunknown-511"}
for k, v in want.items():
    assert r.get(k) == v, (k, r.get(k), v)
assert r["headers"]["X-Campaign-ID"] == "nov-2026", r.get("headers")
assert r["headers"]["X-Absent"] is None, r.get("headers")
assert r["extensions"]["X-Postfix-Queue-ID"] == "4ABC"
for k in ("diagnostic", "arrival_date", "last_attempt", "will_retry_until", "feedback_type",
          "envelope_id", "original_from", "list_id"):
    assert k in r, k
# What the report does not say is null, never "".
assert r["arrival_date"] is None and r["feedback_type"] is None, r
assert [k for k, v in r.items() if v == ""] == [], [k for k, v in r.items() if v == ""]
PY
ok

# Standard input.
expect_status 0 "parse from stdin" -- sh -c "'$BOUNCEDB' parse --json - < '$TMP/bounce.eml'"
expect_grep '"file":"-"' "$TMP/out" "stdin record names '-'"

# Ordinary mail: no records, exit 0; --verbose says why.
expect_status 65 "parse empty stdin" -- sh -c "'$BOUNCEDB' parse - < /dev/null"
expect_grep "not an email message" "$TMP/err" "says empty stdin is not a message"
grep -q "CRITICAL\|WARNING" "$TMP/err" && fail "empty stdin reached GMime: $(cat "$TMP/err")"
expect_status 0 "parse ordinary mail" -- "$BOUNCEDB" parse --json --verbose "$TMP/plain.eml"
[ -s "$TMP/out" ] && fail "ordinary mail produced records"
expect_grep "not a bounce report" "$TMP/err" "verbose note"

# A missing file is named, parsing goes on, the exit status says so.
expect_status 66 "missing file" -- "$BOUNCEDB" parse --json "$TMP/nonexistent.eml" "$TMP/bounce.eml"
expect_grep "nonexistent.eml" "$TMP/err" "error names the file"
expect_grep "gone@example.com" "$TMP/out" "next file still parsed"

# A directory is an error too.
expect_status 74 "directory argument" -- "$BOUNCEDB" parse "$TMP"

# Usage errors.
expect_status 64 "no arguments" -- "$BOUNCEDB" parse
expect_status 64 "unknown option" -- "$BOUNCEDB" parse --frobnicate x
expect_status 64 "unknown command" -- "$BOUNCEDB" frobnicate
expect_status 0 "help" -- "$BOUNCEDB" parse --help
expect_grep "Examples" "$TMP/out" "help has examples"
expect_status 0 "top-level help" -- "$BOUNCEDB" --help
expect_grep "explain" "$TMP/out" "help lists commands"

# Text output escapes control characters from the message.
printf 'From: MAILER-DAEMON@mx.example.net\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n--B\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 \033[31mred\033[0m\n\n--B--\n' >"$TMP/esc.eml"
expect_status 0 "explain with escapes" -- "$BOUNCEDB" explain "$TMP/esc.eml"
if grep -q "$(printf '\033')" "$TMP/out"; then fail "raw ESC reached the terminal output"; fi
ok
expect_grep '\\x1B\[31mred' "$TMP/out" "ESC shown escaped"
expect_grep "decided by" "$TMP/out" "explain names the rule"
expect_grep "matched  *status=5.1.1" "$TMP/out" "explain shows what made the rule hold"

# A broken user rules file is a configuration error naming file and line.
printf 'bad-rule nosuchreason status=5.1.1\n' >"$TMP/user.rules"
printf '[classify]\nrules_file=%s\n' "$TMP/user.rules" >"$TMP/bouncedb.conf"
expect_status 78 "bad user rules" -- "$BOUNCEDB" --config "$TMP/bouncedb.conf" parse "$TMP/bounce.eml"
expect_grep "user.rules:1: unknown reason" "$TMP/err" "rules error names file:line"
expect_status 66 "missing config file" -- "$BOUNCEDB" --config "$TMP/nope.conf" parse "$TMP/bounce.eml"

# An mbox: every message is read, each row numbered ("msg"); a "From "
# line of a message's text that is no separator (no sender and time)
# does not split it; a message that fails to parse is named by its number.
{
	echo "From MAILER-DAEMON Mon Nov  2 10:00:00 2026"
	cat "$TMP/bounce.eml"
	echo
	echo "From MAILER-DAEMON Mon Nov  2 10:05:00 2026"
	sed 's/gone@example.com/left@example.com/g; s/Gone@Example.COM/left@example.com/' "$TMP/bounce.eml"
	printf '\nFrom the desk of the editor: a line of text, no separator.\n'
	echo
	echo "From alice@example.com Mon Nov  2 10:07:00 2026"
	cat "$TMP/plain.eml"
} >"$TMP/three.mbox"
expect_status 0 "parse an mbox" -- "$BOUNCEDB" parse --json "$TMP/three.mbox"
python3 - "$TMP/out" <<'PY' || fail "mbox rows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["recipient"], r["msg"], r["file"]) for r in rows] == [
    ("gone@example.com", 1, "three.mbox"), ("left@example.com", 2, "three.mbox")], rows
PY
expect_status 0 "parse an mbox, table" -- "$BOUNCEDB" parse "$TMP/three.mbox"
expect_grep "three.mbox:2 " "$TMP/out" "table rows name the message of an mbox"

# A notice no family knows: the general reader finds the recipient, and
# explain says what tied it (--no-layouts leaves the families out).
cat >"$TMP/notice.eml" <<'MSG'
From: Mail Administrator <postmaster@relay.example.net>
To: news@example.org
Subject: Returned mail
Date: Mon, 2 Nov 2026 10:00:00 +0000
Message-ID: <ret-7@relay.example.net>

Sadly we could not hand your message over.

Recipient address:  quinn@example.com
Reason given by the receiving host:  mailbox is over its storage quota
MSG
expect_status 0 "explain a notice" -- "$BOUNCEDB" explain --no-layouts "$TMP/notice.eml"
expect_grep "quinn@example.com" "$TMP/out" "general reader finds the recipient"
expect_grep "read by *general" "$TMP/out" "explain names the general reader"
expect_grep "tied by *mailbox full: Reason given by the receiving host" "$TMP/out" "explain shows what tied the recipient"
expect_status 0 "explain --json tied_by" -- "$BOUNCEDB" explain --json "$TMP/notice.eml"
expect_grep '"tied_by":"mailbox full: ' "$TMP/out" "JSON explain says what tied the recipient"

done_testing
