#!/bin/sh
# Forged-bounce protection: signed envelope senders, through ingest and sweep.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000   # 2026-11-18
printf 'k1 a-secret-that-is-long-enough-for-hmac\n' >"$TMP/keys"
chmod 600 "$TMP/keys"
cat >"$TMP/bouncedb.conf" <<CONF
[verify]
enabled = true
key_file = $TMP/keys
base = bounces@lists.example.org
max_age_days = 7
CONF
B="$BOUNCEDB --config $TMP/bouncedb.conf"

# A bounce for recipient $1, delivered to envelope sender $2.
dsn() {
	dsn_message "$1" "$3" 5.1.1 "" "$2"
}

expect_status 0 "sign" -- $B sign Alice@Example.com bob@example.com
ALICE=$(sed -n 1p "$TMP/out")
BOB=$(sed -n 2p "$TMP/out")
case $ALICE in bounces+k1.*@lists.example.org) ok ;; *) fail "signed address looks wrong: $ALICE" ;; esac
[ "$ALICE" != "$BOB" ] || fail "two recipients got the same token"
ok
expect_status 64 "sign without a base" -- "$BOUNCEDB" sign --key-file "$TMP/keys" a@example.com
printf 'k1 short\n' >"$TMP/badkeys"
chmod 600 "$TMP/badkeys"
expect_status 78 "a bad key file is a configuration error" -- "$BOUNCEDB" sign --key-file "$TMP/badkeys" --base b@example.org a@example.com
# A key file others may read signs for anyone who reads it: refused, like
# ssh refuses such a private key (it drew no warning at all).
cp "$TMP/keys" "$TMP/openkeys"
for m in 644 604 660; do
	chmod "$m" "$TMP/openkeys"
	expect_status 78 "a key file of mode $m" -- "$BOUNCEDB" sign --key-file "$TMP/openkeys" --base b@example.org a@example.com
	expect_grep "must be private" "$TMP/err" "says why a key file of mode $m is refused"
done
sed "s#$TMP/keys#$TMP/openkeys#" "$TMP/bouncedb.conf" >"$TMP/open.conf"
chmod 644 "$TMP/openkeys"
expect_status 75 "ingest with an open key file (the MTA retries)" -- \
	sh -c "'$BOUNCEDB' --config '$TMP/open.conf' ingest --db '$TMP/opendb' < '$CORPUS/dsn/exim-user-unknown.eml'"
expect_grep "must be private" "$TMP/err" "ingest says why"
chmod 640 "$TMP/openkeys"
expect_status 0 "a key file its group may read" -- "$BOUNCEDB" sign --key-file "$TMP/openkeys" --base b@example.org a@example.com

# Genuine: comes back to alice's signed address.
dsn alice@example.com "$ALICE" g1 >"$TMP/genuine.eml"
expect_status 0 "ingest a genuine bounce" -- sh -c "$B ingest --db '$TMP/db' < '$TMP/genuine.eml'"
expect_status 1 "genuine bounce suppresses" -- $B check --db "$TMP/db" alice@example.com

# Forged: names carol, sent to the plain bounce address.
dsn carol@example.com bounces@lists.example.org f1 >"$TMP/forged.eml"
expect_status 0 "ingest a forged bounce (exit 0, kept)" -- sh -c "$B ingest --db '$TMP/db' --keep '$TMP/keep' < '$TMP/forged.eml'"
expect_grep "signed envelope sender" "$TMP/err" "says why it was kept"
expect_status 0 "forged bounce does not suppress" -- $B check --db "$TMP/db" carol@example.com
[ "$(ls "$TMP/keep/new" | wc -l)" -eq 1 ] || fail "forged bounce not kept"
ok
expect_status 0 "the forged report is recorded" -- $B show --json --db "$TMP/db" carol@example.com
expect_grep '"disposition":"forged"' "$TMP/out" "history marks it forged"

# Replayed: alice's genuine token on a report naming bob.
dsn bob@example.com "$ALICE" r1 >"$TMP/replayed.eml"
expect_status 0 "ingest a replayed token" -- sh -c "$B ingest --db '$TMP/db' --keep '$TMP/keep' < '$TMP/replayed.eml'"
expect_status 0 "replayed token does not suppress bob" -- $B check --db "$TMP/db" bob@example.com

