#!/bin/sh
# Habits of a Unix tool, for every command: "--" ends the options, --db and
# --config go before or after the command name, "help CMD" is "CMD --help",
# usage lines name the command once, a short option means one thing.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
DB=$TMP/db
B=$BOUNCEDB
COMMANDS="parse explain ingest sweep check filter show list stats events publish apply hooks export import add remove prune serve sign config"

# --db before the command, and "--" before an address.
expect_status 0 "--db before the command" -- $B --db "$DB" add --reason manual -- gone@example.com
expect_status 1 "check -- ADDRESS" -- $B check --db "$DB" -- gone@example.com
expect_grep "^gone@example.com" "$TMP/out" "the address after -- is checked"
expect_no_grep "^--" "$TMP/out" "-- is not read as an address"
expect_status 1 "--db before the command, check" -- $B --db "$DB" check gone@example.com
expect_status 0 "-- in the middle" -- $B check --db "$DB" ok@example.com -- other@example.com
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "check a -- b: want two answers, got $(cat "$TMP/out")"
ok
expect_status 0 "show --" -- $B show --db "$DB" -- gone@example.com
expect_grep "gone@example.com" "$TMP/out" "show after --"
expect_status 0 "remove --" -- $B remove --db "$DB" -- gone@example.com
expect_status 0 "list --" -- $B list --db "$DB" --
expect_status 0 "stats --" -- $B stats --db "$DB" --
expect_status 0 "export --" -- $B export --db "$DB" --
expect_status 0 "events --" -- $B events --db "$DB" --
expect_status 0 "prune --" -- $B prune --db "$DB" --
printf 'a@example.com\n' >"$TMP/list"
expect_status 0 "filter --" -- sh -c "$B filter --db '$DB' -- < '$TMP/list'"
expect_grep "^a@example.com" "$TMP/out" "filter after --"
expect_status 0 "parse --" -- $B parse -- "$CORPUS/dsn/exim-user-unknown.eml"
expect_grep "user" "$TMP/out" "parse reads the file after --"
expect_status 0 "explain --" -- $B explain -- "$CORPUS/dsn/exim-user-unknown.eml"
expect_status 0 "ingest --" -- sh -c "$B ingest --db '$DB' -- < '$CORPUS/dsn/exim-user-unknown.eml'"
mkdir -p "$TMP/md/new" "$TMP/md/cur" "$TMP/md/tmp"
expect_status 0 "sweep --" -- $B sweep --db "$DB" -- "$TMP/md"
$B export --db "$DB" >"$TMP/export.jsonl"
expect_status 0 "import --" -- $B import --db "$DB" -- "$TMP/export.jsonl"
printf 'k1 a-secret-that-is-long-enough-for-hmac\n' >"$TMP/keys"
chmod 600 "$TMP/keys"
expect_status 0 "sign --" -- $B sign --key-file "$TMP/keys" --base b@lists.example.org -- a@example.com
expect_grep "^b+k1\." "$TMP/out" "sign after --"

# --config after the command, the same as before it.
cat >"$TMP/conf" <<CONF
[database]
path = $TMP/confdb
CONF
expect_status 0 "--config after the command" -- $B add --config "$TMP/conf" --reason manual c@example.com
[ -d "$TMP/confdb" ] || fail "--config after the command was not read"
ok
expect_status 1 "-c after the command" -- $B check -c "$TMP/conf" c@example.com
expect_status 1 "--config before the command" -- $B --config "$TMP/conf" check c@example.com

# help CMD, and usage lines that name the command once.
for cmd in $COMMANDS; do
	expect_status 0 "help $cmd" -- $B help "$cmd"
	cp "$TMP/out" "$TMP/help"
	expect_status 0 "$cmd --help" -- $B "$cmd" --help
	cmp -s "$TMP/out" "$TMP/help" || fail "'help $cmd' differs from '$cmd --help'"
	ok
	line=$(sed -n 2p "$TMP/out")
	case $line in
	"  bouncedb $cmd [OPTION"*) ok ;;
	*) fail "$cmd --help: usage line is '$line'" ;;
	esac
	case $line in
	*" $cmd "*" $cmd"*) fail "$cmd --help: the command appears twice in '$line'" ;;
	*) ok ;;
	esac
done
expect_status 64 "help for no such command" -- $B help frobnicate
expect_grep "not a command" "$TMP/err" "says so"

# One meaning per short option letter across all commands.
for cmd in $COMMANDS; do
	$B "$cmd" --help | sed -n -E 's/^ +-([[:alnum:]]), (--[[:alnum:]-]+).*/\1 \2/p'
done | sort -u >"$TMP/shorts"
ok
dups=$(cut -d' ' -f1 "$TMP/shorts" | uniq -d)
[ -z "$dups" ] || fail "short options with two meanings: $(grep -E "^($(echo $dups | tr ' ' '|')) " "$TMP/shorts" | tr '\n' ';')"

