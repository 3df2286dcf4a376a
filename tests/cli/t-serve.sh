#!/bin/sh
# bouncedb serve with real clients: socketmap and policy requests over UNIX
# sockets (a Python client speaking the protocols), every HTTP endpoint
# with curl, malformed input of each protocol (answered, never a crash),
# the limits, /metrics through promtool, suppressions added while it runs,
# `prune --compact` while it runs, SIGHUP, systemd socket activation, and
# a reader of another user through [database] group.  Postfix itself
# talks to serve in t-serve-postfix.sh.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
DB=$TMP/db
S=$TMP/run
mkdir -p "$S"
cat >"$TMP/conf" <<CONF
[database]
lock_timeout_ms = 2000
[serve]
socketmap = unix:$S/socketmap
policy = unix:$S/policy
max_line_length = 600
max_connections = 8
idle_timeout = 2
max_request_size = 64k
metrics_interval = 0
access_complaint = REJECT 5.7.1 {address} complained ({reason})
transport_complaint = discard:complaint
CONF
B="$BOUNCEDB --config $TMP/conf"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
H=http://127.0.0.1:$PORT
SERVE=

have() {
	command -v "$1" >/dev/null 2>&1
}

stop_serve() {
	cp "$TMP/serve.log" "${SERVE_LOG:-/dev/null}" 2>/dev/null
	if [ -n "$SERVE" ]; then
		kill "$SERVE" 2>/dev/null
		wait "$SERVE" 2>/dev/null
		SERVE=
	fi
}
trap 'stop_serve; rm -rf "$TMP"' EXIT

# The protocols, spoken by a client: sm REQUEST... prints one reply a
# line; policy RECIPIENT... one action a line; raw SOCKET BYTES prints
# what comes back until the server closes or 3 s pass.
cat >"$TMP/client.py" <<'PY'
import socket, sys, time
def conn(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(5)
    return s
def read_netstring(s, buf):
    while b":" not in buf:
        buf += s.recv(4096)
    n, rest = buf.split(b":", 1)
    n = int(n)
    while len(rest) < n + 1:
        rest += s.recv(4096)
    assert rest[n:n + 1] == b",", rest
    return rest[:n].decode(), rest[n + 1:]
mode, path = sys.argv[1], sys.argv[2]
if mode == "sm":
    s = conn(path)
    buf = b""
    # All requests in one write: replies must come in order.
    s.sendall(b"".join(b"%d:%s," % (len(r.encode()), r.encode()) for r in sys.argv[3:]))
    for _ in sys.argv[3:]:
        reply, buf = read_netstring(s, buf)
        print(reply)
elif mode == "policy":
    s = conn(path)
    f = s.makefile("rb")
    for rcpt in sys.argv[3:]:
        # Byte by byte for the first: a request may come in any pieces.
        req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@lists.example.org\n"
               "recipient=%s\nclient_address=127.0.0.1\n\n" % rcpt).encode()
        if rcpt == sys.argv[3]:
            for i in range(len(req)):
                s.send(req[i:i + 1])
        else:
            s.sendall(req)
        print(f.readline().decode().rstrip("\n"))
        assert f.readline() == b"\n"
elif mode == "raw":
    s = conn(path)
    s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
    out = b""
    end = time.time() + 3
    try:
        while time.time() < end:
            d = s.recv(4096)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    sys.stdout.write(out.decode("utf-8", "replace"))
elif mode == "hold":
    # Hold N connections open for S seconds; print how many the server
    # closed at once.
    n, secs = int(sys.argv[3]), float(sys.argv[4])
    socks = [conn(path) for _ in range(n)]
    time.sleep(0.5)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    print(closed)
    time.sleep(secs)
PY
sm() {
	python3 "$TMP/client.py" sm "$S/socketmap" "$@"
}
policy() {
	python3 "$TMP/client.py" policy "$S/policy" "$@"
}

start_serve() {
	$B serve --db "$DB" --http "127.0.0.1:$PORT" "$@" 2>>"$TMP/serve.log" &
	SERVE=$!
	ok
	wait_for test -S "$S/socketmap" && wait_for curl -sf "$H/metrics" ||
		{ fail "serve did not start: $(tail -3 "$TMP/serve.log")"; return 1; }
}