# Mallory signs with her own token and names a victim as the original
# recipient: the token covers Mallory only.
expect_status 0 "sign mallory" -- $B sign mallory@example.net
MALLORY=$(cat "$TMP/out")
dsn mallory@example.net "$MALLORY" o1 |
	sed 's/^Final-Recipient: .*/Original-Recipient: rfc822; victim@example.com\n&/' >"$TMP/orcpt.eml"
expect_grep "Original-Recipient: rfc822; victim@example.com" "$TMP/orcpt.eml" "fixture names the victim"
expect_status 0 "ingest a report naming a victim in Original-Recipient" -- sh -c "$B ingest --db '$TMP/db' < '$TMP/orcpt.eml'"
expect_status 0 "the victim is not suppressed" -- $B check --db "$TMP/db" victim@example.com
expect_status 0 "the victim's history says forged" -- $B show --json --db "$TMP/db" victim@example.com
expect_grep '"disposition":"forged"' "$TMP/out" "victim's event is forged"
expect_status 1 "the token's own recipient is" -- $B check --db "$TMP/db" mallory@example.net

# Expired: bob's token, arriving 30 days later.
dsn bob@example.com "$BOB" e1 >"$TMP/expired.eml"
expect_status 0 "ingest an old token" -- sh -c "BOUNCEDB_NOW=1797600000 $B ingest --db '$TMP/db' --keep '$TMP/keep' < '$TMP/expired.eml'"
expect_status 0 "expired token does not suppress" -- $B check --db "$TMP/db" bob@example.com

# A sweep quarantines what it refuses.
mkdir -p "$TMP/md/new" "$TMP/md/cur" "$TMP/md/tmp"
dsn dave@example.com bounces@lists.example.org s1 >"$TMP/md/new/forged"
dsn bob@example.com "$BOB" s2 >"$TMP/md/new/genuine"
# The files are written today, after the pinned clock: a sweep must take
# the pinned time as their arrival, not their mtime in its future.
expect_status 0 "sweep with verification" -- $B sweep --json --db "$TMP/db" "$TMP/md"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['forged']==1 and s['quarantined']==1 and s['suppressed']==1, s" "$TMP/out" \
	|| fail "sweep summary with a forged report"
ok
[ -f "$TMP/md/.Quarantine/new/forged" ] || fail "forged report not in .Quarantine"
ok
expect_status 1 "the genuine one suppressed bob" -- $B check --db "$TMP/db" bob@example.com

# A forged report naming a thousand recipients leaves one event, with a
# bounded summary, and a bounded copy: 20 such reports grew a database by
# 12 MB and kept 8 MB of copies.
python3 - "$TMP/many.eml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("""From: MAILER-DAEMON@mx.example.net
To: bounces@lists.example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <many@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="XX"

