#!/bin/sh
# The change feed: every committed change has exactly one event, numbered
# without gaps or repeats in commit order, across concurrent ingests and a
# sweep; --follow wakes at once; list --since means "changed here since".
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000   # 2026-11-18
DB=$TMP/db
B=$BOUNCEDB

# gen DIR PREFIX FIRST LAST: one bounce file per number (every third a soft
# bounce for one of a few addresses, every fifth with a campaign header).
gen() {
	python3 - "$@" <<'PY'
import os, sys
d, prefix, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
for i in range(first, last + 1):
    rcpt, status = "%s%d@example.com" % (prefix, i), "5.1.1"
    if i % 3 == 0:
        rcpt, status = "soft%d@example.com" % (i % 4), "4.2.2"
    campaign = "X-Campaign-ID: spring-%d\n" % (i % 2) if i % 5 == 0 else ""
    with open(os.path.join(d, "%s%d" % (prefix, i)), "w") as f:
        f.write("""From: MAILER-DAEMON@mx.example.net
To: news@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 16 Nov 2026 10:%02d:00 +0000
Message-ID: <%s%d@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; %s
Action: failed
Status: %s

--XX
Content-Type: text/rfc822-headers

From: news@example.org
To: %s
Subject: Spring news
Message-ID: <news%d@example.org>
List-Id: <news.example.org>
%s
--XX--
""" % (i % 60, prefix, i, rcpt, status, rcpt, i, campaign))
PY
}

# Concurrent writers: six ingest loops and a sweep, all at once.
gen "$TMP/in" p 1 120
mkdir -p "$TMP/md/new" "$TMP/md/cur" "$TMP/md/tmp"
gen "$TMP/md/new" s 1 150
for k in 0 1 2 3 4 5; do
	(
		for i in $(seq $((k * 20 + 1)) $((k * 20 + 20))); do
			$B ingest --db "$DB" <"$TMP/in/p$i" || echo "ingest p$i: $?" >>"$TMP/ingest-fail"
		done
	) &
done
$B sweep --db "$DB" "$TMP/md" >/dev/null 2>"$TMP/sweep-err" || echo "sweep: $?" >>"$TMP/ingest-fail"
wait
[ ! -s "$TMP/ingest-fail" ] || fail "writers failed: $(head -3 "$TMP/ingest-fail")"
ok

expect_status 0 "events --json" -- $B events --db "$DB" --json
cp "$TMP/out" "$TMP/events.jsonl"
expect_status 0 "list --all --json" -- $B list --all --db "$DB" --json
cp "$TMP/out" "$TMP/list.jsonl"
expect_status 0 "export" -- $B export --db "$DB"
cp "$TMP/out" "$TMP/export.jsonl"
python3 - "$TMP/events.jsonl" "$TMP/list.jsonl" "$TMP/export.jsonl" <<'PY' >"$TMP/check" 2>&1 || fail "feed check: $(cat "$TMP/check")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
seqs = [e["seq"] for e in events]
assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers with gaps or out of order: %s" % seqs[:20]
# The last change of every address is the entry the database holds.
last = {}
for e in events:
    last[(e["table"], e.get("address") or e.get("domain") or e.get("name"))] = e
listed = [json.loads(l) for l in open(sys.argv[2])]
assert len(listed) == 120 + 150 - 90, "suppressed: %d" % len(listed)
for s in listed:
    e = last[("address", s["address"])]
    assert s["seq"] == e["seq"], (s["address"], s["seq"], e["seq"])
    state = dict(e["state"])
    mine = {k: v for k, v in s.items() if k not in ("seq", "changed_at")}
    assert state == mine, (state, mine)
# Soft counters: the feed's last state of each is the exported one.
for line in open(sys.argv[3]):
    x = json.loads(line)
    if x.get("type") == "soft":
        e = last[("soft", x["address"])]
        assert e["state"]["days"] == x["days"], (x, e)
# What the changes were for travels with them.
camp = [e for e in events if e["campaign"]]
assert camp and all(e["campaign"].startswith("spring-") for e in camp), camp[:2]
assert all(e["list_id"] == "<news.example.org>" for e in events if e["table"] in ("address", "soft")), "list_id"
assert all(e["fingerprint"] and len(e["fingerprint"]) == 64 for e in events if e["table"] == "address")
print(len(events), "events")
PY
ok
echo "t-feed: $(cat "$TMP/check")"

# --since: only what came after.
n=$(wc -l <"$TMP/events.jsonl")
expect_status 0 "events --since" -- $B events --db "$DB" --json --since $((n - 2))
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "--since $((n - 2)) of $n: want 2 events, got $(wc -l <"$TMP/out")"
ok

# --follow wakes within a second of a commit (the fallback poll is 5 s).
$B events --db "$DB" --follow --since "$n" >"$TMP/follow" 2>&1 &
follower=$!
sleep 0.5
start=$(date +%s%N)
$B add --db "$DB" --reason manual fresh@example.com >/dev/null
waited=0
while ! grep -q fresh@example.com "$TMP/follow" && [ $waited -lt 60 ]; do
	sleep 0.05
	waited=$((waited + 1))
done
elapsed=$((($(date +%s%N) - start) / 1000000))
kill "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
grep -q "added.*fresh@example.com" "$TMP/follow" || fail "--follow did not print the new change: $(cat "$TMP/follow")"
ok
[ "$elapsed" -lt 2000 ] || fail "--follow took $elapsed ms to wake (want well under a second; 2 s allowed for a loaded machine)"
ok
echo "t-feed: --follow woke after $elapsed ms"

# list --since is about when the entry changed here: a 2024 bounce
# ingested now is new.
expect_status 0 "ingest an old bounce" -- sh -c "$B ingest --db '$DB' < '$CORPUS/dsn/exim-user-unknown.eml'"
expect_status 0 "list --since 1d" -- $B list --db "$DB" --since 1d
expect_grep "carol@example.net" "$TMP/out" "a 2024 bounce ingested today is listed by --since 1d"
expect_status 0 "show --json" -- $B show --json --db "$DB" carol@example.net
expect_grep '"seq":[1-9]' "$TMP/out" "show --json gives the change's sequence number"

# A dry run changes nothing, so it numbers nothing.
before=$($B events --db "$DB" | wc -l)
mkdir -p "$TMP/dry/new" "$TMP/dry/cur" "$TMP/dry/tmp"
gen "$TMP/dry/new" d 1 5
expect_status 0 "sweep --dry-run" -- $B sweep --dry-run --db "$DB" "$TMP/dry"
[ "$($B events --db "$DB" | wc -l)" -eq "$before" ] || fail "a dry run added events"
ok

done_testing
