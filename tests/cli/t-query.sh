#!/bin/sh
# The query commands on a database built by sweeping corpus/: check, show,
# filter, list, stats, export/import, add/remove, prune; malformed input,
# unknown addresses, an empty database and a read-only database directory.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000   # 2026-11-18
DB=$TMP/db
MD=$TMP/md
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
n=0
for f in "$CORPUS"/*/*.eml; do n=$((n + 1)); cp "$f" "$MD/new/m$n"; done
"$BOUNCEDB" sweep --db "$DB" "$MD" >/dev/null 2>&1 || fail "sweeping the corpus"

# Addresses the corpus suppresses (hard bounces) and one it knows only as
# a sender-side problem.
HARD=$(grep -h ' yes suppress$' "$CORPUS"/dsn/*.expected | head -1 | cut -d' ' -f1)
SENDER=$(grep -h ' sender$' "$CORPUS"/dsn/*.expected | head -1 | cut -d' ' -f1)
[ -n "$HARD" ] && [ -n "$SENDER" ] || fail "corpus lacks a hard or a sender-side case"

# --- the front program --------------------------------------------------------
# The query commands run in a program that loads neither GMime nor
# json-glib (main.c); the others run in bouncedb-full, found beside it.
if command -v readelf >/dev/null; then
	ok
	readelf -d "$BOUNCEDB" | grep -q 'NEEDED.*\(gmime\|json-glib\|gio\)' \
		&& fail "bouncedb links the parser's libraries: $(readelf -d "$BOUNCEDB" | grep NEEDED | tr -s ' ' | cut -d' ' -f6 | tr '\n' ' ')"
	# libidn2 is opened on the first non-ASCII domain (address.c).
	ok
	readelf -d "$BOUNCEDB" | grep -q 'NEEDED.*libidn2' && fail "bouncedb loads libidn2 at start"
	# GLib linked in statically: no library may bring a second, shared copy.
	if ! readelf -d "$BOUNCEDB" | grep -q 'NEEDED.*libglib-2.0'; then
		ok
		ldd "$BOUNCEDB" | grep -q 'libglib-2.0' && fail "bouncedb has GLib twice: $(ldd "$BOUNCEDB" | grep libglib)"
	fi
fi
# The key of an address must not depend on the locale: in a Turkish one,
# Unicode lowercasing makes 'I' a dotless 'ı' (address.c).
mkdir -p "$TMP/locale"
if command -v localedef >/dev/null && localedef -i tr_TR -f UTF-8 "$TMP/locale/tr_TR.UTF-8" 2>/dev/null; then
	expect_status 0 "check in a Turkish locale" -- env LOCPATH="$TMP/locale" LC_ALL=tr_TR.UTF-8 "$BOUNCEDB" check --db "$DB" INFO@EXAMPLE.COM
	expect_grep "^INFO@EXAMPLE.COM	ok	-	-	info@example.com$" "$TMP/out" "'I' lowers to 'i' whatever the locale"
else
	echo "t-query: skipped the Turkish locale check: localedef or tr_TR missing" >&2
fi
expect_status 0 "check an international domain: libidn2 opened on demand" -- "$BOUNCEDB" check --db "$DB" 'Bob@BÜCHER.example'
# The input as given comes first (results join back to the input), the
# address looked up in its own column.
expect_grep "^Bob@BÜCHER.example	ok	-	-	bob@xn--bcher-kva.example$" "$TMP/out" "the domain is checked in its ASCII form"
expect_status 0 "check --json an international domain" -- "$BOUNCEDB" check --json --db "$DB" 'Bob@BÜCHER.example'
expect_grep '"address":"Bob@BÜCHER.example","normalized":"bob@xn--bcher-kva.example"' "$TMP/out" "check --json: the input and the normalised form"
mkdir -p "$TMP/lonely"
cp "$BOUNCEDB" "$TMP/lonely/bouncedb"
expect_status 0 "check works without bouncedb-full" -- "$TMP/lonely/bouncedb" check --db "$DB" never-seen@example.com
expect_status 69 "parse without bouncedb-full" -- "$TMP/lonely/bouncedb" parse "$CORPUS/dsn/postfix-user-unknown.eml"
expect_grep "cannot run .*bouncedb-full" "$TMP/err" "says what it could not run"
expect_status 75 "ingest without bouncedb-full: the MTA retries" -- sh -c "'$TMP/lonely/bouncedb' ingest < '$CORPUS/dsn/postfix-user-unknown.eml'"

# --- check ----------------------------------------------------------------
expect_status 1 "check a suppressed address" -- "$BOUNCEDB" check --db "$DB" "$HARD"
expect_grep "suppressed" "$TMP/out" "check says suppressed"
expect_status 0 "check a sender-side address (never held against it)" -- "$BOUNCEDB" check --db "$DB" "$SENDER"
expect_status 0 "check an unknown address" -- "$BOUNCEDB" check --db "$DB" never-seen@example.com
expect_grep "ok" "$TMP/out" "unknown address is ok"
expect_status 1 "one suppressed among several" -- "$BOUNCEDB" check --db "$DB" never-seen@example.com "$HARD"
expect_status 65 "check a malformed address" -- "$BOUNCEDB" check --db "$DB" "not an address"
expect_grep "invalid" "$TMP/out" "malformed address reported"
expect_status 1 "check --json" -- "$BOUNCEDB" check --json --db "$DB" "$HARD" never-seen@example.com
python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows[0]['state']=='suppressed' and rows[0]['suppression']['reason'], rows
assert rows[1]['state']=='ok'" "$TMP/out" || fail "check --json content"
expect_status 66 "check without a database" -- "$BOUNCEDB" check --db "$TMP/none" a@example.com
expect_grep "no database" "$TMP/err" "missing database named"

# --- show -------------------------------------------------------------------
expect_status 0 "show" -- "$BOUNCEDB" show --db "$DB" "$HARD"
expect_grep "decided by rule" "$TMP/out" "show has the evidence"
expect_grep "recent events" "$TMP/out" "show has the history"
expect_status 0 "show --json" -- "$BOUNCEDB" show --json --db "$DB" "$HARD"
python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
assert d['state']=='suppressed' and d['events'] and d['suppression']['rule'], d
# Unknown values are null, never "".
def empties(v, path=''):
    if isinstance(v, dict):
        return [p for k, x in v.items() for p in empties(x, path + '.' + k)]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in empties(x, '%s[%d]' % (path, i))]
    return [path] if v == '' else []
assert empties(d) == [], empties(d)" "$TMP/out" || fail "show --json content"
expect_status 0 "show an unknown address" -- "$BOUNCEDB" show --db "$DB" never-seen@example.com
expect_grep "may be mailed" "$TMP/out" "unknown address may be mailed"
expect_status 65 "show a malformed address" -- "$BOUNCEDB" show --db "$DB" "a b c"

# --- filter -------------------------------------------------------------------
printf '%s\nnever-seen@example.com\n\nnot an address\n%s\nAnother@Example.COM\n' "$HARD" "$HARD" >"$TMP/list.txt"
expect_status 0 "filter" -- sh -c "'$BOUNCEDB' filter --db '$DB' < '$TMP/list.txt'"
printf 'never-seen@example.com\nAnother@Example.COM\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || { fail "filter output"; cat "$TMP/out" >&2; }
ok
expect_grep "line 4" "$TMP/err" "malformed line reported with its number"
expect_status 0 "filter --invalid pass" -- sh -c "'$BOUNCEDB' filter --invalid pass --db '$DB' < '$TMP/list.txt'"
expect_grep "not an address" "$TMP/out" "malformed line passed through"
expect_status 0 "filter --suppressed" -- sh -c "'$BOUNCEDB' filter --suppressed --db '$DB' < '$TMP/list.txt'"
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "filter --suppressed should give the suppressed address twice"
expect_grep "$(printf '\t')userunknown" "$TMP/out" "suppressed lines carry the reason"
printf 'id,email,name\n1,%s,"Smith, Ann"\n2,never-seen@example.com,"Doe, Jo"\n' "$HARD" >"$TMP/list.csv"
expect_status 0 "filter a CSV column" -- sh -c "'$BOUNCEDB' filter --column 2 --header --db '$DB' < '$TMP/list.csv'"
printf 'id,email,name\n2,never-seen@example.com,"Doe, Jo"\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || { fail "filter CSV output"; cat "$TMP/out" >&2; }
ok

# --- list ---------------------------------------------------------------------
expect_status 0 "list" -- "$BOUNCEDB" list --db "$DB"
expect_grep "$HARD" "$TMP/out" "list shows the suppression"
expect_status 0 "list --json --reason" -- "$BOUNCEDB" list --json --reason userunknown --db "$DB"
python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r['reason']=='userunknown' for r in rows), rows" "$TMP/out" || fail "list --reason"
expect_status 0 "list --csv" -- "$BOUNCEDB" list --csv --db "$DB"
python3 -c "
import csv,sys
rows=list(csv.DictReader(open(sys.argv[1])))
assert rows and 'key' in rows[0] and 'reason' in rows[0]" "$TMP/out" || fail "list --csv"
expect_status 64 "list with an unknown reason" -- "$BOUNCEDB" list --reason nonsense --db "$DB"
expect_status 0 "list --since" -- "$BOUNCEDB" list --since 2030-01-01 --db "$DB"
[ -s "$TMP/out" ] && fail "nothing is seen after 2030"
ok

# --- stats ----------------------------------------------------------------------
expect_status 0 "stats" -- "$BOUNCEDB" stats --db "$DB"
expect_grep "by reason" "$TMP/out" "stats by reason"
expect_grep "sender-side" "$TMP/out" "stats has the is-it-us view"
expect_status 0 "stats --json" -- "$BOUNCEDB" stats --json --db "$DB"
python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
assert d['events']>0 and d['by_reason'] and d['by_domain'] and 'sender_side' in d, d" "$TMP/out" || fail "stats --json"

# --- export / import round trip --------------------------------------------------
expect_status 0 "export jsonl" -- "$BOUNCEDB" export --db "$DB" -o "$TMP/all.jsonl"
head -1 "$TMP/all.jsonl" | grep -q '"bouncedb_export":1' || fail "export header"
ok
expect_status 0 "import into a fresh database" -- "$BOUNCEDB" import --db "$TMP/db2" "$TMP/all.jsonl"
expect_status 0 "import again (idempotent)" -- "$BOUNCEDB" import --db "$TMP/db2" "$TMP/all.jsonl"
"$BOUNCEDB" export --db "$TMP/db2" | tail -n +2 >"$TMP/again.jsonl"
tail -n +2 "$TMP/all.jsonl" >"$TMP/orig.jsonl"
cmp -s "$TMP/orig.jsonl" "$TMP/again.jsonl" || { fail "export | import | export is not lossless"; diff "$TMP/orig.jsonl" "$TMP/again.jsonl" | head -4 >&2; }
ok
expect_status 0 "export csv" -- "$BOUNCEDB" export --format csv --db "$DB" -o "$TMP/all.csv"
# A CSV reader takes the first line for the header: nothing comes before it,
# and list and export write the same columns.
python3 -c "
import csv,sys
rows=list(csv.DictReader(open(sys.argv[1], newline='')))
assert rows and rows[0]['key'] and '@' in rows[0]['key'] and rows[0]['table']=='address', rows[:1]
assert all(len(r)==20 and None not in r for r in rows), 'short or long rows'" "$TMP/all.csv" || fail "export --format csv reads with csv.DictReader"
ok
"$BOUNCEDB" list --csv --all --db "$DB" >"$TMP/list-all.csv"
ok
[ "$(head -1 "$TMP/list-all.csv")" = "$(head -1 "$TMP/all.csv")" ] || fail "list --csv and export --format csv: other columns"
ok
[ "$(sort "$TMP/list-all.csv")" = "$(sort "$TMP/all.csv")" ] || fail "list --csv --all is not the export's rows"
expect_status 0 "list --format csv" -- "$BOUNCEDB" list --format csv --db "$DB"
cmp -s "$TMP/out" "$(sh -c "'$BOUNCEDB' list --csv --db '$DB' >'$TMP/list-csv'; echo '$TMP/list-csv'")" || fail "list --format csv differs from list --csv"
ok
expect_status 0 "list --format jsonl" -- "$BOUNCEDB" list --format jsonl --db "$DB"
expect_grep '^{"address":' "$TMP/out" "list --format jsonl"
expect_status 64 "list --format xml" -- "$BOUNCEDB" list --format xml --db "$DB"
expect_status 64 "list --format text --json: two formats" -- "$BOUNCEDB" list --format text --json --db "$DB"
expect_status 64 "list --format jsonl --csv: two formats" -- "$BOUNCEDB" list --format jsonl --csv --db "$DB"
expect_status 0 "export --header-comment" -- "$BOUNCEDB" export --format csv --header-comment --db "$DB" -o "$TMP/old.csv"
head -1 "$TMP/old.csv" | grep -q '^# bouncedb export v1 ' || fail "--header-comment: no comment line"
ok
expect_status 0 "import a CSV export with the comment line" -- "$BOUNCEDB" import --db "$TMP/db4" "$TMP/old.csv"
expect_status 0 "import csv" -- "$BOUNCEDB" import --db "$TMP/db3" "$TMP/all.csv"
"$BOUNCEDB" list --json --all --db "$TMP/db3" | wc -l >"$TMP/n3"
"$BOUNCEDB" list --json --all --db "$DB" | wc -l >"$TMP/n1"
cmp -s "$TMP/n1" "$TMP/n3" || fail "CSV round trip lost entries ($(cat "$TMP/n1") vs $(cat "$TMP/n3"))"
ok

# ESP exports.
printf 'address,code,error,created_at\nmg1@example.com,550,"550 5.1.1 The email account that you tried to reach does not exist",Tue, 17 Nov 2026 10:00:00 UTC\n' >"$TMP/mailgun.csv"
printf 'address,code,error,created_at\nmg1@example.com,550,"550 5.1.1 No such user",2026-11-17T10:00:00Z\n' >"$TMP/mailgun.csv"
expect_status 0 "import a Mailgun bounces export" -- "$BOUNCEDB" import --db "$TMP/esp" "$TMP/mailgun.csv"
printf 'email,created,reason,status\nsg1@example.com,1795000000,"550 5.2.2 Mailbox full",5.2.2\n' >"$TMP/sendgrid.csv"
expect_status 0 "import a SendGrid bounces export" -- "$BOUNCEDB" import --db "$TMP/esp" "$TMP/sendgrid.csv"
printf 'EmailAddress,SuppressionReason,Origin,CreatedAt\npm1@example.com,SpamComplaint,Recipient,2026-11-10T08:00:00Z\n' >"$TMP/postmark.csv"
expect_status 0 "import a Postmark export" -- "$BOUNCEDB" import --db "$TMP/esp" "$TMP/postmark.csv"
printf '{"SuppressedDestinationSummaries":[{"EmailAddress":"ses1@example.com","Reason":"BOUNCE","LastUpdateTime":"2026-11-01T00:00:00Z"}]}\n' >"$TMP/ses.json"
expect_status 0 "import an Amazon SES export" -- "$BOUNCEDB" import --db "$TMP/esp" "$TMP/ses.json"
"$BOUNCEDB" list --json --db "$TMP/esp" >"$TMP/esp.jsonl"
python3 -c "
import json,sys
r={x['address']:x['reason'] for x in map(json.loads, open(sys.argv[1]))}
assert r=={'mg1@example.com':'userunknown','sg1@example.com':'mailboxfull','pm1@example.com':'feedback','ses1@example.com':'userunknown'}, r" "$TMP/esp.jsonl" \
	|| fail "ESP reasons mapped"
ok
printf 'email,reason\ngood@example.com,bounce\nbad address,bounce\n' >"$TMP/bad.csv"
expect_status 65 "a bad row stops the import" -- "$BOUNCEDB" import --db "$TMP/esp" "$TMP/bad.csv"
expect_grep "line 3" "$TMP/err" "bad row named by line"
expect_status 0 "nothing half-imported" -- "$BOUNCEDB" check --db "$TMP/esp" good@example.com
printf 'name,phone\nann,123\n' >"$TMP/noaddr.csv"
expect_status 65 "CSV without an address column" -- "$BOUNCEDB" import --db "$TMP/esp" "$TMP/noaddr.csv"

# --- add / remove ----------------------------------------------------------------
expect_status 0 "add" -- "$BOUNCEDB" add --db "$DB" --reason manual --note "asked by phone" --expires 30d Manual@Example.com
expect_status 1 "added address is suppressed" -- "$BOUNCEDB" check --db "$DB" manual@example.com
expect_status 64 "add without a reason" -- "$BOUNCEDB" add --db "$DB" x@example.com
expect_status 0 "remove" -- "$BOUNCEDB" remove --db "$DB" "$HARD"
expect_status 0 "removed address may be mailed" -- "$BOUNCEDB" check --db "$DB" "$HARD"
# The same old bounce, swept again, must not bring it back.
mkdir -p "$TMP/md2/new" "$TMP/md2/cur" "$TMP/md2/tmp"
for f in "$MD"/cur/*; do cp "$f" "$TMP/md2/new/$(basename "$f" | cut -d: -f1)x"; done
"$BOUNCEDB" sweep --db "$DB" "$TMP/md2" >/dev/null 2>&1
expect_status 0 "an old report does not re-suppress a removed address" -- "$BOUNCEDB" check --db "$DB" "$HARD"
expect_status 0 "add a domain" -- "$BOUNCEDB" add --db "$DB" --reason hostunknown gone.example
expect_status 1 "domain suppression counts in check" -- "$BOUNCEDB" check --db "$DB" anyone@gone.example
expect_grep "(domain)" "$TMP/out" "check says it is the domain"

# --- prune -----------------------------------------------------------------------
expect_status 0 "prune" -- env BOUNCEDB_NOW=1900000000 "$BOUNCEDB" prune --json --db "$DB"
python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
assert d['expired']>=1, d   # the manual entry expired after 30 days" "$TMP/out" || fail "prune counts"
expect_status 0 "prune --compact" -- "$BOUNCEDB" prune --compact --db "$DB"
expect_status 0 "database readable after compaction" -- "$BOUNCEDB" list --db "$DB"

# --- empty database, read-only directory ------------------------------------------
"$BOUNCEDB" add --db "$TMP/empty" --reason manual x@example.com >/dev/null 2>&1
"$BOUNCEDB" remove --db "$TMP/empty" x@example.com >/dev/null 2>&1
expect_status 0 "check on an empty database" -- "$BOUNCEDB" check --db "$TMP/empty" a@example.com
expect_status 0 "stats on an empty database" -- "$BOUNCEDB" stats --db "$TMP/empty"
expect_status 0 "filter on an empty database" -- sh -c "printf 'a@example.com\n' | '$BOUNCEDB' filter --db '$TMP/empty'"

cp -r "$DB" "$TMP/rodb"
chmod -R a+rX "$TMP" 2>/dev/null
chmod a-w "$TMP/rodb" "$TMP/rodb"/*
if [ "$(id -u)" -eq 0 ]; then
	# root ignores permissions: read as nobody instead.
	as_reader="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	command -v setpriv >/dev/null || as_reader=
else
	as_reader=
fi
if [ "$(id -u)" -ne 0 ] || [ -n "$as_reader" ]; then
	expect_status 1 "check on a read-only database directory" -- $as_reader "$BOUNCEDB" check --db "$TMP/rodb" anyone@gone.example
	expect_status 0 "list on a read-only database directory" -- $as_reader "$BOUNCEDB" list --db "$TMP/rodb"
	expect_status 77 "a write to a read-only database is refused" -- $as_reader "$BOUNCEDB" add --db "$TMP/rodb" --reason manual y@example.com
fi
chmod -R u+w "$TMP/rodb"

# --- help ---------------------------------------------------------------------------
for c in check show filter list stats export import add remove prune ingest sweep parse explain; do
	expect_status 0 "$c --help" -- "$BOUNCEDB" "$c" --help
	expect_grep "xample" "$TMP/out" "$c --help has an example"
done

done_testing
