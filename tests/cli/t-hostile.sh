#!/bin/sh
# Hostile text in, safe output out; safe files on disk.
#
# Diagnostics, subjects and addresses come from whoever sent the bounce.
# Messages carrying NUL, ESC, CR, quotes, commas and invalid UTF-8 in the
# diagnostic, the subject and the address are parsed and swept, and:
#   - text output (parse, explain, show, list, check, stats, and the
#     messages on stderr) carries no raw control character, C1 control,
#     bidirectional override or invalid UTF-8;
#   - parse --json, list --json and export print valid JSON Lines;
#   - list --csv and export --format csv parse as CSV with the right
#     number of columns, and escape control characters as text output does;
#   - the database and quarantine Maildirs are 0700 and their files 0600,
#     whatever the umask; no path comes from message content; symlinks in
#     a Maildir are not followed out of it.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
DB=$TMP/db
MD=$TMP/bounces
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"

# --- the messages -----------------------------------------------------------
python3 - "$MD/new" "$TMP" <<'PY'
import base64, os, sys
new, tmp = sys.argv[1], sys.argv[2]
def dsn(mid, rcpt, diag, subject=b"Undelivered Mail Returned to Sender", remote=b"mx.example.net",
        orig_subject=b"our news"):
    return (b"Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
            b"To: bounces@example.org\nSubject: " + subject + b"\n"
            b"Date: Mon, 16 Nov 2026 10:00:00 +0000\nMessage-ID: <" + mid + b"@mx.example.net>\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"XX\"\n\n"
            b"--XX\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
            b"--XX\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
            b"Final-Recipient: rfc822; " + rcpt + b"\nAction: failed\nStatus: 5.1.1\n"
            b"Remote-MTA: dns; " + remote + b"\n"
            b"Diagnostic-Code: smtp; " + diag + b"\n\n"
            b"--XX\nContent-Type: text/rfc822-headers\n\nFrom: news@example.org\nTo: " + rcpt + b"\n"
            b"Subject: " + orig_subject + b"\nMessage-ID: <n1@example.org>\n\n--XX--\n")
ESC = b"\x1b[31mRED\x1b[0m \x1b]0;title\x07 \x9b2J"
msgs = {
    # NUL, ESC, bare CR, quotes, commas, bad UTF-8 in the diagnostic
    "m1": dsn(b"h1", b"alice@example.net",
              b"550 5.1.1 \"quoted\", 'single', comma,separated\rCR \x00NUL-cut", subject=b"Undelivered " + ESC),
    "m2": dsn(b"h2", b"bob@example.net",
              b"550 5.1.1 user unknown " + ESC + b" \xff\xfe\xc3\x28 bad utf-8 \xe2\x80\xae override",
              remote=b"\x1b[2Jmx.example.net", orig_subject=b"=?utf-8?q?=1B[31m=00=07?="),
    # quotes and a comma in the address itself (a quoted local part)
    "m3": dsn(b"h3", b"\"carol,o'hara\"@example.net", b"550 5.1.1 \"no\",such,\"user\""),
    # an address with an escape sequence or bad UTF-8: no recipient, quarantined
    "m4": dsn(b"h4", b"dave\x1b[8m@example.net", b"550 5.1.1 user unknown"),
    "m5": dsn(b"h5", b"eve\xff@example.net", b"550 5.1.1 user unknown"),
    # path-looking content: nothing may be created from it
    "m6": dsn(b"../../../pwned", b"frank@example.net", b"550 5.1.1 /../../pwned",
              subject=b"../../pwned/$(touch pwned)"),
}
for name, data in msgs.items():
    with open(os.path.join(new, name), "wb") as f:
        f.write(data)
# An ESP export with Latin-1 bytes, quotes and an escape sequence.
with open(os.path.join(tmp, "esp.csv"), "wb") as f:
    f.write(b"email,reason,status\n"
            b"grace@example.net,\"bounced \"\"hard\"\", \xe9t\xe9 \x1b[31m\",5.1.1\n"
            b"heidi@example.net,bounced,5.1.1\x1b[2J\n")
