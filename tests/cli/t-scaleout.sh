#!/bin/sh
# Many hosts, one answer: two MX hosts ingest different and overlapping
# bounces, publish their changes to a real Redis stream each and apply each
# other's; a query host applies both.  All three must export the same
# database; so must a query host killed with -9 in the middle of applying,
# and fresh databases fed the changes shuffled and partly twice.
. "$(dirname "$0")/lib.sh"

if ! command -v redis-server >/dev/null 2>&1; then
	echo "t-scaleout: redis-server is not installed (tests/install-deps installs it): nothing tried" >&2
	fail "redis-server missing"
	done_testing
	exit 1
fi

B=$BOUNCEDB
export BOUNCEDB_NOW=1795000000   # 2026-11-18
SOCK=$TMP/redis.sock
# The server runs on the real clock: CI runs the shell tests once more under
# faketime, which the server's own timers do not survive.
env -u LD_PRELOAD -u FAKETIME redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
	--save "" --appendonly no --dir "$TMP" --logfile "$TMP/redis.log" &
redis=$!
trap 'kill "$redis" 2>/dev/null; wait "$redis" 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -S "$SOCK" ] || { fail "redis-server did not start: $(tail -3 "$TMP/redis.log")"; done_testing; exit 1; }
ok
R=unix:$SOCK

# gen DIR PREFIX FIRST LAST DAYOFFSET: hard bounces PREFIXn@example.com, and
# for every fourth a soft bounce for one of four shared addresses, dated
# DAYOFFSET days before the pinned clock (so two hosts see some same days).
gen() {
	python3 - "$@" <<'PY'
import os, sys, time
d, prefix, first, last, off = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
os.makedirs(d, exist_ok=True)
now = 1795000000
for i in range(first, last + 1):
    rcpt, status = "%s%d@example.com" % (prefix, i), "5.1.1"
    when = now - (off + i % 5) * 86400 - i
    if i % 4 == 0:
        rcpt, status = "soft%d@example.com" % (i % 3), "4.2.2"
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    with open(os.path.join(d, "%s%d" % (prefix, i)), "w") as f:
        f.write("""From: MAILER-DAEMON@mx.example.net
To: news@example.org
Subject: Undelivered Mail Returned to Sender
Date: %s
Message-ID: <%s%d.%d@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: %s

Final-Recipient: rfc822; %s
Action: failed
Status: %s
Last-Attempt-Date: %s

--XX--
""" % (date, prefix, i, off, date, rcpt, status, date))
PY
}

