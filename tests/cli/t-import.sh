#!/bin/sh
# import: every shape it reads, known by its keys, with what each entry
# means; an unknown shape or an empty list is an error, never "0 entries
# merged".  The samples follow each ESP's documented keys and columns
# (written here for these tests, with example.* addresses).
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
B=$BOUNCEDB
DB=$TMP/db
S=$TMP/samples
mkdir -p "$S"

# imports FILE: import FILE into $DB; exit 0, no GLib warning
imports() {
	expect_status 0 "import $(basename "$1")" -- $B import --db "$DB" "$1"
	expect_no_grep "CRITICAL\|WARNING" "$TMP/err" "import $(basename "$1"): no GLib message"
}

# refused FILE PATTERN: import FILE exits 65, naming it and saying PATTERN
refused() {
	expect_status 65 "import $(basename "$1") is refused" -- $B import --db "$DB" "$1"
	expect_grep "$(basename "$1")" "$TMP/err" "$(basename "$1"): the file is named"
	expect_grep "$2" "$TMP/err" "$(basename "$1"): says what was expected"
	expect_no_grep "CRITICAL\|entries merged" "$TMP/err" "$(basename "$1"): no GLib message, no count"
}

# --- Postmark: the bounces API (GET /bounces) and the suppressions dump ----------
cat >"$S/postmark-bounces.json" <<'EOF'
{
  "TotalCount": 4,
  "Bounces": [
    {
      "RecordType": "Bounce", "ID": 4101, "Type": "HardBounce", "TypeCode": 1,
      "Name": "Hard bounce", "MessageID": "0a1b2c3d-0001", "ServerID": 23,
      "MessageStream": "outbound", "Description": "The server was unable to deliver your message.",
      "Details": "smtp;550 5.1.1 The mailbox pm-hard does not exist here",
      "Email": "pm-hard@example.net", "From": "news@example.org",
      "BouncedAt": "2026-11-02T09:15:41.2083401-05:00", "DumpAvailable": true,
      "Inactive": true, "CanActivate": true, "Subject": "November news"
    },
    {
      "RecordType": "Bounce", "ID": 4102, "Type": "Transient", "TypeCode": 2,
      "Name": "Message delayed", "Details": "smtp;451 4.2.0 Try again later",
      "Email": "pm-transient@example.net", "BouncedAt": "2026-11-02T09:16:00Z",
      "Inactive": false, "CanActivate": true
    },
    {
      "RecordType": "Bounce", "ID": 4103, "Type": "SpamComplaint", "TypeCode": 512,
      "Name": "Spam complaint", "Details": "Complaint received through a feedback loop",
      "Email": "pm-spam@example.net", "BouncedAt": "2026-11-03T12:00:00Z",
      "Inactive": true, "CanActivate": false
    },
    {
      "RecordType": "Bounce", "ID": 4104, "Type": "SoftBounce", "TypeCode": 4096,
      "Name": "Soft bounce", "Details": "smtp;552 5.2.2 Mailbox over quota",
      "Email": "pm-deactivated@example.net", "BouncedAt": "2026-11-04T08:00:00Z",
      "Inactive": true, "CanActivate": true
    }
  ]
}
EOF
imports "$S/postmark-bounces.json"
expect_grep "3 entries merged .*(Postmark bounces (JSON)); 1 temporary failures skipped" "$TMP/err" "Postmark bounces: the soft one skipped"

cat >"$S/postmark-suppressions.json" <<'EOF'
{"Suppressions":[
  {"EmailAddress":"pm-sup-hard@example.net","SuppressionReason":"HardBounce","Origin":"Recipient","CreatedAt":"2026-10-01T10:00:00-04:00"},
  {"EmailAddress":"pm-sup-manual@example.net","SuppressionReason":"ManualSuppression","Origin":"Customer","CreatedAt":"2026-10-02T10:00:00-04:00"},
  {"EmailAddress":"pm-sup-spam@example.net","SuppressionReason":"SpamComplaint","Origin":"Recipient","CreatedAt":"2026-10-03T10:00:00-04:00"}
]}
EOF
imports "$S/postmark-suppressions.json"