PY
mkdir -p "$TMP/orig" && cp "$MD"/new/* "$TMP/orig/"

# Every byte a terminal could act on: C0 (but TAB and LF), DEL, C1,
# bidirectional controls, line/paragraph separators, invalid UTF-8.
no_raw_controls() {
	ok
	python3 - "$1" <<'PY' || fail "$2: raw control characters or invalid UTF-8 in $(basename "$1")"
import sys, unicodedata
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as e:
    print("    invalid UTF-8 at byte %d" % e.start, file=sys.stderr)
    sys.exit(1)
for i, c in enumerate(text):
    o = ord(c)
    if (o < 0x20 and c not in "\t\n") or 0x7f <= o < 0xa0 or 0x202a <= o <= 0x202e \
            or 0x2066 <= o <= 0x2069 or o in (0x2028, 0x2029):
        print("    U+%04X at %d: %r" % (o, i, text[max(0, i - 20):i + 20]), file=sys.stderr)
        sys.exit(1)
PY
}

# Valid JSON Lines, each an object.
json_lines() {
	ok
	python3 - "$1" <<'PY' || fail "$2: not valid JSON Lines"
import json, sys
data = open(sys.argv[1], "rb").read().decode("utf-8")   # strict
for n, line in enumerate(data.splitlines(), 1):
    if not line.strip():
        continue
    if not isinstance(json.loads(line), dict):
        sys.exit("line %d is not an object" % n)
PY
}

# CSV_COLUMNS FILE WANT DESC [SKIP]: every record has WANT columns (after
# SKIP leading lines), and the file is valid UTF-8.
csv_columns() {
	ok
	python3 - "$1" "$2" "${4:-0}" <<'PY' || fail "$3: not CSV with $2 columns"
import csv, io, sys
data = open(sys.argv[1], "rb").read().decode("utf-8")   # strict
want, skip = int(sys.argv[2]), int(sys.argv[3])
lines = data.split("\n", skip)
rows = list(csv.reader(io.StringIO(lines[-1] if skip else data, newline="")))
if len(rows) < 2:
    sys.exit("only %d rows" % len(rows))
for n, row in enumerate(rows, 1):
    if len(row) != want:
        sys.exit("row %d has %d columns: %r" % (n, len(row), row))
PY
}

# --- parse ------------------------------------------------------------------
"$BOUNCEDB" parse "$MD"/new/* >"$TMP/parse.out" 2>"$TMP/parse.err"
no_raw_controls "$TMP/parse.out" "parse (text)"
no_raw_controls "$TMP/parse.err" "parse (stderr)"
expect_grep 'alice@example.net' "$TMP/parse.out" "parse reads the hostile diagnostic's record"
expect_grep '"carol,o.hara"@example.net' "$TMP/parse.out" "a quoted local part is kept"
expect_no_grep 'dave' "$TMP/parse.out" "an address with ESC is no recipient"

"$BOUNCEDB" parse --json "$MD"/new/* >"$TMP/parse.json" 2>/dev/null
json_lines "$TMP/parse.json" "parse --json"
ok
python3 - "$TMP/parse.json" <<'PY' || fail "parse --json keeps the hostile text, escaped"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
bob = [r for r in recs if r["recipient"] == "bob@example.net"][0]
assert "\x1b[31mRED" in bob["diagnostic"], bob["diagnostic"]
assert "\ufffd" in bob["diagnostic"]                   # bad UTF-8 replaced
assert "\x1b" in bob["remote_mta"]
alice = [r for r in recs if r["recipient"] == "alice@example.net"][0]
assert '"quoted", \'single\', comma,separated CR' in alice["diagnostic"], alice["diagnostic"]
assert "\x1b" in alice["report_subject"]
PY

# A file name is shown escaped too.
esc_name=$(printf 'evil\033[2Jname.eml')
cp "$MD/new/m1" "$TMP/$esc_name"
"$BOUNCEDB" parse "$TMP/$esc_name" "$TMP/no-such-$esc_name" >"$TMP/name.out" 2>"$TMP/name.err"
no_raw_controls "$TMP/name.out" "parse of a file named with ESC (stdout)"
no_raw_controls "$TMP/name.err" "parse of a file named with ESC (stderr)"

# --- explain ----------------------------------------------------------------
"$BOUNCEDB" explain "$MD"/new/* >"$TMP/explain.out" 2>"$TMP/explain.err"
no_raw_controls "$TMP/explain.out" "explain"
no_raw_controls "$TMP/explain.err" "explain (stderr)"
expect_grep '\\x1B\[31mRED' "$TMP/explain.out" "explain shows ESC as \\x1B"

# --- sweep, then the query commands -----------------------------------------
umask 022
expect_status 0 "sweep the hostile Maildir" -- "$BOUNCEDB" sweep --db "$DB" "$MD"
no_raw_controls "$TMP/err" "sweep (stderr)"
expect_grep "quarantined" "$TMP/err" "messages without a readable recipient are quarantined"
expect_status 0 "import an ESP export with Latin-1 and ESC" -- "$BOUNCEDB" import --db "$DB" "$TMP/esp.csv"

"$BOUNCEDB" show --db "$DB" bob@example.net >"$TMP/show.out" 2>&1
no_raw_controls "$TMP/show.out" "show"
expect_grep 'diagnostic' "$TMP/show.out" "show prints the evidence"
"$BOUNCEDB" show --db "$DB" grace@example.net >"$TMP/show2.out" 2>&1
no_raw_controls "$TMP/show2.out" "show (imported entry)"
"$BOUNCEDB" show --db "$DB" --json bob@example.net >"$TMP/show.json" 2>/dev/null
json_lines "$TMP/show.json" "show --json"

"$BOUNCEDB" list --db "$DB" >"$TMP/list.out" 2>&1
no_raw_controls "$TMP/list.out" "list (text)"
"$BOUNCEDB" list --db "$DB" --json >"$TMP/list.json" 2>/dev/null
json_lines "$TMP/list.json" "list --json"
"$BOUNCEDB" list --db "$DB" --csv >"$TMP/list.csv" 2>/dev/null
csv_columns "$TMP/list.csv" 20 "list --csv"
expect_grep '"""carol,o' "$TMP/list.csv" "list --csv quotes quotes and commas"
# ESC, OSC and BEL from a diagnostic are escaped in CSV as in text output:
# a terminal or a spreadsheet showing the file must not act on them.
no_raw_controls "$TMP/list.csv" "list --csv"
expect_grep '\\x1B\[31mRED' "$TMP/list.csv" "list --csv shows ESC as \\x1B"

"$BOUNCEDB" export --db "$DB" --format csv >"$TMP/export.csv" 2>/dev/null
csv_columns "$TMP/export.csv" 20 "export --format csv"
no_raw_controls "$TMP/export.csv" "export --format csv"
expect_grep '\\x1B\]0;title\\x07' "$TMP/export.csv" "export --format csv shows OSC and BEL escaped"

# A note or a diagnostic a spreadsheet would run as a formula starts with a
# quote in CSV, and import takes it off again.
formula='=HYPERLINK("http://evil.example/","click")'
expect_status 0 "add with a note like a formula" -- "$BOUNCEDB" add --db "$DB" --reason manual --note "$formula" formula@example.net
expect_status 0 "export --format csv" -- "$BOUNCEDB" export --db "$DB" --format csv
python3 - "$TMP/out" <<'PY' || fail "export --format csv: a cell starts like a formula"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
for row in rows:
    for cell in row:
        assert not cell or cell[0] not in "=+-@", (cell, row)
assert any(c.startswith("'=HYPERLINK") for r in rows for c in r)
PY
ok
cp "$TMP/out" "$TMP/formula.csv"
expect_status 0 "import the CSV export into another database" -- "$BOUNCEDB" import --db "$TMP/formula-db" "$TMP/formula.csv"
expect_status 0 "show the imported entry" -- "$BOUNCEDB" show --db "$TMP/formula-db" --json formula@example.net
expect_grep '"note":"=HYPERLINK' "$TMP/out" "import takes the guard's quote off"
expect_status 64 "--header-comment with JSON Lines" -- "$BOUNCEDB" export --db "$DB" --header-comment
"$BOUNCEDB" export --db "$DB" >"$TMP/export.jsonl" 2>/dev/null
json_lines "$TMP/export.jsonl" "export (JSON Lines)"

"$BOUNCEDB" check --db "$DB" bob@example.net grace@example.net '"carol,o'"'"'hara"@example.net' \
	"$(printf 'x\033[31m@example.net')" >"$TMP/check.out" 2>&1
no_raw_controls "$TMP/check.out" "check"
"$BOUNCEDB" stats --db "$DB" >"$TMP/stats.out" 2>&1
no_raw_controls "$TMP/stats.out" "stats"

# ingest of a hostile message says nothing raw either.
for m in m2 m4 m5; do
	expect_status 0 "ingest hostile message $m" -- sh -c "'$BOUNCEDB' ingest --db '$DB' < '$TMP/orig/$m'"
	no_raw_controls "$TMP/err" "ingest $m (stderr)"
done

# --- every limit's hit: quarantined by sweep, kept by ingest, with its name --
LIM=$TMP/limits
python3 - "$LIM" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d)
def dsn(blocks, top=b"", ds_extra=b"", part_headers=b""):
    return (b"Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nTo: bounces@example.org\n"
            b"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <lim%d@mx.example.net>\n" % len(blocks)
            + top + b"MIME-Version: 1.0\n"
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"XX\"\n\n"
            b"--XX\nContent-Type: text/plain\n\nFailed.\n\n--XX\nContent-Type: message/delivery-status\n"
            + part_headers + b"\nReporting-MTA: dns; mx.example.net\n" + ds_extra + b"\n"
            + b"\n".join(b"Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n" % r for r in blocks)
            + b"\n--XX--\n")
one = [b"bob@example.net"]
deep = b"".join(b"Content-Type: multipart/mixed; boundary=\"d%d\"\n\n--d%d\n" % (i, i) for i in range(5))
cases = {
    "max_message_size": dsn(one, ds_extra=b"X-Pad: " + b"p" * 2000 + b"\n"),
    "max_recipients": dsn([b"a@example.net", b"b@example.net", b"c@example.net"]),
    "max_depth": (b"From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
                  + deep + b"Content-Type: text/plain\n\nhi\n"),
    "max_header_size": dsn(one, top=b"".join(b"X-H%d: %s\n" % (i, b"h" * 60) for i in range(40))),
    "max_part_size": dsn(one, ds_extra=b"".join(b"X-Pad-%d: %s\n" % (i, b"p" * 60) for i in range(30))),
    "max_line_length": dsn(one, top=b"X-Long: " + b"l" * 200 + b"\n"),
    "max_headers": dsn(one, top=b"X-A: 1\n" * 30),
    "max_parts": dsn(one, ds_extra=b"", part_headers=b"") .replace(b"Failed.\n", b"Failed.\n--\n--\n--\n--\n"),
    "max_address_bytes": dsn(one, top=b"Cc: " + b", ".join(b"u%d@example.net" % i for i in range(20)) + b"\n"),
}
for name, data in cases.items():
    open(os.path.join(d, name + ".eml"), "wb").write(data)
    open(os.path.join(d, name + ".conf"), "w").write(
        "[limits]\n%s = %s\n" % (name, {"max_message_size": "1k", "max_recipients": "2", "max_depth": "3",
                                         "max_header_size": "1k", "max_part_size": "1k",
                                         "max_line_length": "100", "max_headers": "20",
                                         "max_parts": "5", "max_address_bytes": "200"}[name]))
PY
for limit in max_message_size max_recipients max_depth max_header_size max_part_size \
             max_line_length max_headers max_parts max_address_bytes; do
	md=$LIM/md-$limit
	mkdir -p "$md/new" "$md/cur" "$md/tmp"
	cp "$LIM/$limit.eml" "$md/new/msg"
	# Within the defaults the message is a plain bounce.
	expect_status 0 "$limit: parsed with the defaults" -- "$BOUNCEDB" parse "$LIM/$limit.eml"
	expect_status 65 "$limit: refused past the limit" -- "$BOUNCEDB" --config "$LIM/$limit.conf" parse "$LIM/$limit.eml"
	expect_grep "$limit" "$TMP/err" "$limit: parse names the limit"
	expect_status 0 "$limit: sweep" -- "$BOUNCEDB" --config "$LIM/$limit.conf" sweep --db "$LIM/db-$limit" "$md"
	expect_grep "quarantined in .*$limit" "$TMP/err" "$limit: sweep quarantines it, saying why"
	ok
	[ -f "$md/.Quarantine/new/msg" ] || fail "$limit: not in the quarantine Maildir"
	expect_status 0 "$limit: ingest" -- sh -c "'$BOUNCEDB' --config '$LIM/$limit.conf' ingest \
		--db '$LIM/idb-$limit' --keep '$LIM/keep-$limit' < '$LIM/$limit.eml'"
	expect_grep "kept in .*$limit" "$TMP/err" "$limit: ingest keeps it, saying why"
	ok
	[ "$(ls "$LIM/keep-$limit/new" 2>/dev/null | wc -l)" = 1 ] || fail "$limit: ingest kept no copy"
done

# --- file safety -------------------------------------------------------------
mode() { stat -c %a "$1"; }
expect_mode() {
	ok
	got=$(mode "$1")
	[ "$got" = "$2" ] || fail "$3: mode $got, want $2 ($1)"
}
# Created under umask 022 above: still private.
expect_mode "$DB" 700 "database directory"
for f in "$DB"/*; do
	[ -f "$f" ] && expect_mode "$f" 600 "database file $(basename "$f")"
done
expect_mode "$MD/.Quarantine" 700 "sweep's quarantine Maildir"
for d in new cur tmp; do expect_mode "$MD/.Quarantine/$d" 700 "quarantine $d/"; done
expect_mode "$DB/quarantine" 700 "ingest's quarantine Maildir"
for f in "$DB"/quarantine/new/*; do expect_mode "$f" 600 "a message kept by ingest"; done
# export -o writes what the database holds: with the database's mode
# whatever the umask (it was 0666 under umask 000), through a temporary
# name nobody can guess, created exclusively (a link planted at the old
# FILE.tmp.PID was followed).
mkdir -p "$TMP/exp"
chmod 700 "$TMP/exp"
next=$(sh -c 'echo $$')
for pid in $(seq "$next" $((next + 3000))); do ln -s "$TMP/victim" "$TMP/exp/out.jsonl.tmp.$pid"; done
(umask 000 && "$BOUNCEDB" export --db "$DB" -o "$TMP/exp/out.jsonl")
ok
[ -e "$TMP/victim" ] && fail "export -o followed a link planted at its temporary name"
expect_mode "$TMP/exp/out.jsonl" 600 "export -o under umask 000 (the database's mode)"
[ "$(ls "$TMP/exp" | grep -cv '^out\.jsonl\.tmp\.[0-9]*$')" -eq 1 ] || fail "export -o left a temporary file: $(ls "$TMP/exp" | grep -v '\.tmp\.')"
ok
chmod 640 "$DB/data.mdb"
(umask 077 && "$BOUNCEDB" export --db "$DB" --format csv -o "$TMP/exp/out.csv")
expect_mode "$TMP/exp/out.csv" 640 "export -o takes the database's mode, not the umask"
chmod 600 "$DB/data.mdb"
# A stricter umask is respected.
(umask 077 && "$BOUNCEDB" ingest --db "$TMP/db077" --keep "$TMP/keep077" < "$TMP/orig/m4" 2>/dev/null) || true
for d in new cur tmp; do
	[ -d "$TMP/keep077/$d" ] && expect_mode "$TMP/keep077/$d" 700 "keep Maildir under umask 077"
done
(umask 277 && "$BOUNCEDB" ingest --db "$TMP/db277" --keep "$TMP/keep277" < "$TMP/orig/m4" 2>/dev/null) || true
expect_mode "$TMP/keep277" 500 "keep Maildir under umask 277 (the umask wins)"
chmod -R u+w "$TMP/keep277" 2>/dev/null

# No path from message content: m6 names "../../../pwned" in its
# Message-ID, subject and diagnostic; nothing may be named after it.
ok
if find "$TMP" "$(dirname "$TMP")" -maxdepth 4 -name 'pwned*' 2>/dev/null | grep -q . ||
   [ -e pwned ]; then
	fail "a file was created from message content"
fi

# Symlinks in a Maildir are not followed out of it.
outside=$TMP/outside
mkdir -p "$outside" "$TMP/sl/new" "$TMP/sl/cur" "$TMP/sl/tmp"
python3 - "$MD/cur" "$outside/victim.eml" <<'PY'
import os, sys
src = [f for f in os.listdir(sys.argv[1])][0]
data = open(os.path.join(sys.argv[1], src), "rb").read()
open(sys.argv[2], "wb").write(data.replace(b"alice@example.net", b"zed@example.net")
                              .replace(b"bob@example.net", b"zed@example.net")
                              .replace(b"<h", b"<sym"))
PY
cp "$outside/victim.eml" "$outside/copy.eml"
ln -s "$outside/victim.eml" "$TMP/sl/new/link1"
ln -s "$outside" "$TMP/sl/new/linkdir"
ln -s "$outside/victim.eml" "$TMP/sl/cur/link2:2,"
expect_status 0 "sweep a Maildir of symlinks" -- "$BOUNCEDB" sweep --db "$DB" "$TMP/sl"
expect_status 0 "the symlinked message was not read" -- "$BOUNCEDB" check --db "$DB" zed@example.net
ok
[ -L "$TMP/sl/new/link1" ] && [ -L "$TMP/sl/cur/link2:2," ] || fail "a symlink was moved"
ok
cmp -s "$outside/victim.eml" "$outside/copy.eml" || fail "the symlink's target was changed"
ok
[ -z "$(ls "$TMP/sl/.Quarantine/new" 2>/dev/null)" ] || fail "a symlink was quarantined (moved)"

done_testing