--XX
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
""")
    for i in range(1000):
        f.write("\nFinal-Recipient: rfc822; victim%d@example.com\nAction: failed\nStatus: 5.1.1\n"
                "Diagnostic-Code: smtp; 550 5.1.1 <victim%d@example.com>: Recipient address rejected: "
                "User unknown in virtual mailbox table (and a long text to make the report large)\n" % (i, i))
    f.write("\n--XX--\n")
PY
forged_events() {
	$B stats --json --db "$TMP/db" | python3 -c "import json,sys; print(sum(d['count'] for d in json.load(sys.stdin)['by_disposition'] if d['key'] == 'forged'))"
}
before=$(du -k "$TMP/db/data.mdb" | cut -f1)
events_before=$(forged_events)
expect_status 0 "ingest a forged report naming 1000 recipients" -- sh -c "$B ingest --db '$TMP/db' --keep '$TMP/keep-many' < '$TMP/many.eml'"
[ "$(forged_events)" -eq $((events_before + 1)) ] || fail "a forged report of 1000 recipients left $(( $(forged_events) - events_before )) events"
ok
expect_status 0 "the first victim's history" -- $B show --json --db "$TMP/db" victim0@example.com
python3 - "$TMP/out" <<'PY' || fail "summary event: $(cat "$TMP/out")"
import json, sys
e = json.load(open(sys.argv[1]))["events"]
assert len(e) == 1 and e[0]["disposition"] == "forged", e
d = e[0]["diagnostic"]
assert "1000 recipient(s)" in d and "victim1@example.com" in d and "more" in d and len(d) <= 512, d
PY
ok
expect_status 0 "the last victim has no event" -- $B show --json --db "$TMP/db" victim999@example.com
expect_no_grep '"disposition"' "$TMP/out" "no event per forged recipient"
after=$(du -k "$TMP/db/data.mdb" | cut -f1)
[ $((after - before)) -lt 100 ] || fail "a forged report grew the database by $((after - before)) KiB"
ok
kept=$(ls "$TMP/keep-many/new")
size=$(stat -c %s "$TMP/keep-many/new/$kept")
[ "$size" -le 66000 ] && [ "$(stat -c %s "$TMP/many.eml")" -gt 200000 ] || fail "the kept copy of a forged report is $size bytes"
grep -q "^X-Bouncedb-Cut: forged report" "$TMP/keep-many/new/$kept" || fail "the cut copy does not say it was cut"
ok

# Without verification the same forged report is read like any other.
expect_status 0 "verification off" -- sh -c "'$BOUNCEDB' ingest --db '$TMP/db2' < '$TMP/forged.eml'"
expect_status 1 "unprotected database believes it" -- "$BOUNCEDB" check --db "$TMP/db2" carol@example.com

# --- sign --verp: the recipient and the token together ---------------------------
expect_status 0 "sign --verp" -- $B sign --verp erin@example.com
ERIN=$(cat "$TMP/out")
case $ERIN in bounces+erin=example.com+k1.*@lists.example.org) ok ;; *) fail "VERP-signed address looks wrong: $ERIN" ;; esac
# A notice whose text names nobody, come back to erin's signed VERP
# address: attributed by the address, verified by its token.
useless() {
	cat <<MSG
Delivered-To: $1
From: MAILER-DAEMON@mx.example.net
To: $1
Subject: Delivery failure
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <$2@mx.example.net>

Your message could not be delivered.
550 5.1.1 mailbox unavailable
MSG
}
useless "$ERIN" v1 >"$TMP/verp.eml"
expect_status 0 "explain a VERP bounce" -- $B explain "$TMP/verp.eml"
expect_grep "^erin@example.com" "$TMP/out" "explain: the recipient from the VERP address"
expect_grep "source  *verp" "$TMP/out" "explain: the evidence is verp"
expect_status 0 "ingest a VERP bounce whose text names nobody" -- sh -c "$B ingest --db '$TMP/db' < '$TMP/verp.eml'"
expect_status 1 "the signed VERP bounce suppresses erin" -- $B check --db "$TMP/db" erin@example.com
# Mailman's format decodes the same way (unsigned: believed when not verifying).
useless news-bounces+frank=example.com@lists.example.org v2 >"$TMP/mailman.eml"
expect_status 0 "explain a Mailman VERP bounce" -- "$BOUNCEDB" explain "$TMP/mailman.eml"
expect_grep "^frank@example.com" "$TMP/out" "Mailman's LIST-bounces+local=domain"
expect_status 0 "ingest it without verification" -- sh -c "'$BOUNCEDB' ingest --db '$TMP/db3' < '$TMP/mailman.eml'"
expect_status 1 "frank is suppressed" -- "$BOUNCEDB" check --db "$TMP/db3" frank@example.com
# A report that names someone else than its VERP address: explain shows
# the mismatch, the report's recipient wins, and erin's token does not
# cover him.
dsn grace@example.com "$ERIN" v3 >"$TMP/mismatch.eml"
expect_status 0 "explain a mismatch" -- $B explain "$TMP/mismatch.eml"
expect_grep "^grace@example.com" "$TMP/out" "the report's own recipient wins"
expect_grep "verp mismatch  *erin@example.com" "$TMP/out" "explain shows the VERP recipient that differs"
expect_status 0 "ingest the mismatch" -- sh -c "$B ingest --db '$TMP/db' --keep '$TMP/keep' < '$TMP/mismatch.eml'"
expect_status 0 "a token for erin does not suppress grace" -- $B check --db "$TMP/db" grace@example.com

done_testing
