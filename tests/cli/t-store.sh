#!/bin/sh
# ingest and sweep against a real database: exit statuses, duplicates,
# quarantine, concurrency, and crashes in the middle of a sweep.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000   # 2026-11-18, so expiries are reproducible
DB=$TMP/db

# A DSN for recipient $1 with Message-ID $2, written to stdout.
dsn() {
	dsn_message "$1" "$2"
}

# gen DIR PREFIX FIRST LAST [soft]: one DSN file per number, named mN, for
# recipient PREFIXN@example.com (every third a soft bounce with "soft").
# One process for all of them: spawning a shell per message is slow.
gen() {
	python3 - "$@" <<'PY'
import os, sys
d, prefix, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
soft = len(sys.argv) > 5
for i in range(first, last + 1):
    rcpt, status, reply = "%s%d@example.com" % (prefix, i), "5.1.1", "550 5.1.1"
    if soft and i % 3 == 0:
        rcpt, status, reply = "soft%d@example.com" % (i % 7), "4.2.2", "452 4.2.2"
    with open(os.path.join(d, "m%d" % i), "w") as f:
        f.write("""Return-Path: <>
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: news@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <%s%d@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; %s
Action: failed
Status: %s
Diagnostic-Code: smtp; %s <%s>: Recipient address rejected: no

--XX--
""" % (prefix, i, rcpt, status, reply, rcpt))
PY
}

# --- ingest ---------------------------------------------------------------

dsn gone@example.com m1 >"$TMP/m1.eml"
expect_status 0 "ingest a bounce" -- sh -c "'$BOUNCEDB' ingest --db '$DB' < '$TMP/m1.eml'"
[ -s "$TMP/out" ] && fail "ingest wrote to stdout (the MTA would log it)"
ok
expect_status 1 "ingested address is suppressed" -- "$BOUNCEDB" check --db "$DB" gone@example.com
expect_grep "userunknown" "$TMP/out" "check names the reason"

# The MTA delivers the same message again: counted once.
expect_status 0 "duplicate delivery" -- sh -c "'$BOUNCEDB' ingest --db '$DB' < '$TMP/m1.eml'"
expect_status 0 "show" -- "$BOUNCEDB" show --json --db "$DB" gone@example.com
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['suppression']['count']==1, d" "$TMP/out" \
	|| fail "duplicate delivery counted twice"
ok

# Not a bounce: exit 0, and a copy is kept (nothing is lost).
printf 'From: alice@example.com\nTo: bounces@example.org\nSubject: hello\n\nhi\n' >"$TMP/plain.eml"
expect_status 0 "ingest ordinary mail" -- sh -c "'$BOUNCEDB' ingest --db '$DB' < '$TMP/plain.eml'"
expect_grep "not a bounce" "$TMP/err" "says why it kept it"
[ "$(ls "$DB/quarantine/new" | wc -l)" -eq 1 ] || fail "ordinary mail not kept in DB/quarantine"
ok
grep -q '^[245]\.[0-9]' "$TMP/err" && fail "a stderr line starts with a status code (pipe(8) would read it)"
ok

# Empty input (a misconfigured pipe): kept, said why, exit 0, no GLib warning.
expect_status 0 "ingest empty input" -- sh -c "'$BOUNCEDB' ingest --db '$DB' --keep '$TMP/keep0' < /dev/null"
expect_grep "not an email message" "$TMP/err" "says why it kept empty input"
grep -q "CRITICAL\|WARNING" "$TMP/err" && fail "empty input reached GMime: $(cat "$TMP/err")"
[ "$(ls "$TMP/keep0/new" | wc -l)" -eq 1 ] || fail "empty input not kept"
ok

# Too big: kept whole, exit 0.
printf '[limits]\nmax_message_size = 1k\n' >"$TMP/small.conf"
{ dsn big@example.com m2; head -c 5000 /dev/zero | tr '\0' 'x'; echo; } >"$TMP/big.eml"
expect_status 0 "ingest over the size limit" -- sh -c "'$BOUNCEDB' --config '$TMP/small.conf' ingest --db '$DB' --keep '$TMP/keep' < '$TMP/big.eml'"
kept=$(ls "$TMP/keep/new" | head -1)
cmp -s "$TMP/big.eml" "$TMP/keep/new/$kept" || fail "oversized message not kept byte for byte"
ok