# --- start ---------------------------------------------------------------
expect_status 66 "serve without a database" -- $B serve --db "$DB" --http "127.0.0.1:$PORT"
expect_grep "no database" "$TMP/err" "says there is no database"
$B add --db "$DB" --reason userunknown bob@example.net >/dev/null
$B import --db "$DB" --reason feedback - >/dev/null <<EOF
email,reason
carol@example.net,feedback
EOF
$B add --db "$DB" --reason hostunknown dead.example >/dev/null
expect_status 64 "a bad listener address" -- $B serve --db "$DB" --http nonsense:x
expect_status 0 "serve --help" -- $B serve --help
expect_grep "socketmap=ADDR" "$TMP/out" "serve --help names --socketmap"
start_serve
ok
[ "$(stat -c %a "$S/socketmap")" = 660 ] || fail "socket mode: $(stat -c %a "$S/socketmap"), want 660"

# --- socketmap -------------------------------------------------------------
sm "access bob@example.net" "access alice@example.net" "transport bob@example.net" \
	"access example.net" "access bob@" "access someone@dead.example" "access carol@example.net" \
	"transport carol@example.net" "access Bob@Example.NET" "nosuchmap bob@example.net" \
	"access not an address@" >"$TMP/sm.out" 2>"$TMP/sm.err"
ok
cat >"$TMP/sm.want" <<'EOF'
OK 550 5.1.1 <bob@example.net>: suppressed (userunknown since 2026-11-18) [bouncedb]
NOTFOUND 
OK error:5.1.1 <bob@example.net>: suppressed (userunknown since 2026-11-18) [bouncedb]
NOTFOUND 
NOTFOUND 
OK 550 5.1.1 <someone@dead.example>: suppressed (hostunknown since 2026-11-18) [bouncedb]
OK REJECT 5.7.1 carol@example.net complained (feedback) [bouncedb]
OK discard:complaint
OK 550 5.1.1 <bob@example.net>: suppressed (userunknown since 2026-11-18) [bouncedb]
PERM unknown map (bouncedb serves 'access' and 'transport')
NOTFOUND 
EOF
if ! cmp -s "$TMP/sm.out" "$TMP/sm.want"; then
	fail "socketmap replies"
	diff "$TMP/sm.want" "$TMP/sm.out" | sed 's/^/    /' >&2
	cat "$TMP/sm.err" >&2
fi

# --- policy ----------------------------------------------------------------
policy bob@example.net alice@example.net "" carol@example.net >"$TMP/po.out" 2>"$TMP/po.err"
ok
cat >"$TMP/po.want" <<'EOF'
action=550 5.1.1 <bob@example.net>: suppressed (userunknown since 2026-11-18) [bouncedb]
action=DUNNO
action=DUNNO
action=REJECT 5.7.1 carol@example.net complained (feedback) [bouncedb]
EOF
if ! cmp -s "$TMP/po.out" "$TMP/po.want"; then
	fail "policy replies"
	diff "$TMP/po.want" "$TMP/po.out" | sed 's/^/    /' >&2
	cat "$TMP/po.err" >&2
fi

# --- suppressions added while serve runs take effect at once ----------------
expect_status 0 "add while serving" -- $B add --db "$DB" --reason userunknown late@example.net
ok
[ "$(sm "access late@example.net")" = "OK 550 5.1.1 <late@example.net>: suppressed (userunknown since 2026-11-18) [bouncedb]" ] ||
	fail "socketmap: a suppression added while serving is not seen: $(sm "access late@example.net")"
expect_status 0 "remove while serving" -- $B remove --db "$DB" late@example.net
ok
[ "$(policy late@example.net)" = "action=DUNNO" ] || fail "policy: a removal while serving is not seen"

# --- malformed and oversized requests: answered, the connection closed -----
raw() {
	python3 "$TMP/client.py" raw "$@" 2>&1
}
for bad in 'x:access bob@example.net,' '22:access bob@example.net;' ':,' '99999999999999999999:' \
	"700:$(printf '%0700d' 0)," '3:abc,'; do
	out=$(raw "$S/socketmap" "$bad")
	ok
	case $out in
	*PERM*|*NOTFOUND*) ;;
	*) fail "socketmap '$(printf '%.30s' "$bad")': no PERM reply: '$out'" ;;
	esac
