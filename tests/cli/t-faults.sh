#!/bin/sh
# Faults that must not cost data or block mail: closed standard
# descriptors, a message that cannot be stored, kept messages and prune.
# (tests/faults repeats crashes and concurrency at scale; it is not part
# of CI.)
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000   # 2026-11-18
B=$BOUNCEDB

# dsn RECIPIENT ID [STATUS [DIAGNOSTIC]]: a DSN on stdout (lib.sh).
dsn() {
	dsn_message "$@"
}

# maildir DIR: an empty Maildir.
maildir() {
	rm -rf "$1"
	mkdir -p "$1/new" "$1/cur" "$1/tmp"
}

# json_get FILE KEY: a number from a JSON summary.
json_get() {
	python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"
}

# The fault-injecting LMDB shim (tests/fault-inject.c), preloaded.  The
# sanitizer build must let it come before its runtime.
with_faults() {
	env LD_PRELOAD="$FAULT_INJECT" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

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

# --- one message must never block a pipe or a sweep --------------------------
# A hostunknown report for a 64-octet local part at a 250-octet domain made
# a 578-byte tally key (LMDB takes 511): ingest exited 75 on every retry,
# sweep 65 leaving the message and its whole batch, run after run.  The
# address is longer than RFC 5321 allows: invalid, the message kept.
l64=$(printf '%064d' 0 | tr 0 l)
d63=$(printf '%063d' 0 | tr 0 d)
long="$l64@$d63.$d63.$d63.dddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
dsn "$long" long1 5.1.2 "550 5.1.2 Host unknown (Name server: host not found)" >"$TMP/long.eml"
DB=$TMP/long-db
expect_status 0 "ingest of a report for an over-long address" -- sh -c "'$B' ingest --db '$DB' < '$TMP/long.eml'"
expect_grep "kept in" "$TMP/err" "the message is kept"
[ "$(ls "$DB/quarantine/new" | wc -l)" -eq 1 ] || fail "the over-long report is not in DB/quarantine"
ok
MD=$TMP/long-md
maildir "$MD"
cp "$TMP/long.eml" "$MD/new/long"
for i in 1 2 3 4; do dsn "ok$i@example.com" "ok$i" >"$MD/new/ok$i"; done
expect_status 0 "sweep with an over-long address in the batch" -- $B sweep --json --batch 10 --db "$DB" "$MD"
[ "$(json_get "$TMP/out" suppressed)" -eq 4 ] || fail "the rest of the batch was not stored: $(cat "$TMP/out")"
[ "$(json_get "$TMP/out" quarantined)" -eq 1 ] || fail "the over-long report was not quarantined: $(cat "$TMP/out")"
[ -z "$(ls "$MD/new")" ] || fail "messages left in new/: $(ls "$MD/new")"
[ "$(ls "$MD/.Quarantine/new")" = long ] || fail "the over-long report is not in .Quarantine"
ok

# A failure that comes from one message, whatever it is (here LMDB refusing
# the key of one recipient): that message is kept, the others are stored.
dsn poison@example.com poison1 >"$TMP/poison.eml"
DB=$TMP/poison-db
$B add --db "$DB" --reason manual early@example.com >/dev/null
expect_status 0 "ingest of a message the database refuses" -- \
	with_faults BDB_FAULT_KEY=poison@example.com sh -c "'$B' ingest --db '$DB' < '$TMP/poison.eml'"
expect_grep "cannot be stored" "$TMP/err" "says why it kept the message"
[ "$(ls "$DB/quarantine/new" | wc -l)" -eq 1 ] || fail "the refused message is not kept"
ok
maildir "$MD"
cp "$TMP/poison.eml" "$MD/new/poison"
for i in 1 2 3 4; do dsn "fine$i@example.com" "fine$i" >"$MD/new/fine$i"; done
expect_status 0 "sweep of a batch with a message the database refuses" -- \
	with_faults BDB_FAULT_KEY=poison@example.com $B sweep --json --batch 10 --db "$DB" "$MD"
[ "$(json_get "$TMP/out" stored)" -eq 4 ] || fail "the rest of the batch was not stored: $(cat "$TMP/out")"
[ "$(json_get "$TMP/out" quarantined)" -eq 1 ] || fail "the refused message was not quarantined: $(cat "$TMP/out")"
[ "$(ls "$MD/.Quarantine/new")" = poison ] || fail "the refused message is not in .Quarantine"
[ -z "$(ls "$MD/new")" ] || fail "messages left in new/: $(ls "$MD/new")"
ok
expect_status 1 "the rest of the batch is suppressed" -- $B check --db "$DB" fine1@example.com fine4@example.com

# --- sweep and ingest decide alike (bdb_policy_outcome) ----------------------
# A report whose every recipient is unusable (a domain IDNA refuses) taught
# nothing: ingest kept it; sweep marked it processed, and with
# --processed delete deleted it.  Both keep it now.
dsn "bob@$(printf '\342\230\203').example" snow1 5.1.1 >"$TMP/snow.eml"
DB=$TMP/snow-db
expect_status 0 "ingest: no usable recipient" -- sh -c "'$B' ingest --db '$DB' < '$TMP/snow.eml'"
expect_grep "kept in .*no recipient address" "$TMP/err" "ingest keeps it"
maildir "$MD"
cp "$TMP/snow.eml" "$MD/new/snow"
expect_status 0 "sweep --processed delete: no usable recipient" -- $B sweep --json --processed delete --db "$DB" "$MD"
[ "$(json_get "$TMP/out" quarantined)" -eq 1 ] && [ "$(json_get "$TMP/out" stored)" -eq 0 ] \
	|| fail "sweep did not keep the report ingest keeps: $(cat "$TMP/out")"
[ "$(ls "$MD/.Quarantine/new")" = snow ] || fail "sweep deleted (or lost) the report ingest keeps"
ok
# Read again (a person moved it back): still kept, never taken for stored.
mv "$MD/.Quarantine/new/snow" "$MD/new/snow"
expect_status 0 "sweep of it again" -- $B sweep --json --processed delete --db "$DB" "$MD"
[ "$(ls "$MD/.Quarantine/new")" = snow ] || fail "the second sweep did not keep it"
ok

# --- a full disk in the middle of a sweep ------------------------------------
# ENOSPC is "database full" (73) in its own words, and the summary says what
# was stored and what was left for the next sweep.
maildir "$MD"
for i in $(seq 1 29); do dsn "disk$i@example.com" "disk$i" >"$MD/new/m$i"; done
# Not mail at all: quarantined when its batch is stored; in a batch the
# full disk leaves, it is left with the rest, not blamed as unreadable.
head -c 300 /dev/urandom | tr -d '\n:' >"$MD/new/m30"
DB=$TMP/disk-db
# Commits: the one that opens the database, the first batch, then the disk is full.
expect_status 73 "sweep onto a full disk" -- with_faults BDB_FAULT_COMMITS=2 $B sweep --json --batch 10 --db "$DB" "$MD"
expect_grep "no space left on the device" "$TMP/err" "says the disk is full"
[ "$(json_get "$TMP/out" stored)" -eq 10 ] && [ "$(json_get "$TMP/out" left)" -eq 20 ] \
	&& [ "$(json_get "$TMP/out" messages)" -eq 30 ] && [ "$(json_get "$TMP/out" failed)" -eq 0 ] \
	|| fail "summary of a sweep onto a full disk: $(cat "$TMP/out")"
expect_no_grep "m30" "$TMP/err" "a message the full disk left is not reported as unreadable"
[ "$(ls "$MD/new" | wc -l)" -eq 20 ] || fail "$(ls "$MD/new" | wc -l) messages left in new/, want 20"
ok
expect_status 73 "text summary onto a full disk" -- with_faults BDB_FAULT_COMMITS=1 $B sweep --batch 10 --db "$DB" "$MD"
expect_grep "^20 messages: 0 stored .* 20 left for the next sweep" "$TMP/out" "the text summary says what was left"
expect_status 0 "the next sweep, with room, stores the rest" -- $B sweep --json --batch 10 --db "$DB" "$MD"
[ "$(json_get "$TMP/out" stored)" -eq 19 ] && [ "$(json_get "$TMP/out" quarantined)" -eq 1 ] \
	|| fail "the rest was not stored: $(cat "$TMP/out")"
ok

# The same on a real file system that fills up (root only: a 1 MiB tmpfs).
# LMDB reports the short write as EIO; the disk is full all the same.
SMALL=$TMP/small
mkdir -p "$SMALL"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=1m tmpfs "$SMALL" 2>/dev/null; then
	trap 'umount "$SMALL" 2>/dev/null; rm -rf "$TMP"' EXIT
	maildir "$MD"
	python3 - "$MD/new" <<'PY'
import os, sys
for i in range(1000):
    with open(os.path.join(sys.argv[1], "m%d" % i), "w") as f:
        f.write("""From: MAILER-DAEMON@mx.example.net
To: news@example.org
Subject: Undelivered
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <full%d@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; user%d@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <user%d@example.com>: Recipient address rejected: User unknown in virtual mailbox table

--XX--
""" % (i, i, i))
PY
	expect_status 73 "sweep onto a 1 MiB file system" -- $B sweep --json --batch 100 --db "$SMALL/db" "$MD"
	expect_grep "no space left on the device" "$TMP/err" "a full file system is a full disk, not an I/O error"
	left=$(ls "$MD/new" | wc -l)
	python3 - "$TMP/out" "$left" <<'PY' || fail "summary on a full file system: $(cat "$TMP/out")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["messages"] == 1000 and s["stored"] + s["left"] == 1000, s
assert s["left"] == int(sys.argv[2]) and 0 < s["stored"] < 1000, s
PY
	ok
	# export -o onto the same full file system: the error of the write
	# that failed, and no file or temporary file left behind.
	expect_status 74 "export -o onto a full file system" -- $B export --db "$SMALL/db" -o "$SMALL/all.jsonl"
	expect_grep "writing '.*all\.jsonl\..*' failed: No space left on device" "$TMP/err" "export says the disk is full"
	[ -z "$(ls "$SMALL" | grep all)" ] || fail "export left $(ls "$SMALL" | grep all) on a full disk"
	ok
	umount "$SMALL"
else
	echo "t-faults: skipped the real full disk: not root, or no tmpfs mount" >&2
fi

# --- sweep --processed keep, then prune ---------------------------------------
# Kept messages are read by every sweep.  Their fingerprints were pruned by
# age like any other, so after a prune every kept message was applied
# again: a soft count went 2, 4, 6 and the events doubled.  A kept message's
# fingerprint now lives while sweeps keep meeting it, and while they pause.
NOW=$BOUNCEDB_NOW
DB=$TMP/keep-db
maildir "$MD"
dsn soft@example.com keep1 4.2.2 "452 4.2.2 Mailbox full" | sed 's/16 Nov 2026/15 Nov 2026/' >"$MD/new/k1"
dsn soft@example.com keep2 4.2.2 "452 4.2.2 Mailbox full" >"$MD/new/k2"
touch -d "@$((NOW - 3600))" "$MD/new/k1" "$MD/new/k2"
expect_status 0 "sweep --processed keep" -- $B sweep --json --processed keep --db "$DB" "$MD"
[ "$(json_get "$TMP/out" soft)" -eq 2 ] || fail "two soft bounces, two days: $(cat "$TMP/out")"
ok
for days in 100 200; do
	export BOUNCEDB_NOW=$((NOW + days * 86400))
	expect_status 0 "prune $days days later" -- $B prune --json --db "$DB"
	python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['fingerprints']==0, s" "$TMP/out" \
		|| fail "prune forgot the fingerprints of kept messages: $(cat "$TMP/out")"
	ok
	expect_status 0 "sweep --processed keep $days days later" -- $B sweep --json --processed keep --db "$DB" "$MD"
	[ "$(json_get "$TMP/out" soft)" -eq 0 ] && [ "$(json_get "$TMP/out" duplicates)" -eq 2 ] \
		|| fail "kept messages counted again after $days days: $(cat "$TMP/out")"
	ok
	expect_status 0 "show" -- $B show --json --db "$DB" soft@example.com
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['events'])==2, d['events']" "$TMP/out" \
		|| fail "events of kept messages doubled after $days days"
	ok
done
# Gone from the Maildir, a message's fingerprint is forgotten 90 days after
# the last keep sweep that met it.
rm "$MD/new/k1" "$MD/new/k2"
export BOUNCEDB_NOW=$((NOW + 300 * 86400))
expect_status 0 "a keep sweep of the emptied Maildir" -- $B sweep --processed keep --db "$DB" "$MD"
expect_status 0 "prune after it" -- $B prune --json --db "$DB"
[ "$(json_get "$TMP/out" fingerprints)" -eq 2 ] || fail "fingerprints of messages gone: $(cat "$TMP/out")"
ok
export BOUNCEDB_NOW=$NOW

done_testing
