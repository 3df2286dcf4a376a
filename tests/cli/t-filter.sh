#!/bin/sh
# filter: lists as list managers write them (mailman members prints
# mailboxes), CSV that stays CSV, --invalid pass that lets no suppressed
# address through, --json.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
B=$BOUNCEDB
DB=$TMP/db
$B add --db "$DB" --reason manual bob@example.net dead@example.org >/dev/null 2>&1 || fail "seeding"
$B add --db "$DB" --reason hostunknown gone.example >/dev/null 2>&1 || fail "seeding a domain"

# `mailman members LIST` writes "Name <address>", or the bare address.
cat >"$TMP/members.txt" <<'EOF'
Bob Person <bob@example.net>
"Doe, Jane" <Jane@Example.NET>
al@example.net (Al Lastname)
=?UTF-8?Q?Z=C3=B6e?= <zoe@example.net>
carol@example.net
Dead Letter <dead@example.org>
Anyone <someone@gone.example>
EOF
expect_status 0 "filter mailman members output" -- sh -c "$B filter --db '$DB' < '$TMP/members.txt'"
cat >"$TMP/want" <<'EOF'
"Doe, Jane" <Jane@Example.NET>
al@example.net (Al Lastname)
=?UTF-8?Q?Z=C3=B6e?= <zoe@example.net>
carol@example.net
EOF
cmp -s "$TMP/out" "$TMP/want" || { fail "mailboxes: the lines as they came, the suppressed ones out"; diff "$TMP/want" "$TMP/out" >&2; }
ok
[ ! -s "$TMP/err" ] || fail "mailboxes are not malformed lines: $(cat "$TMP/err")"
ok
expect_status 0 "filter --suppressed of mailboxes" -- sh -c "$B filter --suppressed --db '$DB' < '$TMP/members.txt'"
printf 'Bob Person <bob@example.net>\tmanual\nDead Letter <dead@example.org>\tmanual\nAnyone <someone@gone.example>\thostunknown\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || { fail "filter --suppressed of mailboxes"; cat "$TMP/out" >&2; }
ok

# Lines with no one valid address: dropped, or with --invalid pass written,
# but never one that holds a suppressed address.
cat >"$TMP/messy.txt" <<'EOF'
not an address
old: bob@example.net (moved)
Al <al@example.net>, Dead <dead@example.org>
someone@
EOF
expect_status 0 "filter --invalid pass" -- sh -c "$B filter --invalid pass --db '$DB' < '$TMP/messy.txt'"
printf 'not an address\nsomeone@\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || { fail "--invalid pass let a suppressed address through"; cat "$TMP/out" >&2; }
ok
expect_grep "line 2: .*'bob@example.net' in it is suppressed (dropped)" "$TMP/err" "says why the line was dropped"
expect_grep "line 3: .*'dead@example.org' in it is suppressed" "$TMP/err" "every address of the line is checked"
expect_status 0 "filter (drop)" -- sh -c "$B filter --db '$DB' < '$TMP/messy.txt'"
[ ! -s "$TMP/out" ] || fail "malformed lines are dropped by default: $(cat "$TMP/out")"
ok

# CSV stays CSV: --suppressed adds a column (the header too), quoted as needed.
cat >"$TMP/list.csv" <<'EOF'
id,name,email
1,"Person, Bob",bob@example.net
2,"Doe, Jane","Jane Doe <jane@example.net>"
3,"Letter, Dead","""Dead, Letter"" <dead@example.org>"
EOF
expect_status 0 "filter --suppressed --column on CSV" -- sh -c "$B filter --suppressed --column 3 --header --db '$DB' < '$TMP/list.csv'"
python3 - "$TMP/out" <<'PY' || fail "filter --suppressed --column keeps CSV well-formed"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["id", "name", "email", "suppression_reason"], rows[0]
assert rows[1:] == [["1", "Person, Bob", "bob@example.net", "manual"],
                    ["3", "Letter, Dead", '"Dead, Letter" <dead@example.org>', "manual"]], rows
PY
ok
expect_status 0 "filter --column on CSV" -- sh -c "$B filter --column 3 --header --db '$DB' < '$TMP/list.csv'"
printf 'id,name,email\n2,"Doe, Jane","Jane Doe <jane@example.net>"\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || { fail "filter --column: a mailbox in a CSV field"; cat "$TMP/out" >&2; }
ok
printf 'email;reason\nbob@example.net;x\n' >"$TMP/semi.csv"
expect_status 0 "filter --suppressed with another delimiter" -- sh -c "$B filter --suppressed -t ';' --header --db '$DB' < '$TMP/semi.csv'"
printf 'email;reason;suppression_reason\nbob@example.net;x;manual\n' >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || { fail "the added column takes the delimiter"; cat "$TMP/out" >&2; }
ok

# --json: one object per line written.
expect_status 0 "filter --json" -- sh -c "$B filter --json --db '$DB' < '$TMP/members.txt'"
python3 - "$TMP/out" <<'PY' || fail "filter --json"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["line"] for r in rows] == [2, 3, 4, 5], rows
assert rows[0] == {"line": 2, "input": '"Doe, Jane" <Jane@Example.NET>', "address": "jane@example.net", "state": "ok"}, rows[0]
PY
ok
expect_status 0 "filter --json --suppressed" -- sh -c "$B filter --json --suppressed --db '$DB' < '$TMP/members.txt'"
python3 - "$TMP/out" <<'PY' || fail "filter --json --suppressed"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["address"], r["state"], r["suppression"]["reason"]) for r in rows] == [
    ("bob@example.net", "suppressed", "manual"), ("dead@example.org", "suppressed", "manual"),
    ("someone@gone.example", "suppressed", "hostunknown")], rows
assert "domain" in rows[2]["suppression"], rows[2]
PY
ok
expect_status 0 "filter --json --invalid pass" -- sh -c "$B filter --json --invalid pass --quiet --db '$DB' < '$TMP/messy.txt'"
expect_grep '^{"line":1,"input":"not an address","address":null,"state":"invalid"}$' "$TMP/out" "an invalid line is null, state invalid"

done_testing