done
out=$(raw "$S/policy" 'no equals sign\n\n')
ok
case $out in action=DEFER_IF_PERMIT*) ;; *) fail "policy without '=': '$out'" ;; esac
out=$(raw "$S/policy" "recipient=$(printf '%0700d' 0)\n\n")
ok
case $out in action=DEFER_IF_PERMIT*max_line_length*) ;; *) fail "policy line too long: '$out'" ;; esac
# more than max_attributes (100)
out=$(python3 -c 'print("a=b\\n" * 101)' | xargs -0 python3 "$TMP/client.py" raw "$S/policy")
ok
case $out in action=DEFER_IF_PERMIT*attributes*) ;; *) fail "policy with 101 attributes: '$out'" ;; esac
# a policy request that is not for smtpd_access_policy
out=$(raw "$S/policy" 'request=junk\nrecipient=bob@example.net\n\n')
ok
[ "$out" = "action=DUNNO" ] || fail "policy request=junk: '$out'"

# --- HTTP ----------------------------------------------------------------
# code URL [CURL ARGS...]: the status, the body in $TMP/body
code() {
	url=$1
	shift
	curl -s -o "$TMP/body" -w '%{http_code}' "$@" "$url"
}
http_is() { # WANT DESCRIPTION URL [CURL ARGS...]
	want=$1 desc=$2
	shift 2
	got=$(code "$@")
	ok
	[ "$got" = "$want" ] || { fail "http $desc: $got, want $want"; head -3 "$TMP/body" | sed 's/^/    /' >&2; }
}
http_is 200 "check a suppressed address" "$H/v1/check?address=bob%40example.net"
expect_grep '"state":"suppressed"' "$TMP/body" "check: suppressed"
expect_grep '"reason":"userunknown"' "$TMP/body" "check: the reason"
http_is 200 "check a clean address" "$H/v1/check?address=alice@example.net"
expect_grep '"state":"ok"' "$TMP/body" "check: ok"
http_is 200 "check an address of a suppressed domain" "$H/v1/check?address=x@dead.example"
expect_grep '"domain":"dead.example"' "$TMP/body" "check: the domain's suppression"
# The same JSON as `check --json`.
$B check --json --db "$DB" bob@example.net >"$TMP/cli.json"
code "$H/v1/check?address=bob@example.net" >/dev/null
ok
cmp -s "$TMP/cli.json" "$TMP/body" || fail "/v1/check differs from check --json"
http_is 200 "address" "$H/v1/address/bob%40example.net"
$B show --json --db "$DB" bob@example.net >"$TMP/cli.json"
ok
cmp -s "$TMP/cli.json" "$TMP/body" || fail "/v1/address differs from show --json"
http_is 200 "address of a domain" "$H/v1/address/dead.example"
expect_grep '"domain":"dead.example"' "$TMP/body" "address: a domain"
printf 'alice@example.net\r\nbob@example.net\n\nnot an address\n  zed@example.org  \ncarol@example.net' >"$TMP/list"
http_is 200 "filter" "$H/v1/filter" --data-binary "@$TMP/list"
printf 'alice@example.net\n  zed@example.org  \n' >"$TMP/want"
ok
cmp -s "$TMP/want" "$TMP/body" || { fail "filter: the mailable lines"; cat "$TMP/body" >&2; }
http_is 200 "filter, the suppressed ones" "$H/v1/filter?suppressed=1" --data-binary "@$TMP/list"
printf 'bob@example.net\tuserunknown\ncarol@example.net\tfeedback\n' >"$TMP/want"
ok
cmp -s "$TMP/want" "$TMP/body" || { fail "filter ?suppressed=1"; cat "$TMP/body" >&2; }
http_is 200 "filter as JSON Lines" "$H/v1/filter?format=jsonl" --data-binary "@$TMP/list"
ok
[ "$(python3 -c 'import json, sys; print(" ".join(json.loads(l)["address"] for l in open(sys.argv[1])))' "$TMP/body")" = \
	"alice@example.net zed@example.org" ] || fail "filter jsonl: $(cat "$TMP/body")"