# --- SendGrid: GET /v3/suppression/{bounces,blocks,spam_reports,invalid_emails,unsubscribes}
cat >"$S/sendgrid-bounces.json" <<'EOF'
[
  {"created": 1794900000, "email": "sg-bounce@example.net", "reason": "550 5.1.1 sg-bounce: no such user here", "status": "5.1.1"},
  {"created": 1794900100, "email": "sg-full@example.net", "reason": "552 5.2.2 Mailbox full", "status": "5.2.2"}
]
EOF
imports "$S/sendgrid-bounces.json"
cat >"$S/sendgrid-blocks.json" <<'EOF'
[{"created": 1794900200, "email": "sg-block@example.net", "reason": "451 4.7.1 Temporarily deferred, try again later", "status": "4.7.1"}]
EOF
imports "$S/sendgrid-blocks.json"
expect_grep "0 entries merged .*1 temporary failures skipped" "$TMP/err" "SendGrid blocks: temporary, skipped"
cat >"$S/sendgrid-spam.json" <<'EOF'
[{"created": 1794900300, "email": "sg-spam@example.net", "ip": "203.0.113.7"}]
EOF
imports "$S/sendgrid-spam.json"
cat >"$S/sendgrid-unsubscribes.json" <<'EOF'
[{"created": 1794900400, "email": "sg-unsub@example.net"}]
EOF
imports "$S/sendgrid-unsubscribes.json"

# --- Mailgun: GET /v3/DOMAIN/{bounces,unsubscribes,complaints} ---------------------
cat >"$S/mailgun-bounces.json" <<'EOF'
{
  "items": [
    {"address": "mg-bounce@example.net", "code": "550", "error": "5.1.1 <mg-bounce@example.net>: Recipient address rejected: User unknown", "created_at": "Thu, 12 Nov 2026 10:00:00 UTC"},
    {"address": "mg-code@example.net", "code": 550, "error": "", "created_at": "Fri, 13 Nov 2026 10:00:00 UTC"}
  ],
  "paging": {"first": "https://api.example.net/v3/example.org/bounces?page=first", "last": "https://api.example.net/v3/example.org/bounces?page=last"}
}
EOF
imports "$S/mailgun-bounces.json"
cat >"$S/mailgun-unsubscribes.json" <<'EOF'
{"items": [{"address": "mg-unsub@example.net", "tags": ["*"], "created_at": "Sat, 14 Nov 2026 10:00:00 UTC"}], "paging": {}}
EOF
imports "$S/mailgun-unsubscribes.json"
cat >"$S/mailgun-complaints.json" <<'EOF'
{"items": [{"address": "mg-complaint@example.net", "created_at": "Sun, 15 Nov 2026 10:00:00 UTC"}], "paging": {}}
EOF
imports "$S/mailgun-complaints.json"

# --- Amazon SES: event records (Firehose; SNS says notificationType) ----------------
cat >"$S/ses-events.jsonl" <<'EOF'
{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"ses-hard@example.net","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2026-11-05T00:41:02.669Z","feedbackId":"0100-aaaa","reportingMTA":"dsn; a1.mta.example.com"},"mail":{"timestamp":"2026-11-05T00:40:02.012Z","source":"news@example.org","messageId":"0100-bbbb","destination":["ses-hard@example.net"]}}
{"eventType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull","bouncedRecipients":[{"emailAddress":"ses-transient@example.net","action":"failed","status":"4.2.2","diagnosticCode":"smtp; 452 4.2.2 mailbox full"}],"timestamp":"2026-11-05T01:00:00.000Z","feedbackId":"0100-cccc"},"mail":{"timestamp":"2026-11-05T00:59:00.000Z","source":"news@example.org","messageId":"0100-dddd","destination":["ses-transient@example.net"]}}
{"eventType":"Bounce","bounce":{"bounceType":"Undetermined","bounceSubType":"Undetermined","bouncedRecipients":[{"emailAddress":"ses-undetermined@example.net"}],"timestamp":"2026-11-05T01:30:00.000Z","feedbackId":"0100-eeee"},"mail":{"timestamp":"2026-11-05T01:29:00.000Z","source":"news@example.org","messageId":"0100-ffff","destination":["ses-undetermined@example.net"]}}
{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"ses-complaint@example.net"}],"timestamp":"2026-11-06T10:00:00.000Z","feedbackId":"0100-gggg","complaintFeedbackType":"abuse"},"mail":{"timestamp":"2026-11-06T09:00:00.000Z","source":"news@example.org","messageId":"0100-hhhh","destination":["ses-complaint@example.net"]}}
{"eventType":"Delivery","delivery":{"timestamp":"2026-11-06T11:00:00.000Z","recipients":["ses-ok@example.net"],"smtpResponse":"250 2.0.0 OK"},"mail":{"timestamp":"2026-11-06T10:59:00.000Z","source":"news@example.org","messageId":"0100-iiii","destination":["ses-ok@example.net"]}}
EOF
imports "$S/ses-events.jsonl"
expect_grep "2 entries merged .*2 temporary failures skipped; 1 records that are no failure skipped" "$TMP/err" \
	"SES events: Transient and Undetermined skipped, a delivery is no failure"