# Local failures are 75, so the MTA keeps the message and retries.
expect_status 75 "database path unusable" -- sh -c "'$BOUNCEDB' ingest --db /dev/null/db < '$TMP/m1.eml'"
printf '[database]\nmap_size = 16k\nmap_size_max = 16k\n' >"$TMP/tiny.conf"
expect_status 75 "database full" -- sh -c "'$BOUNCEDB' --config '$TMP/tiny.conf' ingest --db '$TMP/tinydb' < '$TMP/m1.eml'"
expect_grep "full" "$TMP/err" "says the database is full"
expect_status 75 "bad option is still a temporary failure" -- "$BOUNCEDB" ingest --frobnicate
# A busy database (a writer holding the lock past the timeout) is 75 too.
printf '[database]\nlock_timeout_ms = 200\n' >"$TMP/busy.conf"
if command -v flock >/dev/null; then
	flock "$DB/bouncedb.lock" sleep 3 &
	sleep 0.3
	dsn busy@example.com m3 >"$TMP/m3.eml"
	expect_status 75 "database busy" -- sh -c "'$BOUNCEDB' --config '$TMP/busy.conf' ingest --db '$DB' < '$TMP/m3.eml'"
	expect_grep "busy" "$TMP/err" "says the database is busy"
	wait
fi

# --- sweep ------------------------------------------------------------------