http_is 200 "filter of an empty list" "$H/v1/filter" --data-binary ""
# malformed
http_is 400 "check without an address" "$H/v1/check"
expect_grep '"error"' "$TMP/body" "a 400 says why, in JSON"
http_is 400 "check of an invalid address" "$H/v1/check?address=nonsense"
http_is 400 "check with bad percent-encoding" "$H/v1/check?address=%zz"
http_is 400 "address with bad percent-encoding" "$H/v1/address/%zz"
http_is 400 "address of nothing" "$H/v1/address/"
http_is 400 "address of an invalid address" "$H/v1/address/a@@b"
http_is 400 "filter with an unknown format" "$H/v1/filter?format=xml" --data-binary "a@b.c"
http_is 404 "an unknown endpoint" "$H/v2/nothing"
http_is 405 "POST to check" "$H/v1/check?address=bob@example.net" --data-binary ""
http_is 405 "GET of filter" "$H/v1/filter"
http_is 405 "DELETE of an address" "$H/v1/address/bob@example.net" -X DELETE
head -c 70000 /dev/zero | tr '\0' 'a' >"$TMP/big"
http_is 413 "a body over max_request_size" "$H/v1/filter" --data-binary "@$TMP/big"
http_is 411 "a chunked body" "$H/v1/filter" -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/list"
# A request line and headers that are not HTTP at all.
printf 'NONSENSE\r\n\r\n' | timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
s.settimeout(3)
print(s.recv(100).decode(errors="replace").split("\r\n")[0])' "$PORT" >"$TMP/out" 2>&1
expect_grep "400" "$TMP/out" "a request that is not HTTP is a 400"
# Keep-alive: several requests on one connection.
code "$H/v1/check?address=a@example.com" --next -s -o /dev/null "$H/v1/check?address=bob@example.net" >/dev/null
expect_grep '"state":"suppressed"' "$TMP/body" "two requests on one connection"

# Closed connections are not counted as open (libsoup 3.2 leaves one that
# its client closed between two requests: serve closes it).
ok
wait_for sh -c 'curl -s "$1/metrics" | grep -qx "bouncedb_connections 1"' sh "$H" ||
	fail "HTTP connections closed by their clients are still counted: $(curl -s "$H/metrics" | grep '^bouncedb_connections ')"

# --- metrics -------------------------------------------------------------
http_is 200 "metrics" "$H/metrics"
cp "$TMP/body" "$TMP/metrics"
expect_grep '^bouncedb_lookups_total{protocol="socketmap",answer="suppressed"} [1-9]' "$TMP/metrics" "metrics: socketmap lookups"
expect_grep '^bouncedb_lookups_total{protocol="http",answer="invalid"} [1-9]' "$TMP/metrics" "metrics: invalid HTTP lookups"
expect_grep '^bouncedb_suppressions{kind="imported",reason="feedback"} 1' "$TMP/metrics" "metrics: suppressions by kind and reason"
expect_grep '^bouncedb_suppressions{kind="domain",reason="hostunknown"} 1' "$TMP/metrics" "metrics: the domain"
expect_grep '^bouncedb_protocol_errors_total{protocol="socketmap"} [1-9]' "$TMP/metrics" "metrics: protocol errors"
expect_grep '^bouncedb_map_used_bytes [1-9]' "$TMP/metrics" "metrics: map use"
expect_grep '^bouncedb_last_write_timestamp_seconds [1-9]' "$TMP/metrics" "metrics: last write"
if have promtool; then
	expect_status 0 "promtool check metrics" -- sh -c 'promtool check metrics < "$1"' sh "$TMP/metrics"
	ok
	[ -s "$TMP/out" ] || [ -s "$TMP/err" ] && fail "promtool: $(cat "$TMP/out" "$TMP/err" | head -5)"
else
	echo "SKIP: promtool (prometheus) not installed: metrics not linted"
fi
# Strictly, whatever promtool says: every sample line is NAME{LABELS} VALUE
# of a family declared by # HELP and # TYPE before it.
python3 - "$TMP/metrics" >"$TMP/out" 2>&1 <<'PY'
import re, sys
typed = set()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$')
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if line.startswith("# TYPE "):
        typed.add(line.split()[2])
        continue
    if line.startswith("# HELP "):
        continue
    m = sample.match(line)
    if not m:
        sys.exit("line %d is not a sample: %r" % (n, line))
    if m.group(1) not in typed:
        sys.exit("line %d: %s has no # TYPE before it" % (n, m.group(1)))
PY
ok
[ -s "$TMP/out" ] && fail "metrics: $(cat "$TMP/out")"