# `aws sesv2 list-suppressed-destinations`, and SES's bulk suppression formats.
cat >"$S/ses-list.json" <<'EOF'
{
    "SuppressedDestinationSummaries": [
        {
            "EmailAddress": "ses-list-bounce@example.net",
            "Reason": "BOUNCE",
            "LastUpdateTime": "2026-10-20T08:00:00.459000+00:00"
        },
        {
            "EmailAddress": "ses-list-complaint@example.net",
            "Reason": "COMPLAINT",
            "LastUpdateTime": 1792400000.5
        }
    ]
}
EOF
imports "$S/ses-list.json"
printf '{"emailAddress": "ses-bulk@example.net", "reason": "BOUNCE"}\n{"emailAddress": "ses-bulk2@example.net", "reason": "COMPLAINT"}\n' >"$S/ses-bulk.jsonl"
imports "$S/ses-bulk.jsonl"
printf 'ses-csv@example.net,BOUNCE\r\nses-csv2@example.net, COMPLAINT\r\n' >"$S/ses-bulk.csv"
imports "$S/ses-bulk.csv"

# --- CSV: the delimiter from the header, a byte-order mark --------------------------
printf 'Email;Reason;Date\nsemi@example.net;hard bounce;2026-11-01\nsemi-soft@example.net;soft bounce;2026-11-01\n' >"$S/semicolon.csv"
imports "$S/semicolon.csv"
printf 'email\tstatus\treason\ntab@example.net\t5.1.1\t550 5.1.1 unknown user\n' >"$S/tab.csv"
imports "$S/tab.csv"
printf '\357\273\277email,reason\nbom@example.net,spamreport\n' >"$S/bom.csv"
imports "$S/bom.csv"
printf 'plain@example.net\nplain2@example.net\n' >"$S/plain.txt"
imports "$S/plain.txt"

# What every entry became: its reason, or nothing for those not suppressed.
$B list --json --db "$DB" >"$TMP/list.jsonl"
python3 - "$TMP/list.jsonl" <<'PY' || fail "what the imports stored"
import json, sys
got = {r["address"]: r["reason"] for r in map(json.loads, open(sys.argv[1]))}
want = {
    "pm-hard@example.net": "userunknown", "pm-spam@example.net": "feedback",
    "pm-deactivated@example.net": "mailboxfull",
    "pm-sup-hard@example.net": "userunknown", "pm-sup-manual@example.net": "manual",
    "pm-sup-spam@example.net": "feedback",
    "sg-bounce@example.net": "userunknown", "sg-full@example.net": "mailboxfull",
    "sg-spam@example.net": "feedback", "sg-unsub@example.net": "unsubscribed",
    "mg-bounce@example.net": "userunknown", "mg-code@example.net": "userunknown",
    "mg-unsub@example.net": "unsubscribed", "mg-complaint@example.net": "feedback",
    "ses-hard@example.net": "userunknown", "ses-complaint@example.net": "feedback",
    "ses-list-bounce@example.net": "userunknown", "ses-list-complaint@example.net": "feedback",
    "ses-bulk@example.net": "userunknown", "ses-bulk2@example.net": "feedback",
    "ses-csv@example.net": "userunknown", "ses-csv2@example.net": "feedback",
    "semi@example.net": "userunknown", "tab@example.net": "userunknown",
    "bom@example.net": "feedback",
    "plain@example.net": "undefined", "plain2@example.net": "undefined",
}
bad = {a: (got.get(a), r) for a, r in want.items() if got.get(a) != r}
extra = sorted(set(got) - set(want))   # the soft ones must not be there
assert not bad and not extra, (bad, extra)
PY
ok
expect_status 0 "a transient SES bounce is no suppression" -- $B check --db "$DB" ses-transient@example.net
expect_status 0 "a SendGrid block is no suppression" -- $B check --db "$DB" sg-block@example.net
expect_status 1 "the dates are read" -- $B check --db "$DB" pm-hard@example.net
expect_grep "2026-11-02T14:15:41Z" "$TMP/out" "Postmark's BouncedAt, to UTC"