# A database another user may not read is "permission denied" (77), never
# "no database" or an empty answer.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	chmod 755 "$TMP"
	$B add --db "$TMP/private" --reason manual p@example.com >/dev/null
	expect_status 77 "check on an unreadable database" -- as_nobody $B check --db "$TMP/private" p@example.com
	expect_grep "ermission denied" "$TMP/err" "says permission denied"
	expect_no_grep "no database" "$TMP/err" "does not say there is none"
	expect_status 77 "filter on an unreadable database" -- sh -c "echo p@example.com | setpriv --reuid=nobody --regid=nogroup --clear-groups $B filter --db '$TMP/private'"
	[ ! -s "$TMP/out" ] || fail "filter wrote a list from a database it could not read"
	ok

	# root writing to a database another user owns would leave root-owned
	# files (a compacted data.mdb, locks) and lock the owner out: it is
	# refused without --force, and with it the owner keeps the database.
	mkdir "$TMP/theirs" && chown nobody:nogroup "$TMP/theirs" && chmod 700 "$TMP/theirs"
	as_nobody $B add --db "$TMP/theirs" --reason manual -- one@example.com >/dev/null
	expect_status 77 "root writing another user's database" -- $B add --db "$TMP/theirs" --reason manual two@example.com
	expect_grep "belongs to nobody" "$TMP/err" "says whose it is"
	expect_grep "\-\-force" "$TMP/err" "says how to go on"
	expect_status 77 "root compacting another user's database" -- $B prune --compact --db "$TMP/theirs"
	expect_status 75 "root ingesting into another user's database (an MTA retries)" -- \
		sh -c "$B ingest --db '$TMP/theirs' < '$CORPUS/dsn/exim-user-unknown.eml'"
	[ -z "$(find "$TMP/theirs" -user root)" ] || fail "root left files in another user's database: $(find "$TMP/theirs" -user root)"
	ok
	expect_status 0 "root with --force" -- $B add --force --db "$TMP/theirs" --reason manual two@example.com
	expect_status 0 "root compacting with --force" -- $B prune --compact --force --db "$TMP/theirs"
	[ "$(stat -c %U "$TMP/theirs/data.mdb")" = nobody ] || fail "the compacted data.mdb belongs to $(stat -c %U "$TMP/theirs/data.mdb")"
	ok
	expect_status 0 "the owner still writes to it" -- as_nobody $B add --db "$TMP/theirs" --reason manual three@example.com
	expect_status 1 "and reads all of it" -- as_nobody $B check --db "$TMP/theirs" one@example.com two@example.com three@example.com
else
	echo "t-cli: skipped the permission checks: not root or no setpriv" >&2
fi

# Every reason add takes, list takes too.
for r in manual unsubscribed; do
	$B add --db "$TMP/reasons" --reason $r "$r@example.com" >/dev/null 2>&1
	expect_status 0 "list --reason $r" -- $B list --db "$TMP/reasons" --reason $r
	expect_grep "^$r@example.com " "$TMP/out" "list --reason $r shows the entry"
done
expect_status 64 "list --reason with a typo" -- $B list --db "$TMP/reasons" --reason manaul

# Unknown values are null in JSON, never "" (a manual entry's event has no
# status, code, rule or diagnostic).
expect_status 0 "show --json of a manual entry" -- $B show --json --db "$TMP/reasons" manual@example.com
expect_grep '"status":null' "$TMP/out" "an unknown status is null"
expect_no_grep '""' "$TMP/out" "no empty string stands for an unknown value"

# sweep on a terminal: a warning never shares the progress bar's line;
# --quiet has neither bar nor notices; --threads sets the parsers.
mkdir -p "$TMP/pmd/new" "$TMP/pmd/cur" "$TMP/pmd/tmp"
for i in 1 2 3 4 5 6 7 8; do
	sed "s/bob@example.net/bob$i@example.net/" "$CORPUS/dsn/postfix-user-unknown.eml" >"$TMP/pmd/new/good$i"
	{ cat "$CORPUS/dsn/postfix-user-unknown.eml"; head -c 20000 /dev/zero | tr '\0' x; echo; } >"$TMP/pmd/new/big$i"
done
printf '[limits]\nmax_message_size = 8k\n' >"$TMP/small.conf"
cp -r "$TMP/pmd" "$TMP/pmd2"
cp -r "$TMP/pmd" "$TMP/pmd3"
python3 - "$B" "$TMP" >"$TMP/tty.out" 2>"$TMP/tty.err" <<'PY' || fail "sweep on a terminal: $(cat "$TMP/tty.err")"
import os, pty, sys
b, tmp = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(b, [b, "--config", tmp + "/small.conf", "sweep", "--db", tmp + "/pdb", "--batch", "1",
                 tmp + "/pmd"])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
text = out.decode("utf-8", "replace").replace("\r\n", "\n")
warnings = [l for l in text.split("\n") if "quarantined in" in l]
assert len(warnings) == 8, text
for l in warnings:
    # What a terminal shows of the line: after the last carriage return,
    # with the erase-line sequence done.
    shown = l.split("\r")[-1].replace("\x1b[K", "")
    assert shown.startswith("bouncedb: sweep: "), repr(l)
assert "msg/s" in text, "no progress bar was drawn: " + repr(text)
PY
ok
expect_status 0 "sweep --quiet" -- $B --config "$TMP/small.conf" sweep --quiet --db "$TMP/pdb2" "$TMP/pmd2"
expect_no_grep "quarantined" "$TMP/err" "--quiet: no notice per message"
expect_grep "8 quarantined" "$TMP/out" "--quiet: the summary still counts them"
expect_status 0 "sweep --threads 1" -- $B --config "$TMP/small.conf" sweep --threads 1 --json --db "$TMP/pdb3" "$TMP/pmd3"
expect_grep '"suppressed":8' "$TMP/out" "--threads 1 stores every bounce"
expect_status 64 "sweep --threads -1" -- $B sweep --threads -1 --db "$TMP/pdb3" "$TMP/pmd3"

# A sweep of a Maildir that does not exist creates nothing.
expect_status 66 "sweep of a missing Maildir" -- $B sweep --db "$TMP/newdb" "$TMP/no-such-maildir"
expect_grep "no such file or directory" "$TMP/err" "says what is missing"
[ ! -e "$TMP/newdb" ] || fail "a sweep of nothing created a database"
ok

done_testing