# The Grafana dashboard in contrib/ plots metrics that serve exports.
python3 - "$SRCDIR/contrib/grafana/bouncedb-dashboard.json" "$TMP/metrics" >"$TMP/out" 2>&1 <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
have = {l.split()[2] for l in open(sys.argv[2]) if l.startswith("# TYPE ")}
for p in dash["panels"]:
    for t in p["targets"]:
        for name in re.findall(r"\bbouncedb_[a-z_]+", t["expr"]):
            if name not in have:
                print("panel %r: %s is not exported" % (p["title"], name))
PY
ok
[ -s "$TMP/out" ] && fail "grafana dashboard: $(cat "$TMP/out")"

# --- limits ----------------------------------------------------------------
# max_connections = 8: of 12 held at once, 4 are closed at once.
out=$(python3 "$TMP/client.py" hold "$S/socketmap" 12 0)
ok
[ "$out" = 4 ] || fail "max_connections 8: $out of 12 closed at once, want 4"
# idle_timeout = 2 s: an idle connection is closed.
out=$(timeout 10 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); t = time.time()
s.settimeout(8)
print("closed" if s.recv(1) == b"" else "data", round(time.time() - t))' "$S/socketmap")
ok
case $out in "closed 2"|"closed 3") ;; *) fail "idle_timeout 2 s: '$out'" ;; esac
ok
[ "$(sm "access bob@example.net" | cut -c1-6)" = "OK 550" ] || fail "serve stopped answering after the limits"

# --- prune --compact while serve runs ----------------------------------------
expect_status 0 "prune --compact while serving" -- $B prune --compact --db "$DB"
expect_grep "compacted" "$TMP/out" "the compaction was done"
expect_grep "a compaction waits" "$TMP/serve.log" "serve let the database go for it"
ok
[ "$(sm "access bob@example.net" "access alice@example.net" | tr '\n' '|')" = \
	"OK 550 5.1.1 <bob@example.net>: suppressed (userunknown since 2026-11-18) [bouncedb]|NOTFOUND |" ] ||
	fail "socketmap after the compaction"
expect_status 0 "add after the compaction" -- $B add --db "$DB" --reason userunknown after@example.net
ok
[ "$(policy after@example.net | cut -c1-10)" = "action=550" ] || fail "policy after the compaction: a new suppression not seen"
# A connection that stays open across the compaction keeps answering.
python3 - "$S/socketmap" "$B" "$DB" >"$TMP/out" 2>&1 <<'PY'
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
def q(k):
    b = ("access " + k).encode(); s.sendall(b"%d:%s," % (len(b), b)); return s.recv(4096).decode()
print(q("bob@example.net")[:12])
r = subprocess.run(sys.argv[2].split() + ["prune", "--compact", "--db", sys.argv[3]], capture_output=True)
print("compact", r.returncode)
print(q("bob@example.net")[:12])
print(q("alice@example.net"))
PY
ok
[ "$(tr '\n' '|' <"$TMP/out")" = "84:OK 550 5.|compact 0|84:OK 550 5.|9:NOTFOUND ,|" ] ||
	fail "a connection across a compaction: $(tr '\n' '|' <"$TMP/out")"

# --- SIGHUP: the database is let go, and opened again on demand ---------------
kill -HUP "$SERVE"
ok
wait_for grep -q "SIGHUP" "$TMP/serve.log" || fail "SIGHUP not logged"
ok
[ "$(sm "access bob@example.net" | cut -c1-6)" = "OK 550" ] || fail "after SIGHUP"

# --- stop ------------------------------------------------------------------
kill "$SERVE"
wait "$SERVE"
st=$?
SERVE=
ok
[ "$st" -eq 0 ] || fail "serve exited $st on SIGTERM"
ok
[ ! -e "$S/socketmap" ] || fail "the socket was left behind"

# --- socket activation ----------------------------------------------------------
if have systemd-socket-activate; then
	systemd-socket-activate -l "$S/act-sm" --fdname=socketmap -l "$S/act-po" --fdname=policy \
		-l "127.0.0.1:$PORT" --fdname=http \
		$B serve --db "$DB" 2>>"$TMP/serve.log" &
	SERVE=$!
	ok
	wait_for test -S "$S/act-sm" || fail "systemd-socket-activate did not listen"
	# The connection that starts serve: systemd-socket-activate (unlike
	# systemd) loses it on the way; the ones after it are served.
	python3 "$TMP/client.py" sm "$S/act-sm" "access bob@example.net" >/dev/null 2>&1
	wait_for grep -q "serving" "$TMP/serve.log"
	ok
	[ "$(python3 "$TMP/client.py" sm "$S/act-sm" "access bob@example.net" | cut -c1-6)" = "OK 550" ] ||
		fail "socket activation: socketmap"
	ok
	[ "$(python3 "$TMP/client.py" policy "$S/act-po" alice@example.net)" = "action=DUNNO" ] ||
		fail "socket activation: policy"
	http_is 200 "socket activation: http" "$H/v1/check?address=bob@example.net"
	expect_grep "systemd passed" "$TMP/serve.log" "serve used the passed sockets"
	stop_serve
