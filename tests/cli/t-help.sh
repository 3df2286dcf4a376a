#!/bin/sh
# Every example a command's --help gives runs as written: the lines of its
# "Example" block, in the order of the command table, each through sh in a
# scratch home with the files they name (a Maildir, an mbox, a list, an
# ESP export...) and the database, paths under / moved under a scratch
# root.  An example that no longer runs is help that lies.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
ROOT=$TMP/root
export HOME=$TMP/home
WORK=$TMP/work
mkdir -p "$ROOT/var/lib" "$ROOT/etc" "$HOME" "$WORK" "$TMP/bin"

# The programs the examples name: bouncedb itself, and stand-ins for the
# list manager's (send-to, my-list-manager-sync), Mailman's, kcat's,
# postconf (which would change this machine's Postfix), ssh (the command
# runs here) and jq when it is not installed.
ln -s "$BOUNCEDB" "$TMP/bin/bouncedb"
printf '#!/bin/sh\nprintf "Bob Person <bob@example.com>\\nalice@example.com\\n"\n' >"$TMP/bin/mailman"
printf '#!/bin/sh\nexit 0\n' >"$TMP/bin/send-to"
printf '#!/bin/sh\ncat >/dev/null\n' >"$TMP/bin/my-list-manager-sync"
printf '#!/bin/sh\ncat >/dev/null\n' >"$TMP/bin/kcat"
printf '#!/bin/sh\nexit 0\n' >"$TMP/bin/postconf"   # never the real Postfix's configuration
printf '#!/bin/sh\nshift\nexec "$@"\n' >"$TMP/bin/ssh"   # ssh HOST CMD: CMD, here
command -v jq >/dev/null || printf '#!/bin/sh\ncat >/dev/null\n' >"$TMP/bin/jq"
chmod +x "$TMP/bin"/*
export PATH="$TMP/bin:$PATH"

# The configuration (a key file for sign, serve's sockets, a hook) and the default
# database.
printf 'k1 a-secret-that-is-long-enough-for-hmac\n' >"$TMP/keys"
chmod 600 "$TMP/keys"
# serve's sockets go where the scratch root's /run would be.
mkdir -p "$ROOT/run/bouncedb"
printf '[verify]\nkey_file = %s\n[serve]\nsocketmap = unix:%s/run/bouncedb/socketmap\npolicy = unix:%s/run/bouncedb/policy\nhttp = unix:%s/run/bouncedb/http\n' \
	"$TMP/keys" "$ROOT" "$ROOT" "$ROOT" >"$ROOT/etc/bouncedb.conf"
# hooks' examples run the hooks of the file: one list manager.
printf '[hooks]\nlists.command = my-list-manager-sync\n' >>"$ROOT/etc/bouncedb.conf"
export BOUNCEDB_CONFIG="$ROOT/etc/bouncedb.conf"
export BOUNCEDB_DB="$TMP/db"

# A Redis for the examples that name one (on a socket of ours, not on the
# port they give); without redis-server they are skipped.
REDIS=
if command -v redis-server >/dev/null 2>&1; then
	env -u LD_PRELOAD -u FAKETIME redis-server --port 0 --unixsocket "$TMP/redis.sock" --unixsocketperm 700 \
		--save "" --appendonly no --dir "$TMP" --logfile "$TMP/redis.log" &
	redis=$!
	trap 'kill "$redis" 2>/dev/null; wait "$redis" 2>/dev/null; rm -rf "$TMP"' EXIT
	i=0
	while [ ! -S "$TMP/redis.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -S "$TMP/redis.sock" ] && REDIS=unix:$TMP/redis.sock
fi

# maildir DIR: a Maildir holding some of the corpus's bounces
maildir() {
	mkdir -p "$1/new" "$1/cur" "$1/tmp"
	n=0
	for f in "$CORPUS"/dsn/*.eml; do
		n=$((n + 1))
		cp "$f" "$1/new/$n.eml"
		[ $n -lt 5 ] || break
	done
}
maildir "$HOME/Maildir/.bounces"
maildir "$HOME/Maildir/.Bounces"
maildir "$ROOT/srv/mail/bounces"
cp "$CORPUS/dsn/postfix-user-unknown.eml" "$HOME/Maildir/.bounces/cur/1700000000.M1P2.host:2,S"
cp "$CORPUS/dsn/exim-user-unknown.eml" "$WORK/bounce.eml"
for f in "$CORPUS/dsn/postfix-user-unknown.eml" "$CORPUS/dsn/exim-user-unknown.eml"; do
	echo "From MAILER-DAEMON Mon Nov 16 10:00:00 2026"
	sed 's/^From />From /' "$f"
	echo
done >"$WORK/old-bounces.mbox"
printf 'alice@example.com\nbob@example.com\ncarol@example.net\n' >"$WORK/list.txt"
printf 'id,email,name\n1,alice@example.com,Alice\n2,carol@example.net,Carol\n' >"$WORK/members.csv"
printf 'address,created_at\ncomplainer@example.com,"Sun, 15 Nov 2026 10:00:00 UTC"\n' >"$WORK/mailgun-complaints.csv"

# The commands, in the order of the command table.
"$BOUNCEDB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' >"$TMP/commands"
while read -r cmd; do
	"$BOUNCEDB" "$cmd" --help >"$TMP/help.$cmd"
	# The block after a line starting "Example", up to a blank line; a line
	# indented deeper continues the one before.
	awk '/^Example/ { on = 1; next } on && /^$/ { on = 0 }
	     on && /^    / { sub(/^ +/, " "); line = line $0; next }
	     on { if (line != "") print line; line = $0 }
	     END { if (line != "") print line }' "$TMP/help.$cmd" >"$TMP/examples.$cmd"
	ok
	[ -s "$TMP/examples.$cmd" ] || fail "$cmd --help gives no example"
	while IFS= read -r example; do
		case $example in
		*redis://*)
			[ -n "$REDIS" ] || { echo "t-help: no redis-server: skipped '$example'" >&2; continue; } ;;
		esac
		# Absolute paths move under the scratch root, a TCP port to a socket.
		run=$(printf '%s\n' "$example" | sed -e "s# /# $ROOT/#g" -e "s#redis://[^ ]*#$REDIS#g" \
			-e "s#127\.0\.0\.1:\([0-9]*\)#unix:$TMP/port-\1.sock#g")
		# One that follows, or serves, never ends: it must still run after 3 s.
		case $example in
		*--follow*|*"bouncedb serve"*) limit=3 want=124 ;;
		*) limit=120 want=0 ;;
		esac
		(cd "$WORK" && timeout "$limit" sh -c "$run") >"$TMP/out" 2>"$TMP/err" </dev/null
		got=$?
		ok
		# check says 1 when an address is suppressed, as documented.
		if [ "$got" -ne "$want" ] && ! { [ "$cmd" = check ] && [ "$got" -eq 1 ]; }; then
			fail "$cmd --help example exits $got:$example"
			sed 's/^/    stderr: /' "$TMP/err" | head -3 >&2
		fi
	done <"$TMP/examples.$cmd"
done <"$TMP/commands"

# They did what they say.
expect_status 0 "the sweep examples stored bounces" -- "$BOUNCEDB" list --db "$ROOT/var/lib/bouncedb"
[ -s "$TMP/out" ] || fail "sweep --db /var/lib/bouncedb stored nothing"
ok
[ -s "$WORK/backup.jsonl" ] && [ -s "$WORK/sendable.txt" ] && [ -s "$WORK/suppressions.csv" ] ||
	fail "the examples' output files are missing: $(ls "$WORK")"
ok

done_testing