# --- what is not understood is an error, never a silent zero -------------------------
printf '{"data": [{"email": "x@example.net"}]}\n' >"$S/unknown.json"
refused "$S/unknown.json" "shape bouncedb does not know: expected"
printf '{\n  "results": []\n}\n' >"$S/unknown-doc.json"
refused "$S/unknown-doc.json" "shape bouncedb does not know"
printf '[{"address": "x@example.net"}]\n' >"$S/array.json"
refused "$S/array.json" "SendGrid (an array of objects with \"email\")"
printf '{"id": 1}\n{"id": 2}\n' >"$S/lines.jsonl"
refused "$S/lines.jsonl" "JSON Lines of a shape bouncedb does not know"
printf '{"items": [], "paging": {}}\n' >"$S/mailgun-empty.json"
refused "$S/mailgun-empty.json" "no entries in this Mailgun suppressions (JSON)"
printf '[]\n' >"$S/sendgrid-empty.json"
refused "$S/sendgrid-empty.json" "no entries"
printf 'email,reason\n' >"$S/header-only.csv"
refused "$S/header-only.csv" "no entries"
printf '{"Bounces": [\n' >"$S/truncated.json"
refused "$S/truncated.json" "not JSON"
printf 'name;phone\nann;123\n' >"$S/no-address.csv"
refused "$S/no-address.csv" "names no email or address column"
printf 'who@example.net,maybe\n' >"$S/headerless.csv"
refused "$S/headerless.csv" "ADDRESS,BOUNCE|COMPLAINT"
printf '{"Bounces": [{"Email": "not an address", "Type": "HardBounce", "Inactive": true}]}\n' >"$S/bad-entry.json"
refused "$S/bad-entry.json" "entry 1: 'not an address' is not a valid address"
expect_status 64 "import --reason with an unknown reason" -- $B import --db "$DB" --reason bogus "$S/plain.txt"
expect_status 0 "import --reason for a list without reasons" -- $B import --db "$TMP/db2" --reason feedback "$S/plain.txt"
expect_status 1 "--reason applies" -- $B check --db "$TMP/db2" plain@example.net
expect_grep "feedback" "$TMP/out" "--reason feedback stored"

# An export of an empty database imports (to nothing), in both formats.
$B add --db "$TMP/empty" --reason manual x@example.net >/dev/null 2>&1
$B remove --db "$TMP/empty" x@example.net >/dev/null 2>&1
$B prune --db "$TMP/empty" --removals 0 >/dev/null 2>&1
$B export --db "$TMP/empty" -o "$S/empty.jsonl"
$B export --db "$TMP/empty" --format csv -o "$S/empty.csv"
expect_status 0 "import an empty bouncedb export (JSON Lines)" -- $B import --db "$TMP/db3" "$S/empty.jsonl"
expect_status 0 "import an empty bouncedb export (CSV)" -- $B import --db "$TMP/db3" "$S/empty.csv"

# Standard input that cannot be kept whole is an error, never part of a list
# imported (a full disk wrote only the first part, and exit 0).
expect_status 74 "import - of standard input that cannot be read" -- sh -c "$B import --db '$TMP/db5' - < '$TMP'"
expect_grep "cannot keep standard input" "$TMP/err" "import -: says why"
expect_status 74 "import - without a temporary directory" -- \
	sh -c "printf 'x@example.net\n' | TMPDIR='$TMP/no-such-dir' $B import --db '$TMP/db5' -"
[ ! -e "$TMP/db5" ] || fail "import -: a database was created although nothing could be read"
ok

# export | import is whole: a soft counter keeps its cleared day (the day a
# success emptied it) as apply keeps it.
printf '%s\n' '{"bouncedb_export":1,"created":"2026-11-20T00:00:00Z"}' \
	'{"type":"soft","address":"soft@example.net","days":[20400,20401],"last_seen":1762600000,"last_reason":"mailboxfull","cleared_day":20399}' \
	>"$S/soft.jsonl"
expect_status 0 "import a soft counter" -- $B import --db "$TMP/db6" "$S/soft.jsonl"
expect_status 0 "export it again" -- $B export --db "$TMP/db6"
expect_grep '"cleared_day":20399' "$TMP/out" "the soft counter's cleared day comes back"
expect_grep '"days":\[20400,20401\]' "$TMP/out" "and its days"

done_testing