else
	echo "SKIP: systemd-socket-activate not installed"
fi

# --- a reader of another user, through [database] group --------------------------
if [ "$(id -u)" -eq 0 ] && have setpriv && getent group nogroup >/dev/null; then
	SH=$TMP/shared
	mkdir -p "$SH"
	chmod 755 "$TMP"
	printf '[database]\ngroup = nogroup\n' >"$TMP/group.conf"
	expect_status 0 "add with [database] group" -- $BOUNCEDB --config "$TMP/group.conf" add --db "$SH/db" --reason userunknown g@example.net
	ok
	[ "$(stat -c '%a %G' "$SH/db/lock.mdb")" = "660 nogroup" ] || fail "lock.mdb: $(stat -c '%a %G' "$SH/db/lock.mdb"), want 660 nogroup"
	ok
	[ "$(stat -c '%a %G' "$SH/db/data.mdb")" = "640 nogroup" ] || fail "data.mdb: $(stat -c '%a %G' "$SH/db/data.mdb")"
	as_reader() {
		setpriv --reuid=nobody --regid=nogroup --init-groups "$@"
	}
	expect_status 1 "check as a member of the group" -- as_reader $BOUNCEDB check --db "$SH/db" g@example.net
	echo g@example.net >"$TMP/glist"
	echo ok@example.net >>"$TMP/glist"
	expect_status 0 "filter as a member of the group" -- sh -c 'setpriv --reuid=nobody --regid=nogroup --init-groups "$1" filter --db "$2" < "$3"' sh "$BOUNCEDB" "$SH/db" "$TMP/glist"
	expect_grep "^ok@example.net" "$TMP/out" "filter as a member: the clean one"
	expect_no_grep "g@example.net" "$TMP/out" "filter as a member: not the suppressed one"
	# Without the group: permission denied, 77, and filter writes nothing.
	expect_status 77 "check as a stranger" -- setpriv --reuid=nobody --regid=65000 --clear-groups $BOUNCEDB check --db "$SH/db" g@example.net
	expect_status 77 "filter as a stranger" -- sh -c 'setpriv --reuid=nobody --regid=65000 --clear-groups "$1" filter --db "$2" < "$3"' sh "$BOUNCEDB" "$SH/db" "$TMP/glist"
	ok
	[ -s "$TMP/out" ] && fail "filter as a stranger wrote: $(head -2 "$TMP/out")"
	# serve as a member of the group, and a compaction by the owner beside it.
	printf '[serve]\nsocketmap = unix:%s/g-sm\npolicy = none\nhttp = none\n' "$S" >"$TMP/gserve.conf"
	chmod 777 "$S"
	setpriv --reuid=nobody --regid=nogroup --init-groups \
		$BOUNCEDB --config "$TMP/gserve.conf" serve --db "$SH/db" 2>>"$TMP/serve.log" &
	SERVE=$!
	ok
	wait_for test -S "$S/g-sm" || fail "serve as a member of the group did not start: $(tail -2 "$TMP/serve.log")"
	ok
	[ "$(python3 "$TMP/client.py" sm "$S/g-sm" "access g@example.net" | cut -c1-6)" = "OK 550" ] ||
		fail "serve as a member of the group: socketmap"
	expect_status 0 "the owner compacts beside a group reader's serve" -- $BOUNCEDB --config "$TMP/group.conf" prune --compact --db "$SH/db"
	ok
	[ "$(python3 "$TMP/client.py" sm "$S/g-sm" "access g@example.net" | cut -c1-6)" = "OK 550" ] ||
		fail "serve as a member of the group after the compaction"
	stop_serve
else
	echo "SKIP: the shared-group checks need root and setpriv"
fi

done_testing