MD=$TMP/maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
n=0
for f in "$CORPUS"/dsn/*.eml "$CORPUS"/arf/*.eml "$CORPUS"/not/*.eml "$CORPUS"/broken/*.eml; do
	n=$((n + 1))
	cp "$f" "$MD/new/$(basename "$f" .eml).$n"
done
touch "$MD/new/.hidden" "$MD/tmp/inflight"
ln -s /etc/passwd "$MD/new/evil-symlink"

expect_status 0 "sweep --dry-run" -- "$BOUNCEDB" sweep --dry-run --json --db "$TMP/sdb" "$MD"
[ -e "$TMP/sdb" ] && fail "--dry-run created the database"
ok
[ "$(ls "$MD/new" | wc -l)" -eq "$((n + 1))" ] || fail "--dry-run moved messages"
ok

expect_status 0 "sweep" -- "$BOUNCEDB" sweep --json --db "$TMP/sdb" "$MD"
python3 - "$TMP/out" "$n" <<'PY' || fail "sweep summary"
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert s["messages"] == n, s            # dotfiles, tmp/ and symlinks are not messages
assert s["reports"] > 0 and s["suppressed"] > 0, s
assert s["quarantined"] >= 1, s         # the report that names nobody
assert s["failed"] == 0, s
PY
ok
[ "$(ls "$MD/new")" = "evil-symlink" ] || fail "new/ should hold only the skipped symlink: $(ls "$MD/new")"
ok
ls "$MD/cur" | grep -qv ':2,S$' && fail "processed messages lack the S flag"
ok
[ "$(ls "$MD/.Quarantine/new" | wc -l)" -ge 1 ] || fail "nothing quarantined in .Quarantine"
ok

expect_status 0 "second sweep finds nothing new" -- "$BOUNCEDB" sweep --json --db "$TMP/sdb" "$MD"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['messages']==0, s" "$TMP/out" || fail "second sweep"
ok

expect_status 64 "sweep without a Maildir" -- "$BOUNCEDB" sweep --db "$TMP/sdb"
expect_status 66 "sweep of a missing Maildir" -- "$BOUNCEDB" sweep --db "$TMP/sdb" "$TMP/nope"

# mbox input: read, never modified, idempotent.
for i in 1 2 3; do echo "From MAILER-DAEMON Mon Nov 16 10:00:00 2026"; dsn "mbox$i@example.com" "mb$i"; echo; done >"$TMP/b.mbox"
cp "$TMP/b.mbox" "$TMP/b.mbox.orig"
expect_status 0 "sweep --mbox" -- "$BOUNCEDB" sweep --json --db "$TMP/sdb" --mbox "$TMP/b.mbox"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['messages']==3 and s['suppressed']==3, s" "$TMP/out" || fail "mbox sweep"
ok
cmp -s "$TMP/b.mbox" "$TMP/b.mbox.orig" || fail "mbox modified"
expect_status 0 "sweep --mbox again" -- "$BOUNCEDB" sweep --json --db "$TMP/sdb" --mbox "$TMP/b.mbox"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['duplicates']==3 and s['suppressed']==0, s" "$TMP/out" || fail "mbox sweep counted twice"
ok

# --- the database fills up in the middle of a sweep -------------------------
# Batches committed before the failure are marked; the batch that failed and
# the one parsed behind it stay in new/, untouched.  A sweep with room then
# stores the rest, and the totals equal those of a sweep that never failed.
FMD=$TMP/fullmd
mkdir -p "$FMD/new" "$FMD/cur" "$FMD/tmp"
for i in $(seq 1 80); do dsn "full$i@example.com" "full$i" >"$FMD/new/m$i"; done
printf '[database]\nmap_size = 96k\nmap_size_max = 96k\n' >"$TMP/full.conf"
expect_status 73 "sweep into a database that fills up" -- \
	"$BOUNCEDB" --config "$TMP/full.conf" sweep --batch 10 --db "$TMP/fulldb" "$FMD"
expect_grep "database full: the map reached its limit of 96 KiB" "$TMP/err" "says the database is full, and its limit"
stored=$(ls "$FMD/cur" | wc -l)
[ "$stored" -gt 0 ] && [ "$stored" -lt 80 ] || fail "the full database should store some batches, not $stored of 80"
[ $((stored % 10)) -eq 0 ] || fail "$stored messages marked: not whole batches"
[ "$(ls "$FMD/new" | wc -l)" -eq $((80 - stored)) ] || fail "messages lost: $(ls "$FMD/new" | wc -l) left in new/, $stored in cur/"
ok
expect_status 0 "the next sweep, with room, stores the rest" -- "$BOUNCEDB" sweep --json --batch 10 --db "$TMP/fulldb" "$FMD"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['messages']==80-int(sys.argv[2]) and s['duplicates']==0, s" \
	"$TMP/out" "$stored" || fail "second sweep after the database filled"
expect_status 0 "stats after the refill" -- "$BOUNCEDB" stats --json --db "$TMP/fulldb"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['suppressed']['addresses']==80, s" "$TMP/out" \
	|| fail "not all 80 suppressed after the refill: $(cat "$TMP/out")"
[ -z "$(ls "$FMD/new")" ] || fail "new/ not empty after the second sweep"
ok

# --- concurrency: 8 ingests and a sweep at once, exact counts ---------------

CDB=$TMP/cdb
CMD=$TMP/cmaildir
mkdir -p "$CMD/new" "$CMD/cur" "$CMD/tmp"
gen "$CMD/new" s 1 200
for i in $(seq 1 8); do dsn "p$i@example.com" "cp$i" >"$TMP/p$i.eml"; done
pids=
for i in $(seq 1 8); do
	sh -c "'$BOUNCEDB' ingest --db '$CDB' < '$TMP/p$i.eml'; echo \$? > '$TMP/rc$i'" &
	pids="$pids $!"
done
"$BOUNCEDB" sweep --batch 20 --db "$CDB" "$CMD" >/dev/null 2>&1 &
pids="$pids $!"
for p in $pids; do wait "$p"; done
for i in $(seq 1 8); do [ "$(cat "$TMP/rc$i")" = 0 ] || fail "parallel ingest $i exited $(cat "$TMP/rc$i")"; done
ok
count=$("$BOUNCEDB" list --db "$CDB" --json | wc -l)
[ "$count" -eq 208 ] || fail "concurrent writers: $count suppressions, want 208"
ok

# A filter running during a sweep sees a consistent snapshot and succeeds.
gen "$CMD/new" s 201 1200
seq 1 1200 | sed 's/^/s/; s/$/@example.com/' >"$TMP/list.txt"
"$BOUNCEDB" sweep --batch 50 --db "$CDB" "$CMD" >/dev/null 2>&1 &
sweep_pid=$!
expect_status 0 "filter during a sweep" -- sh -c "'$BOUNCEDB' filter --db '$CDB' < '$TMP/list.txt'"
wait $sweep_pid
ok

# --- crash safety: kill -9 mid-sweep, rerun, compare with a clean run -------

build_maildir() {
	rm -rf "$1"
	mkdir -p "$1/new" "$1/cur" "$1/tmp"
	cp -p "$TMP/crash-src"/* "$1/new/"
}
mkdir -p "$TMP/crash-src"
gen "$TMP/crash-src" k 1 1500 soft
touch -d '2026-11-16 12:00:00' "$TMP/crash-src"/*

build_maildir "$TMP/clean"
"$BOUNCEDB" sweep --batch 40 --db "$TMP/clean-db" "$TMP/clean" >/dev/null 2>&1
"$BOUNCEDB" export --db "$TMP/clean-db" | tail -n +2 >"$TMP/clean.export"

for delay in 0.05 0.15 0.3 0.6; do
	build_maildir "$TMP/crash"
	rm -rf "$TMP/crash-db"
	"$BOUNCEDB" sweep --batch 40 --db "$TMP/crash-db" "$TMP/crash" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	interrupted=$(ls "$TMP/crash/new" | wc -l)
	[ "$delay" = 0.05 ] && [ "$interrupted" -eq 0 ] && fail "the sweep finished before the kill: the crash test tests nothing"
	"$BOUNCEDB" sweep --batch 40 --db "$TMP/crash-db" "$TMP/crash" >/dev/null 2>&1
	"$BOUNCEDB" export --db "$TMP/crash-db" | tail -n +2 >"$TMP/crash.export"
	ok
	if ! cmp -s "$TMP/clean.export" "$TMP/crash.export"; then
		fail "kill -9 after ${delay}s: database differs from a clean run"
		diff "$TMP/clean.export" "$TMP/crash.export" | head -5 >&2
	fi
	left=$(ls "$TMP/crash/new" | wc -l)
	[ "$left" -eq 0 ] || fail "kill -9 after ${delay}s: $left messages left unprocessed after the rerun"
	ok
done

done_testing
