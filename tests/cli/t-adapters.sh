#!/bin/sh
# The hook adapters of contrib/hooks, run by `bouncedb hooks run` as a list
# manager would meet them: the generic webhook and listmonk's bounce
# webhook against a local HTTP endpoint that checks what they send
# strictly, and Mailman 3 for real (a private instance: its own var dir,
# sqlite, the REST runner on a free loopback port).  A part whose program
# is missing is skipped with "SKIP: ..." (tests/install-deps installs them).
. "$(dirname "$0")/lib.sh"

H=$SRCDIR/contrib/hooks
DB=$TMP/db
C=$TMP/bouncedb.conf
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

skip() {
	echo "SKIP: $*"
}
B() {
	"$BOUNCEDB" --config "$C" --db "$DB" "$@"
}
freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# dsn RECIPIENT MESSAGE-ID [CAMPAIGN]: a bounce for RECIPIENT, returning
# the newsletter's headers (the campaign's among them)
dsn() {
	dsn_message "$1" "$2" "" "" bounces@lists.example.org "From: news@lists.example.org
To: $1
Subject: News
Message-ID: <news-$2@lists.example.org>
List-Id: <news.lists.example.org>${3:+
X-Listmonk-Campaign: $3}"
}
ingest() { # RECIPIENT MESSAGE-ID [CAMPAIGN]
	dsn "$@" >"$TMP/bounce.eml"
	B ingest <"$TMP/bounce.eml" || fail "ingest a bounce for $1"
}

