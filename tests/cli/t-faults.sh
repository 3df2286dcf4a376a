#!/bin/sh
# Faults that must not cost data or block mail: closed standard
# descriptors, a message that cannot be stored, kept messages and prune.
# (tests/faults repeats crashes and concurrency at scale; it is not part
# of CI.)
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000   # 2026-11-18
B=$BOUNCEDB

# --- closed standard descriptors ---------------------------------------------
# With 0-2 closed, the database's files would take those numbers and the
# next warning would be written into data.mdb.  Both programs (the front
# and bouncedb-full) must hand the numbers to /dev/null first.
DB=$TMP/fd-db
MD=$TMP/fd-md
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
cp "$CORPUS"/broken/*.eml "$MD/new/"
$B add --db "$DB" --reason manual first@example.com >/dev/null
expect_status 0 "sweep with 0-2 closed" -- sh -c "exec 0<&- 1>&- 2>&-; '$B' sweep --db '$DB' '$MD'"
expect_status 0 "add with 0-2 closed (the front)" -- sh -c "exec 0<&- 1>&- 2>&-; '$B' add --db '$DB' --reason manual -- second@example.com 'not an address'; exit 0"
expect_status 0 "ingest with 1-2 closed" -- sh -c "exec 1>&- 2>&-; '$B' ingest --db '$DB' < '$CORPUS/not/newsletter.eml'"
ok
if grep -q "bouncedb:" "$DB/data.mdb"; then fail "a warning was written into data.mdb"; fi
expect_status 0 "the database reads after runs with closed descriptors" -- $B list --db "$DB"
expect_grep "first@example.com" "$TMP/out" "the entry from before is there"
[ "$(wc -l <"$TMP/out")" -gt 5 ] || fail "the sweep's suppressions are missing: $(cat "$TMP/out")"
ok
[ $(( $(stat -c %s "$DB/data.mdb") % 4096 )) -eq 0 ] || fail "data.mdb is not a whole number of pages"
ok

done_testing