# What each MX host receives: its own bounces, and the same twenty
# bounces delivered to both.
gen "$TMP/mx1" one 1 60 1
gen "$TMP/mx2" two 1 60 2
gen "$TMP/both" both 1 20 3
for h in mx1 mx2; do
	mkdir -p "$TMP/$h-md/new" "$TMP/$h-md/cur" "$TMP/$h-md/tmp"
	cp "$TMP/$h"/* "$TMP/both"/* "$TMP/$h-md/new/"
	expect_status 0 "$h sweeps" -- $B sweep --db "$TMP/$h.db" "$TMP/$h-md"
done
# mx1's operator lifts both5 by hand; mx2 still holds it, on evidence
# older than the removal: the removal must win everywhere.
expect_status 0 "mx1 removes both5" -- $B remove --db "$TMP/mx1.db" both5@example.com
expect_status 1 "mx2 still suppresses both5" -- $B check --db "$TMP/mx2.db" both5@example.com

for h in mx1 mx2; do
	expect_status 0 "$h publishes" -- $B publish --db "$TMP/$h.db" --redis "$R" --stream "$h"
done
expect_status 0 "mx1 applies mx2's stream" -- $B apply --db "$TMP/mx1.db" --redis "$R" --stream mx2 --group mx1
expect_status 0 "mx2 applies mx1's stream" -- $B apply --db "$TMP/mx2.db" --redis "$R" --stream mx1 --group mx2
for s in mx1 mx2; do
	expect_status 0 "the query host applies $s" -- $B apply --db "$TMP/q.db" --redis "$R" --stream "$s" --group q
done
# What the MX hosts took from each other is not published again.
for h in mx1 mx2; do
	expect_status 0 "$h publishes again" -- $B publish --db "$TMP/$h.db" --redis "$R" --stream "$h"
	expect_grep " 0 changes sent" "$TMP/err" "$h sends nothing it took from the other"
done

exported() {
	$B export --db "$1" | tail -n +2 | sort
}
exported "$TMP/q.db" >"$TMP/q.export"
for h in mx1 mx2; do
	exported "$TMP/$h.db" >"$TMP/$h.export"
	cmp -s "$TMP/q.export" "$TMP/$h.export" ||
		fail "$h and the query host differ: $(diff "$TMP/q.export" "$TMP/$h.export" | head -4)"
	ok
done
n=$(grep -c '"type":"suppression"' "$TMP/q.export")
# 45 + 45 of their own, 15 shared (one of them removed), and the three
# soft-bouncing addresses made inactive.
[ "$n" -eq $((45 + 45 + 15 + 3)) ] || fail "query host: $n suppressions, want 108"
ok
expect_status 0 "both5 is lifted on the query host" -- $B check --db "$TMP/q.db" both5@example.com
expect_status 0 "and on mx2" -- $B check --db "$TMP/mx2.db" both5@example.com
expect_status 1 "both6 is suppressed on the query host" -- $B check --db "$TMP/q.db" both6@example.com
# A soft bounce the two hosts both saw counts once.
python3 - "$TMP/q.export" <<'PY' || fail "soft counters merged wrongly"
import json, sys
soft = [json.loads(l) for l in open(sys.argv[1]) if '"type":"soft"' in l]
assert len(soft) == 3, soft
for s in soft:
    assert s["days"] == sorted(set(s["days"])), s
PY
ok

# A query host killed with -9 in the middle of applying converges too.
( $B apply --db "$TMP/k.db" --redis "$R" --stream mx1 --group k --follow --quiet ) &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
for s in mx1 mx2; do
	expect_status 0 "the killed host applies $s again" -- $B apply --db "$TMP/k.db" --redis "$R" --stream "$s" --group k
done
exported "$TMP/k.db" >"$TMP/k.export"
cmp -s "$TMP/q.export" "$TMP/k.export" || fail "killed host differs: $(diff "$TMP/q.export" "$TMP/k.export" | head -4)"
ok

# Order does not matter, nor twice: the same changes shuffled, a third of
# them repeated, into fresh databases, twenty times.
$B events --db "$TMP/mx1.db" --json >"$TMP/all.jsonl"
$B events --db "$TMP/mx2.db" --json >>"$TMP/all.jsonl"
for round in $(seq 1 20); do
	python3 - "$TMP/all.jsonl" "$round" >"$TMP/shuffled.jsonl" <<'PY'
import random, sys
lines = open(sys.argv[1]).read().splitlines()
rnd = random.Random(int(sys.argv[2]))
lines += rnd.sample(lines, len(lines) // 3)
rnd.shuffle(lines)
print("\n".join(lines))
PY
	rm -rf "$TMP/p.db"
	$B apply --db "$TMP/p.db" --quiet "$TMP/shuffled.jsonl" || fail "round $round: apply failed"
	exported "$TMP/p.db" >"$TMP/p.export"
	cmp -s "$TMP/q.export" "$TMP/p.export" ||
		{ fail "round $round: a shuffled order gives another database: $(diff "$TMP/q.export" "$TMP/p.export" | head -4)"; break; }
	ok
done

# Own changes coming back are skipped; a line that is not a change stops.
expect_status 0 "mx1 applies its own changes" -- $B apply --db "$TMP/mx1.db" "$TMP/all.jsonl"
expect_grep "were its own" "$TMP/err" "says they were its own"
printf '{"not":"a change"}\n' >"$TMP/bad.jsonl"
expect_status 65 "a line that is not a change" -- $B apply --db "$TMP/q.db" "$TMP/bad.jsonl"
expect_grep "bad.jsonl" "$TMP/err" "names the input"

done_testing