# An HTTP endpoint on a free port: each request's method, path, headers and
# body as one JSON line in $TMP/requests; answers with the status in
# $TMP/answer (200 unless it says otherwise).
PORT=$(freeport)
cat >"$TMP/endpoint.py" <<'PY'
import http.server, json, os, sys
port, log, answer = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(log, "a") as f:
            f.write(json.dumps({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        code = int(open(answer).read()) if os.path.exists(answer) else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"data": true}' if code == 200 else b'{"message": "no"}')
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$TMP/endpoint.py" "$PORT" "$TMP/requests" "$TMP/answer" &
PIDS="$PIDS $!"
wait_for python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$PORT" ||
	fail "the test endpoint did not start"

# --- the generic webhook (curl) ---------------------------------------------------
if command -v curl >/dev/null 2>&1; then
	printf 's3cret-token\n' >"$TMP/token"
	chmod 600 "$TMP/token"
	cat >"$C" <<EOF
[hooks]
web.command = $H/webhook http://127.0.0.1:$PORT/bouncedb $TMP/token
EOF
	ingest wh1@example.com w1
	expect_status 0 "webhook: hooks run" -- B hooks run
	expect_status 0 "events --json" -- B events --json
	python3 - "$TMP/requests" "$TMP/out" "$(B events --json | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')" \
		>"$TMP/check" 2>&1 <<'PY' || fail "webhook: $(cat "$TMP/check")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
events = open(sys.argv[2]).read().splitlines()
assert len(reqs) == len(events) == 1, (len(reqs), len(events))
r = reqs[0]
assert r["path"] == "/bouncedb", r["path"]
assert r["headers"]["Content-Type"] == "application/json", r["headers"]
assert r["headers"]["Authorization"] == "Bearer s3cret-token", r["headers"]
assert r["headers"]["Idempotency-Key"].endswith("-1") and len(r["headers"]["Idempotency-Key"]) == 34, r["headers"]
assert r["body"] == events[0] + "\n", (r["body"], events[0])
PY
	ok
	# The receiver fails: the change stays and is retried.
	echo 503 >"$TMP/answer"
	ingest wh2@example.com w2
	expect_status 75 "webhook: the receiver fails" -- B hooks run
	expect_grep "exit 22" "$TMP/err" "curl's status is the hook's"
	rm -f "$TMP/answer"
	expect_status 0 "webhook: retried" -- B hooks run --retry-now
	ok
	[ "$(grep -c wh2@example.com "$TMP/requests")" -eq 2 ] || fail "webhook: want the change posted twice (failed, then taken)"
	rm -f "$TMP/requests"
else
	skip "curl not installed: the webhook adapter not tried"
fi

# --- listmonk's bounce webhook, checked strictly ----------------------------------
# listmonk's documented shape: POST /webhooks/bounce, JSON with email (or
# subscriber_uuid), campaign_uuid (optional), source, type (hard, soft or
# complaint) and meta (an escaped JSON string); Basic authentication.
rm -rf "$DB"
printf 'tok-123\n' >"$TMP/lm-token"
cat >"$C" <<EOF
[feed]
campaign_headers = X-Listmonk-Campaign
[hooks]
listmonk.command = $H/listmonk --url http://127.0.0.1:$PORT --user bouncedb --token-file $TMP/lm-token
EOF
ingest lm1@example.com l1 9f86b50d-5711-41c8-ab03-bc91c43d711b
B add --reason manual byhand@example.com >/dev/null
expect_status 0 "listmonk: hooks run" -- B hooks run
python3 - "$TMP/requests" >"$TMP/check" 2>&1 <<'PY' || fail "listmonk: $(cat "$TMP/check")"
import base64, json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 1, "want one request (a manual add is nothing to listmonk), got %d" % len(reqs)
r = reqs[0]
assert r["method"] == "POST" and r["path"] == "/webhooks/bounce", r
assert r["headers"]["Content-Type"] == "application/json"
assert r["headers"]["Authorization"] == "Basic " + base64.b64encode(b"bouncedb:tok-123").decode()
b = json.loads(r["body"])
allowed = {"subscriber_uuid", "email", "campaign_uuid", "source", "type", "meta"}
assert set(b) <= allowed, "unknown keys: %s" % (set(b) - allowed)
assert b.get("email") == "lm1@example.com", b
assert isinstance(b["source"], str) and b["source"], b
assert b["type"] in ("hard", "soft", "complaint") and b["type"] == "hard", b
assert b["campaign_uuid"] == "9f86b50d-5711-41c8-ab03-bc91c43d711b", b
assert re.match(r"^[0-9a-f-]{36}$", b["campaign_uuid"])
assert isinstance(b["meta"], str), "meta is an escaped JSON string"
meta = json.loads(b["meta"])
assert isinstance(meta, dict) and meta["seq"] == 1 and meta["status"] == "5.1.1", meta
PY
ok
rm -f "$TMP/requests"
# A refusal of this one change (unknown subscriber) is not retried forever;
# a refusal of our credentials is.
echo 400 >"$TMP/answer"
ingest lm2@example.com l2
expect_status 0 "listmonk: 400 for one change" -- B hooks run
expect_grep "HTTP 400" "$TMP/err" "listmonk: the refusal is said"
echo 401 >"$TMP/answer"
ingest lm3@example.com l3
expect_status 75 "listmonk: 401 is retried" -- B hooks run
rm -f "$TMP/answer" "$TMP/requests"

# --- Mailman 3, for real ------------------------------------------------------------
if ! command -v mailman >/dev/null 2>&1 || [ ! -x /usr/lib/mailman3/bin/runner ]; then
	skip "mailman3 not installed (Debian package mailman3): the Mailman 3 adapter not tried"
else
	MM=$TMP/mailman
	MPORT=$(freeport)
	mkdir -p "$MM/var"
	cat >"$MM/mailman.cfg" <<EOF
[mailman]
layout: test
site_owner: postmaster@lists.example.org
[paths.test]
var_dir: $MM/var
log_dir: $MM/var/logs
lock_dir: $MM/var/locks
pid_file: $MM/var/master.pid
[database]
class: mailman.database.sqlite.SQLiteDatabase
url: sqlite:///$MM/var/mailman.db
[webservice]
hostname: 127.0.0.1
port: $MPORT
admin_user: restadmin
admin_pass: restpass
[mta]
incoming: mailman.mta.null.NullMTA
smtp_host: 127.0.0.1
smtp_port: 9
EOF
	root=
	[ "$(id -u)" -eq 0 ] && root=--run-as-root
	mm() {
		mailman $root -C "$MM/mailman.cfg" "$@"
	}
	expect_status 0 "mailman create" -- mm create news@lists.example.org
	printf 'alice@example.com\nbob@example.com\n' >"$MM/members"
	expect_status 0 "mailman addmembers" -- mm addmembers "$MM/members" news@lists.example.org
	# The REST runner (gunicorn) on the real clock: under tests/run-all's
	# faketime its arbiter sees its workers' heartbeat files a year old and
	# kills them one after another.
	env -u LD_PRELOAD -u FAKETIME /usr/lib/mailman3/bin/runner -C "$MM/mailman.cfg" -r rest >"$MM/rest.log" 2>&1 &
	PIDS="$PIDS $!"
	printf 'restpass\n' >"$MM/password"
	# status ADDRESS: the member's delivery_status, through the REST API
	status() {
		python3 - "$MPORT" "$1" <<'PY'
import base64, json, sys, urllib.request
port, addr = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Basic " + base64.b64encode(b"restadmin:restpass").decode()}
base = "http://127.0.0.1:%s/3.1" % port
def get(path):
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=auth), timeout=10) as r:
        return json.load(r)
m = get("/members/find?subscriber=%s" % addr)["entries"][0]
print(get("/members/%s/preferences" % m["member_id"]).get("delivery_status", "enabled"))
PY
	}
	if ! wait_for status alice@example.com; then
		fail "mailman: the REST runner did not answer on 127.0.0.1:$MPORT"
		tail -5 "$MM/rest.log" | sed 's/^/    rest.log: /' >&2
	else
		rm -rf "$DB"
		cat >"$C" <<EOF
[hooks]
mailman.command = $H/mailman3 --url http://127.0.0.1:$MPORT/3.1 --password-file $MM/password
mailman.changes = suppressed;complaint;inactive;removed
EOF
		expect_status 0 "mailman: alice's status before" -- status alice@example.com
		expect_grep "^enabled" "$TMP/out" "mailman: alice receives mail"
		ingest alice@example.com mm1
		expect_status 0 "mailman: hooks run" -- B hooks run
		expect_status 0 "mailman: alice's status" -- status alice@example.com
		expect_grep "^by_bounces" "$TMP/out" "mailman: a hard bounce disables alice's delivery (by_bounces)"
		expect_status 0 "mailman: bob's status" -- status bob@example.com
		expect_grep "^enabled" "$TMP/out" "mailman: bob is untouched"
		# Lifted by hand: delivery back on.
		B remove alice@example.com >/dev/null
		expect_status 0 "mailman: hooks run after remove" -- B hooks run
		expect_status 0 "mailman: alice's status after remove" -- status alice@example.com
		expect_grep "^enabled" "$TMP/out" "mailman: a removed suppression enables delivery again"
		# Not a member anywhere: taken, nothing to do.
		ingest nobody@example.com mm2
		expect_status 0 "mailman: a non-member" -- B hooks run
		expect_status 0 "hooks" -- B hooks
		expect_grep "mailman .*backlog 0 .*ok" "$TMP/out" "mailman: everything taken"
	fi
fi

done_testing
