#!/bin/sh
# contrib/, the man pages and `cmake --install`, exercised with the real
# programs: procmail delivering a bounce, Dovecot's sievec and sieve-test
# running the Sieve script and its pipe, a private Postfix instance on
# 127.0.0.1 delivering DSNs to the pipe transport and an alias, groff/man
# rendering the man pages, systemd-analyze verifying the units, bash
# sourcing the completion, and a C program built against the installed
# library through its pkg-config file.  A part whose program is missing is
# skipped with "SKIP: ... not installed" (tests/install-deps installs them).
. "$(dirname "$0")/lib.sh"

C=$SRCDIR/contrib
CORPUS_BOUNCE=$CORPUS/dsn/postfix-user-unknown.eml      # bob@example.net
CORPUS_BOUNCE2=$CORPUS/dsn/exim-user-unknown.eml        # carol@example.net
CORPUS_BOUNCE3=$CORPUS/dsn/gmail-user-unknown-folded.eml  # max@example.net
CORPUS_HUMAN=$CORPUS/not/newsletter.eml
ROOT=false
[ "$(id -u)" -eq 0 ] && ROOT=true
PF=

skip() {
	echo "SKIP: $*"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

cleanup() {
	if [ -n "$PF" ] && [ -f "$PF/spool/pid/master.pid" ]; then
		postfix -c "$PF/etc" stop >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# The MTAs run bouncedb as another user (nobody) with an environment of
# their own: give them a copy of the binary in a directory everyone can
# reach, behind a wrapper that keeps the sanitizer settings of this run.
chmod 755 "$TMP"
mkdir -p "$TMP/bin"
cp "$BOUNCEDB" "$TMP/bin/bouncedb.real"
# The front runs the mail commands in bouncedb-full, found beside it.
cp "$(dirname "$BOUNCEDB")/bouncedb-full" "$TMP/bin/bouncedb-full"
if [ -f "$SRCDIR/tests/lsan.supp" ]; then
	cp "$SRCDIR/tests/lsan.supp" "$TMP/bin/lsan.supp"
fi
{
	echo '#!/bin/sh'
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		echo "ASAN_OPTIONS='$ASAN_OPTIONS'; export ASAN_OPTIONS"
		echo "LSAN_OPTIONS='suppressions=$TMP/bin/lsan.supp:print_suppressions=0'; export LSAN_OPTIONS"
	fi
	if [ -n "${UBSAN_OPTIONS:-}" ]; then
		echo "UBSAN_OPTIONS='$UBSAN_OPTIONS'; export UBSAN_OPTIONS"
	fi
	echo "exec '$TMP/bin/bouncedb.real' \"\$@\""
} >"$TMP/bin/bouncedb"
chmod -R a+rX "$TMP/bin"
chmod 755 "$TMP/bin/bouncedb"
B=$TMP/bin/bouncedb

# suppressed DB ADDRESS DESCRIPTION: `bouncedb check` exits 1.
suppressed() {
	expect_status 1 "$3: check $2" -- "$B" check --db "$1" "$2"
}

# is_suppressed DB ADDRESS: for wait_for.
is_suppressed() {
	"$B" check --db "$1" "$2" >/dev/null 2>&1
	[ $? -eq 1 ]
}

# --- man pages ---------------------------------------------------------------
if have groff; then
	for page in bouncedb.1 bouncedb.conf.5; do
		groff -ww -man -Tutf8 "$SRCDIR/doc/$page" >/dev/null 2>"$TMP/groff.err"
		ok
		if [ -s "$TMP/groff.err" ]; then
			fail "groff -ww $page: warnings"
			head -5 "$TMP/groff.err" | sed 's/^/    /' >&2
		fi
	done
else
	skip "groff not installed: man pages not rendered"
fi
if have man; then
	for page in bouncedb.1 bouncedb.conf.5; do
		MANWIDTH=80 man --warnings -l "$SRCDIR/doc/$page" >"$TMP/man.out" 2>"$TMP/man.err"
		ok
		if [ -s "$TMP/man.err" ] || [ ! -s "$TMP/man.out" ]; then
			fail "man --warnings -l $page"
			head -5 "$TMP/man.err" | sed 's/^/    /' >&2
		fi
	done
else
	skip "man not installed: man -l not tried"
fi

# Every command and every option of --help is in bouncedb(1).
M1=$SRCDIR/doc/bouncedb.1
"$BOUNCEDB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' >"$TMP/commands"
expect_grep sweep "$TMP/commands" "command list from --help"
# long options of each command, from its --help: $TMP/options.CMD
while read -r cmd; do
	"$BOUNCEDB" "$cmd" --help | sed -n -E 's/^ +(-[[:alpha:]], )?(--[[:lower:]][[:lower:]-]*).*/\2/p' |
		sort -u >"$TMP/options.$cmd"
done <"$TMP/commands"
long_options() {
	cat "$TMP/options.$1"
}
while read -r cmd; do
	ok
	grep -q "^\.SS \"$cmd " "$M1" || fail "bouncedb.1: no section for command '$cmd'"
	for opt in $(long_options "$cmd"); do
		[ "$opt" = --help ] && continue
		ok
		esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		grep -q -- "$esc" "$M1" || fail "bouncedb.1: $cmd $opt is not documented"
	done
done <"$TMP/commands"

# BUGS speaks of ingest's exit status when the configuration is wrong: the
# one it uses, 75.
awk '/^\.SH BUGS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$M1" |
	grep -oE '\b(6[4-9]|7[0-8])\b' | sort -u | tr '\n' ' ' >"$TMP/bugs-codes"
ok
[ "$(cat "$TMP/bugs-codes")" = "75 " ] || fail "bouncedb.1 BUGS gives the exit statuses $(cat "$TMP/bugs-codes"); ingest uses only 75"

# The Postfix transport has one source, contrib/postfix/master.cf: ingest
# --help prints it (the build reads it), and bouncedb(1) has the same lines.
grep -v '^#' "$C/postfix/master.cf" | tr -s ' ' >"$TMP/transport"
expect_grep "flags=ORq" "$TMP/transport" "master.cf: the transport's flags"
"$B" ingest --help | sed 's/^ *//' | tr -s ' ' >"$TMP/ingest-help"
sed -e 's/\\-/-/g' "$M1" | sed 's/^ *//' | tr -s ' ' >"$TMP/man-text"
while read -r line; do
	ok
	grep -qxF -- "$line" "$TMP/ingest-help" || fail "ingest --help lacks master.cf's '$line'"
	ok
	grep -qxF -- "$line" "$TMP/man-text" || fail "bouncedb.1 lacks master.cf's '$line'"
done <"$TMP/transport"

# The keys bouncedb knows are one table (src/cli/config-keys.c, printed by
# `config keys`): every key the code reads is in it, and bouncedb.conf(5)
# and contrib/bouncedb.conf.example have exactly its keys, with its types
# and defaults.
M5=$SRCDIR/doc/bouncedb.conf.5
EX=$C/bouncedb.conf.example
sed -n -E 's/.*(g_key_file_get_[[:lower:]_]+|cli_config_size|cli_config_uint|cli_config_string|get_count) \([^,]+, "([[:lower:]_]+)", "([[:lower:]_]+)".*/\2 \3/p' \
	"$SRCDIR"/src/cli/*.c | sort -u >"$TMP/keys"
expect_grep "database map_size" "$TMP/keys" "config keys found in src/cli"
expect_status 0 "config keys" -- "$B" config keys
# (not the keys their user names: [expiry] REASON, [hooks] NAME.SETTING)
grep -v '^[[:lower:]]*	[[:upper:]]' "$TMP/out" >"$TMP/table"
expect_grep "^database	map_size	size	64M$" "$TMP/table" "config keys: section, key, type, default"
while read -r section key; do
	ok
	grep -q "^$section	$key	" "$TMP/table" ||
		fail "src/cli reads [$section] $key, which is not in the table of config-keys.c"
done <"$TMP/keys"
# the lines of section $2 of file $1 (man page: .SH "[s]"; ini: [s])
man_section() {
	awk -v s="[$2]" '/^\.SH/ { on = index($0, s) > 0; next } on' "$1"
}
ini_section() {
	awk -v s="[$2]" '/^\[/ { on = ($0 == s); next } on' "$1"
}
# the lines that name a key in section $1 of the man page: those after .TP
# (or .TQ, for keys that share a paragraph)
man_keys() {
	man_section "$M5" "$1" | awk '/^\.T[PQ]/ { tp = 1; next } tp && /^\.BR? / { print } { tp = 0 }'
}
while IFS='	' read -r section key type def; do
	ok
	# [expiry]'s keys are reason names: its page says so in prose.
	line=$(man_keys "$section" | grep "^\.BR* $key\b")
	[ -n "$line" ] || [ "$section" = expiry ] || fail "bouncedb.conf.5: [$section] $key is not documented"
	# ".BR key " (\fItype\fR; default " value )": the same type and default
	case $line in
	*'(\fI'*'\fR'*|*'(boolean'*|*'(octal'*)
		ok
		man_type=$(printf '%s\n' "$line" | sed -E 's/.*\((\\fI)?([[:lower:]]+).*/\2/')
		[ "$man_type" = "$type" ] || fail "bouncedb.conf.5: [$section] $key is a $man_type, the table says $type" ;;
	esac
	case $line in
	*'default " '*)
		ok
		man_def=$(printf '%s\n' "$line" | sed -E 's/.*default " ([^ ]+) \)?.*/\1/; s/^"(.*)"$/\1/')
		[ "$man_def" = "$def" ] || fail "bouncedb.conf.5: [$section] $key defaults to $man_def, the table says $def" ;;
	esac
	ok
	ex=$(ini_section "$EX" "$section" | grep "^#$key = ")
	[ -n "$ex" ] || fail "bouncedb.conf.example: no [$section] $key"
	if [ "$def" != - ] && [ -n "$ex" ]; then
		ok
		[ "$ex" = "#$key = $def" ] || fail "bouncedb.conf.example: '$ex', the table's default is $def"
	fi
	ok
	grep -q "^$section $key\$" "$TMP/keys" || [ "$section" = expiry ] ||
		fail "[$section] $key is in the table, but src/cli never reads it"
done <"$TMP/table"
for section in $(sed -n 's/^\[\([[:lower:]]*\)\]$/\1/p' "$EX"); do
	case $section in expiry|hooks) continue ;; esac   # keys named by their user
	for key in $(ini_section "$EX" "$section" | sed -n 's/^#\([[:lower:]_]*\) = .*/\1/p'); do
		ok
		grep -q "^$section	$key	" "$TMP/table" ||
			fail "bouncedb.conf.example: [$section] $key is not a key bouncedb knows"
	done
done
for section in $(sed -n 's/^\.SH "\[\([[:lower:]]*\)\]"$/\1/p' "$M5"); do
	[ "$section" = expiry ] && continue   # its keys are reason names
	for key in $(man_keys "$section" | sed -n -E 's/^\.BR? ([[:lower:]_]+).*/\1/p'); do
		ok
		grep -q "^$section	$key	" "$TMP/table" ||
			fail "bouncedb.conf.5: [$section] $key is not a key bouncedb knows"
	done
done
# The example, uncommented, is a working configuration.
sed -e 's/^#\([[:lower:]_]* = \)/\1/' -e '/^rules_file = /d' -e '/^key_file = /d' -e '/^group = /d' \
	-e "s|/var/lib/bouncedb|$TMP/exdb|" "$EX" >"$TMP/example.conf"
expect_status 0 "example configuration: config check" -- "$B" config check "$TMP/example.conf"
expect_status 0 "example configuration: ingest" -- sh -c '"$1" --config "$2" ingest < "$3"' sh \
	"$B" "$TMP/example.conf" "$CORPUS_BOUNCE"
expect_status 1 "example configuration: check" -- "$B" --config "$TMP/example.conf" check bob@example.net

# --- bash completion ---------------------------------------------------------
if have bash; then
	cat >"$TMP/comp.bash" <<'EOF'
. "$1"
PATH=$2/bin:$PATH
comp() {
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_bouncedb bouncedb "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[*]}"
}
comp bouncedb ""
comp bouncedb sw
comp bouncedb --config x.conf ch
comp bouncedb sweep --pr
comp bouncedb sweep --processed ""
comp bouncedb sweep --processed = d
comp bouncedb list --kind in
comp bouncedb list --kind ""
comp bouncedb ingest -k "$2/bi"
comp bouncedb add --reason un
comp bouncedb export --format ""
comp bouncedb check --db "$2/bi"
comp bouncedb check alice@example.com --j
comp bouncedb parse "$2/bin/bouncedb.r"
comp bouncedb config ""
comp bouncedb list --reason man
for cmd in $(cat "$2/commands"); do
	echo "options $cmd: $(comp bouncedb "$cmd" -- | tr ' ' '\n' | sort | tr '\n' ' ')"
done
EOF
	bash "$TMP/comp.bash" "$C/bash-completion/bouncedb" "$TMP" >"$TMP/comp.out" 2>"$TMP/comp.err"
	ok
	[ -s "$TMP/comp.err" ] && fail "completion: errors: $(head -3 "$TMP/comp.err")"
	sed -n 1,16p "$TMP/comp.out" >"$TMP/comp.got"
	cat >"$TMP/comp.want" <<EOF
parse explain ingest sweep check filter show list stats events publish apply hooks export import add remove prune serve sign config help
sweep
check
--processed
seen delete keep move:
delete
inactive
hard complaint inactive manual imported domain
$TMP/bin
undefined unsubscribed
jsonl csv
$TMP/bin
--json
$TMP/bin/bouncedb.real
check keys
manual
EOF
	ok
	if ! cmp -s "$TMP/comp.got" "$TMP/comp.want"; then
		fail "completion: unexpected COMPREPLY"
		diff "$TMP/comp.want" "$TMP/comp.got" | sed 's/^/    /' >&2
	fi
	# The options offered per command are those of `bouncedb CMD --help`.
	while read -r cmd; do
		want=$(long_options "$cmd" | tr '\n' ' ')
		got=$(sed -n "s/^options $cmd: //p" "$TMP/comp.out")
		ok
		[ "$got" = "$want" ] || fail "completion of '$cmd --': '$got', --help has '$want'"
	done <"$TMP/commands"
else
	skip "bash not installed: completion not tried"
fi

# --- procmail ----------------------------------------------------------------
if have procmail; then
	PM=$TMP/procmail
	mkdir -p "$PM"
	: >"$PM/not-a-directory"
	cat >"$PM/procmailrc" <<EOF
MAILDIR=$PM
LOGFILE=$PM/log
INCLUDERC=$C/procmail/bouncedb.rc
:0
$PM/inbox/
EOF
	# procmail clears the environment; variables go on its command line.
	expect_status 0 "procmail: a bounce" -- sh -c 'procmail "$@" < "$0"' "$CORPUS_BOUNCE" \
		BOUNCEDB="$B" BOUNCEDB_DB="$PM/db" "$PM/procmailrc"
	suppressed "$PM/db" bob@example.net "procmail"
	ok
	[ -d "$PM/inbox" ] && fail "procmail: the bounce also went to the inbox"
	expect_status 0 "procmail: ordinary mail" -- sh -c 'procmail "$@" < "$0"' "$CORPUS_HUMAN" \
		BOUNCEDB="$B" BOUNCEDB_DB="$PM/db" "$PM/procmailrc"
	ok
	[ "$(ls "$PM/inbox/new" 2>/dev/null | wc -l)" -eq 1 ] || fail "procmail: ordinary mail not in the inbox"
	# ingest fails (its database cannot be created): procmail exits 75 and
	# delivers the message nowhere, so the MTA keeps it and retries.
	expect_status 75 "procmail: ingest fails" -- sh -c 'procmail "$@" < "$0"' "$CORPUS_BOUNCE2" \
		BOUNCEDB="$B" BOUNCEDB_DB="$PM/not-a-directory/db" "$PM/procmailrc"
	ok
	[ "$(ls "$PM/inbox/new" | wc -l)" -eq 1 ] || fail "procmail: a failed bounce was delivered to the inbox"
else
	skip "procmail not installed"
fi

# --- Sieve (Dovecot Pigeonhole) ------------------------------------------------
if have sieve-test && have sievec; then
	SV=$TMP/sieve
	mkdir -p "$SV/run" "$SV/mail" "$SV/pipe" "$SV/script"
	cp "$C/sieve/bouncedb.sieve" "$SV/script/"
	sed -e "s|/etc/dovecot/sieve/bouncedb.sieve|$SV/script/bouncedb.sieve|" \
		-e "s|/usr/lib/dovecot/sieve-pipe|$SV/pipe|" "$C/sieve/90-sieve-extprograms.conf" >"$SV/90.conf"
	sed -e "s|^BOUNCEDB=.*|BOUNCEDB=$B|" -e "s|^BOUNCEDB_DB=.*|BOUNCEDB_DB=$SV/db|" \
		"$C/sieve/bouncedb-ingest" >"$SV/pipe/bouncedb-ingest"
	chmod 755 "$SV/pipe/bouncedb-ingest"
	{
		echo "base_dir = $SV/run"
		echo "log_path = /dev/stderr"
		echo "ssl = no"
		echo "mail_location = maildir:$SV/mail"
		# Dovecot refuses mail access as root: run as nobody.
		$ROOT && printf 'mail_uid = nobody\nmail_gid = nogroup\n'
		echo "!include $SV/90.conf"
	} >"$SV/dovecot.conf"
	$ROOT && chown -R nobody "$SV"
	expect_status 0 "sievec bouncedb.sieve" -- sievec -c "$SV/dovecot.conf" "$SV/script/bouncedb.sieve" "$SV/bouncedb.svbin"
	# sieve-test without -e: which action the script chooses.
	st() {
		sieve-test -c "$SV/dovecot.conf" "$@" >"$TMP/out" 2>"$TMP/err"
	}
	st -r bounces+k1.tok@lists.example.org "$SV/script/bouncedb.sieve" "$CORPUS_BOUNCE"
	expect_grep "pipe message to external program 'bouncedb-ingest'" "$TMP/out" "sieve: a bounce is piped"
	st -r bounces@lists.example.org "$SV/script/bouncedb.sieve" "$CORPUS_HUMAN"
	expect_no_grep "pipe message" "$TMP/out" "sieve: ordinary mail is not piped"
	expect_grep "store message in folder: INBOX" "$TMP/out" "sieve: ordinary mail is kept"
	st -r alice@lists.example.org "$SV/script/bouncedb.sieve" "$CORPUS_BOUNCE"
	expect_no_grep "pipe message" "$TMP/out" "sieve: a bounce for another address is not piped"
	# With -e the pipe really runs the wrapper and ingest.
	expect_status 0 "sieve-test -e: a bounce" -- sieve-test -e -c "$SV/dovecot.conf" \
		-r bounces@lists.example.org "$SV/script/bouncedb.sieve" "$CORPUS_BOUNCE"
	suppressed "$SV/db" bob@example.net "sieve pipe"
	ok
	[ -z "$(ls "$SV/mail/new" 2>/dev/null)" ] || fail "sieve: a piped bounce was also stored in INBOX"
	# ingest fails: the script fails and the implicit keep stores the bounce
	# in INBOX, where a sweep finds it.
	# (The pipe runs as nobody under root, else as ourselves: either way a
	# mode of 000 locks it out.)
	chmod 000 "$SV/db"
	expect_status 1 "sieve-test -e: ingest fails" -- sieve-test -e -c "$SV/dovecot.conf" \
		-r bounces@lists.example.org "$SV/script/bouncedb.sieve" "$CORPUS_BOUNCE2"
	expect_grep "exit code 75" "$TMP/err" "sieve: the pipe's status"
	expect_grep "resolved with successful implicit keep" "$TMP/err" "sieve: implicit keep after the failure"
	chmod 755 "$SV/db"
	ok
	[ "$(ls "$SV/mail/new" 2>/dev/null | wc -l)" -eq 1 ] || fail "sieve: the failed bounce is not in INBOX"
	# Under root the database is the pipe's user's (nobody): root writes
	# to it only when told to.
	expect_status 0 "sweep the Sieve INBOX" -- "$B" sweep --force --db "$SV/db" "$SV/mail"
	suppressed "$SV/db" carol@example.net "sieve fallback swept"
else
	skip "sieve-test (dovecot-sieve) not installed"
fi

# --- Postfix -------------------------------------------------------------------
# The contrib lines with the paths and user of this test.
pf_subst() {
	sed -e "s|/usr/bin/bouncedb|$B|g" -e "s|user=bouncedb|user=nobody|" \
		-e "s|/var/lib/bouncedb|$PF/db|g" -e "s|/etc/postfix/|$PF/etc/|g"
}
if have postconf; then
	PF=$TMP/postfix
	mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/db" "$PF/aliases"
	freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
	PORT=$(freeport)
	# A second smtpd plays the remote servers of step 5: it refuses
	# recipients of some domains as real servers do (remote-access).
	RPORT=$(freeport)
	SPORT=$(freeport)  # and one that takes nothing over 1,000 bytes
	cat >"$PF/etc/remote-access" <<EOF
gone.example     550 5.1.1 User unknown
blocked.example  554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.example
full.example     552 5.2.2 Mailbox full
EOF
	postfix_main_cf >"$PF/etc/main.cf"
	cat >>"$PF/etc/main.cf" <<EOF
mydestination = localhost.localdomain
relay_domains = lists.example.org
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtputf8_enable = no
biff = no
alias_maps = hash:$PF/aliases/aliases
alias_database = \$alias_maps
# Accept any local recipient, so that local(8) itself bounces an unknown
# one (step 4).
local_recipient_maps =
EOF
	grep -v '^#' "$C/postfix/main.cf" | pf_subst >>"$PF/etc/main.cf"
	cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$PORT inet n  -       n       -       -       smtpd
127.0.0.1:$RPORT inet n -       n       -       -       smtpd
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:$PF/etc/remote-access,permit_mynetworks,reject
127.0.0.1:$SPORT inet n -       n       -       -       smtpd
  -o message_size_limit=1000
local     unix  -       n       n       -       -       local
EOF
	postfix_services >>"$PF/etc/master.cf"
	grep -v '^#' "$C/postfix/master.cf" | pf_subst >>"$PF/etc/master.cf"
	grep -v '^#' "$C/postfix/transport" | grep . | pf_subst >"$PF/etc/transport"
	# A host that refuses connections (step 4): a port nothing listens on.
	DEADPORT=$(freeport)
	echo "unreachable.example smtp:[127.0.0.1]:$DEADPORT" >>"$PF/etc/transport"
	for d in gone.example blocked.example full.example; do
		echo "$d smtp:[127.0.0.1]:$RPORT" >>"$PF/etc/transport"
	done
	echo "slow.example smtp:[127.0.0.1]:$DEADPORT" >>"$PF/etc/transport"
	echo "small.example smtp:[127.0.0.1]:$SPORT" >>"$PF/etc/transport"
	grep -v '^#' "$C/postfix/aliases" | grep . | pf_subst >"$PF/aliases/aliases"
	# The syntax: postconf parses master.cf and main.cf without a warning.
	expect_status 0 "postconf -M bouncedb/unix" -- postconf -c "$PF/etc" -M bouncedb/unix
	expect_grep "argv=$B ingest --db $PF/db" "$TMP/out" "postconf: the bouncedb transport"
	expect_grep "flags=ORq user=nobody" "$TMP/out" "postconf: the bouncedb transport flags"
	postconf -c "$PF/etc" -n >"$TMP/out" 2>"$TMP/err"
	ok
	[ -s "$TMP/err" ] && fail "postconf -n: $(head -3 "$TMP/err")"
	expect_grep "^bouncedb_destination_recipient_limit = 1" "$TMP/out" "postconf: main.cf lines"
	if ! have postfix; then
		skip "postfix not installed: only the configuration syntax was checked"
	elif ! $ROOT || ! id nobody >/dev/null 2>&1 || ! id postfix >/dev/null 2>&1; then
		skip "postfix integration needs root and the users nobody and postfix"
	else
		chown postfix "$PF/data"
		chown nobody "$PF/db" "$PF/aliases" "$PF/aliases/aliases"
		postmap -c "$PF/etc" "hash:$PF/etc/transport"
		# As root, postalias builds the table as the owner of the file, so
		# local(8) runs the alias command as nobody.
		postalias -c "$PF/etc" "hash:$PF/aliases/aliases"
		expect_status 0 "postfix start" -- postfix -c "$PF/etc" start
		wait_for test -S "$PF/spool/public/pickup" -o -p "$PF/spool/public/pickup"
		smtp() { # FILE RCPT [SENDER]: by default the null sender, as bounces come
			python3 - "$PORT" "$1" "$2" "${3:-}" <<'PY'
import smtplib, sys
port, path, rcpt, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with open(path, "rb") as f:
    data = f.read()
for attempt in range(50):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        break
    except OSError:
        import time; time.sleep(0.2)
else:
    sys.exit("cannot connect to 127.0.0.1:%d" % port)
with s:
    s.sendmail(sender, [rcpt], data)
PY
		}
		# 1. the bounce address, through the pipe transport
		expect_status 0 "smtp: a DSN to bounces@" -- smtp "$CORPUS_BOUNCE" bounces@lists.example.org
		ok
		wait_for is_suppressed "$PF/db" bob@example.net || fail "postfix: the DSN was not stored"
		# pipe(8) logs the delivery after the command exits, which is
		# after the record is stored: wait for the line too.
		wait_for grep -q "relay=bouncedb.*status=sent" "$PF/maillog" ||
			fail "postfix: delivered via the pipe: no 'relay=bouncedb.*status=sent' in maillog"
		# 2. a VERP address, while the database cannot be opened: deferred
		# (75), not bounced; delivered once it can.
		chmod 000 "$PF/db"
		expect_status 0 "smtp: a DSN to bounces+tok@" -- smtp "$CORPUS_BOUNCE2" bounces+k1.20415.3f1c@lists.example.org
		ok
		wait_for grep -q "status=deferred" "$PF/maillog" || fail "postfix: no deferral while the database is closed"
		# qmgr moves the message to the deferred queue after pipe(8) logs.
		wait_for sh -c 'postqueue -c "$1" -j | grep -q "\"queue_name\": \"deferred\""' sh "$PF/etc"
		expect_status 0 "postqueue -j" -- postqueue -c "$PF/etc" -j
		expect_grep '"queue_name": "deferred"' "$TMP/out" "postfix: the bounce waits in the deferred queue"
		expect_grep "temporary failure" "$TMP/out" "postfix: 75 is a temporary failure"
		chmod 755 "$PF/db"
		postqueue -c "$PF/etc" -f
		ok
		wait_for is_suppressed "$PF/db" carol@example.net ||
			fail "postfix: the deferred DSN was not delivered after postqueue -f"
		# 3. the alias alternative, with a +extension, through local(8)
		expect_status 0 "smtp: a DSN to the alias" -- smtp "$CORPUS_BOUNCE3" bounces+x@localhost.localdomain
		ok
		wait_for is_suppressed "$PF/db" max@example.net || fail "postfix: the DSN to the alias was not stored"
		# (local(8) too logs after the command exits.)
		wait_for grep -q "relay=local.*status=sent (delivered to command" "$PF/maillog" ||
			fail "postfix: alias delivered: no 'relay=local.*status=sent (delivered to command' in maillog"
		expect_no_grep "status=bounced" "$PF/maillog" "postfix: nothing bounced"
		# shows ADDRESS PATTERN: `bouncedb show ADDRESS` matches PATTERN.
		shows() { "$B" show --db "$PF/db" "$1" | grep -q "$2"; }
		# retried_shows ADDRESS PATTERN: the same after Postfix has retried
		# its deferred mail.
		retried_shows() { postqueue -c "$PF/etc" -f; shows "$@"; }
		# 4a. Postfix's delay warning ("Delayed Mail (still being
		# retried)", Action: delayed) for a host that refuses connections:
		# no bounce, so neither a soft bounce nor a suppression.
		postconf -c "$PF/etc" -e delay_warning_time=1s
		postfix -c "$PF/etc" reload >/dev/null 2>&1
		expect_status 0 "smtp: a newsletter to a host that is down" -- \
			smtp "$CORPUS_HUMAN" reader@slow.example bounces@lists.example.org
		ok
		wait_for grep -q "to=<reader@slow.example>.*status=deferred" "$PF/maillog" ||
			fail "postfix: the message to slow.example was not deferred"
		# The warning goes out on a later attempt, once the message is
		# older than delay_warning_time: have it retried until it is.
		ok
		wait_for retried_shows reader@slow.example " delay " ||
			fail "postfix: its delay warning was not recorded"
		expect_status 0 "a delay warning does not suppress" -- "$B" check --db "$PF/db" reader@slow.example
		expect_status 0 "show the delayed reader" -- "$B" show --db "$PF/db" reader@slow.example
		expect_grep " delay .*4\.4\.1" "$TMP/out" "the delay warning is kept with its status"
		expect_no_grep "soft-bounce counter" "$TMP/out" "a delay warning is not a soft bounce"
		postsuper -c "$PF/etc" -d ALL deferred >/dev/null 2>&1
		postconf -c "$PF/etc" -e delay_warning_time=0
		# 4. Postfix's own bounces, as it writes them today: a newsletter
		# from bounces@ to a local user that does not exist (local(8):
		# 5.1.1) and to a host that refuses connections (tried once, with
		# no queue lifetime: failed, 4.4.1).  Each DSN comes back through
		# the pipe.
		postconf -c "$PF/etc" -e maximal_queue_lifetime=0
		postfix -c "$PF/etc" reload >/dev/null 2>&1
		expect_status 0 "smtp: a newsletter to a user that does not exist" -- \
			smtp "$CORPUS_HUMAN" nosuchuser@localhost.localdomain bounces@lists.example.org
		ok
		wait_for is_suppressed "$PF/db" nosuchuser@localhost.localdomain ||
			fail "postfix: its bounce for an unknown user did not suppress the address"
		expect_status 0 "show the unknown user" -- "$B" show --db "$PF/db" nosuchuser@localhost.localdomain
		expect_grep "userunknown.*5\.1\.1" "$TMP/out" "postfix's unknown-user bounce reads as userunknown, 5.1.1"
		expect_status 0 "smtp: a newsletter to a host that refuses connections" -- \
			smtp "$CORPUS_HUMAN" reader@unreachable.example bounces@lists.example.org
		ok
		# (A qmgr that has not restarted since the reload yet defers the
		# message: the flush has the new one retry it.)
		wait_for retried_shows reader@unreachable.example "soft-bounce counter: 1" ||
			fail "postfix: its bounce for a refused connection was not counted as a soft bounce"
		expect_status 0 "a refused connection does not suppress" -- "$B" check --db "$PF/db" reader@unreachable.example
		expect_status 0 "show the unreachable reader" -- "$B" show --db "$PF/db" reader@unreachable.example
		expect_grep "soft .*4\.4\.1.*Connection refused" "$TMP/out" "postfix's bounce keeps status and diagnostic"
		# sender_side ADDRESS REASON STATUS WHAT: the bounce for ADDRESS is a
		# sender-side incident (stats: "DOMAIN REASON"), held against no one.
		sender_side() {
			ok
			wait_for sh -c '"$1" stats --db "$2" | grep -Fq "$3 $4"' sh "$B" "$PF/db" "${1#*@}" "$2" ||
				fail "postfix: $4 was not tallied as our own problem"
			expect_status 0 "$4 does not suppress" -- "$B" check --db "$PF/db" "$1"
			expect_status 0 "show $1" -- "$B" show --db "$PF/db" "$1"
			expect_grep "$2.*$3" "$TMP/out" "$4 reads as $2, $3"
			expect_no_grep "soft-bounce counter" "$TMP/out" "$4 is not a soft bounce of the recipient"
		}
		# 5. What remote servers answer at RCPT, as Postfix reports it
		# ("host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <a@b>: Recipient
		# address rejected: ... (in reply to RCPT TO command)"): a dead
		# mailbox is suppressed, a full one counted, and a blocklisting of
		# our host held against no recipient; nor is a message too large
		# for the server (SIZE 1000: Postfix gives up itself, 5.3.4).
		for rcpt in nobody@gone.example reader@blocked.example reader@full.example reader@small.example; do
			expect_status 0 "smtp: a newsletter to $rcpt" -- smtp "$CORPUS_HUMAN" "$rcpt" bounces@lists.example.org
		done
		ok
		wait_for is_suppressed "$PF/db" nobody@gone.example ||
			fail "postfix: a remote 550 5.1.1 at RCPT did not suppress the address"
		expect_status 0 "show the remote unknown user" -- "$B" show --db "$PF/db" nobody@gone.example
		expect_grep "userunknown.*5\.1\.1" "$TMP/out" "a remote 550 5.1.1 reads as userunknown"
		ok
		wait_for shows reader@full.example "soft-bounce counter: 1" ||
			fail "postfix: a remote 552 5.2.2 was not counted as a soft bounce"
		expect_status 0 "a full mailbox does not suppress at once" -- "$B" check --db "$PF/db" reader@full.example
		expect_status 0 "show the full mailbox" -- "$B" show --db "$PF/db" reader@full.example
		expect_grep "mailboxfull.*5\.2\.2" "$TMP/out" "a remote 552 5.2.2 reads as mailboxfull"
		sender_side reader@blocked.example blocked 5.7.1 "a blocklisting of our host"
		sender_side reader@small.example mesgtoobig 5.3.4 "a message too large for the server"
		ok
		wait_for sh -c 'postqueue -c "$1" -j | grep -q . && exit 1; exit 0' sh "$PF/etc" ||
			fail "postfix: the queue is not empty"
		postfix -c "$PF/etc" stop >/dev/null 2>&1
		if [ "$failures" -gt 0 ]; then
			tail -20 "$PF/maillog" | sed 's/^/    maillog: /' >&2
		fi
	fi
else
	skip "postfix not installed"
fi

# --- systemd and cron ----------------------------------------------------------
SD=$TMP/systemd
mkdir -p "$SD/units" "$SD/man/man1" "$SD/man/man5" "$SD/var/Maildir/new" "$SD/var/Maildir/cur" "$SD/var/Maildir/tmp"
cp "$SRCDIR/doc/bouncedb.1" "$SD/man/man1/"
cp "$SRCDIR/doc/bouncedb.conf.5" "$SD/man/man5/"
for f in "$C"/systemd/*.service "$C"/systemd/*.timer "$C"/systemd/*.socket; do
	sed -e "s|/usr/bin/bouncedb|$B|g" -e "s|/var/lib/bouncedb|$SD/var|g" "$f" >"$SD/units/$(basename "$f")"
done
if have systemd-analyze; then
	# Documentation=man:... is checked too: MANPATH finds our pages.
	(cd "$SD/units" && MANPATH=$SD/man systemd-analyze verify ./*.service ./*.timer ./*.socket) >"$TMP/out" 2>"$TMP/err"
	ok
	if [ -s "$TMP/err" ] || [ -s "$TMP/out" ]; then
		fail "systemd-analyze verify: $(head -5 "$TMP/err" "$TMP/out")"
	fi
	for u in bouncedb-sweep.service bouncedb-prune.service bouncedb-serve.service; do
		expect_status 0 "systemd-analyze security $u" -- sh -c \
			'cd "$1" && systemd-analyze security --offline=yes --threshold=20 "$2"' sh "$SD/units" "$u"
	done
else
	skip "systemd-analyze not installed"
fi
# The ExecStart= lines work (run here without the sandbox).
cp "$CORPUS_BOUNCE" "$SD/var/Maildir/new/1.eml"
for u in bouncedb-sweep.service bouncedb-prune.service; do
	line=$(sed -n 's/^ExecStart=//p' "$SD/units/$u")
	expect_status 0 "ExecStart of $u" -- sh -c "$line"
done
suppressed "$SD/var" bob@example.net "systemd ExecStart"
# cron: /etc/cron.d lines have a user field; each command works.
grep -v '^#' "$C/cron/bouncedb" | grep -v '=' | grep . >"$TMP/cron"
ok
[ "$(wc -l <"$TMP/cron")" -ge 1 ] || fail "cron: no job line"
rm -rf "${SD:?}/var"
mkdir -p "$SD/var/Maildir/new" "$SD/var/Maildir/cur" "$SD/var/Maildir/tmp"
cp "$CORPUS_BOUNCE2" "$SD/var/Maildir/new/2.eml"
while read -r min hour dom mon dow user cmd; do
	ok
	[ "$user" = bouncedb ] || fail "cron: the job runs as '$user', not bouncedb"
	ok
	case "$min $hour $dom $mon $dow" in
	*[!0-9*/,\ -]*) fail "cron: bad time fields '$min $hour $dom $mon $dow'" ;;
	esac
	cmd=$(printf '%s' "$cmd" | sed -e "s|/usr/bin/bouncedb|$B|g" -e "s|/var/lib/bouncedb|$SD/var|g")
	expect_status 0 "cron job: $cmd" -- sh -c "$cmd"
done <"$TMP/cron"
suppressed "$SD/var" carol@example.net "cron sweep"

# --- cmake --install -----------------------------------------------------------
if have cmake && [ -n "${BUILDDIR:-}" ] && [ -f "$BUILDDIR/cmake_install.cmake" ]; then
	STAGE=$TMP/stage
	DESTDIR=$STAGE cmake --install "$BUILDDIR" >"$TMP/install.log" 2>&1
	rc=$?
	ok
	[ $rc -eq 0 ] || fail "DESTDIR=... cmake --install: $(tail -3 "$TMP/install.log")"
	prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILDDIR/CMakeCache.txt")
	libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$BUILDDIR/CMakeCache.txt")
	R=$STAGE$prefix
	libexecdir=$(sed -n 's/^CMAKE_INSTALL_LIBEXECDIR:PATH=//p' "$BUILDDIR/CMakeCache.txt")
	for f in bin/bouncedb "$libexecdir/bouncedb/bouncedb-full" "$libdir/libbouncedb.so" "$libdir/libbouncedb.so.0" \
	         "$libdir/pkgconfig/bouncedb.pc" include/bouncedb/bouncedb.h include/bouncedb/classify.h \
	         share/man/man1/bouncedb.1 share/man/man5/bouncedb.conf.5 \
	         share/bash-completion/completions/bouncedb \
	         share/doc/bouncedb/README.md share/doc/bouncedb/reasons.md share/doc/bouncedb/rules-builtin.txt \
	         share/doc/bouncedb/contrib/bouncedb.conf.example share/doc/bouncedb/contrib/README \
	         share/doc/bouncedb/contrib/procmail/bouncedb.rc share/doc/bouncedb/contrib/procmail/README \
	         share/doc/bouncedb/contrib/sieve/bouncedb.sieve share/doc/bouncedb/contrib/sieve/90-sieve-extprograms.conf \
	         share/doc/bouncedb/contrib/sieve/README \
	         share/doc/bouncedb/contrib/postfix/master.cf share/doc/bouncedb/contrib/postfix/README \
	         share/doc/bouncedb/contrib/systemd/bouncedb-sweep.service \
	         share/doc/bouncedb/contrib/systemd/bouncedb-sweep.timer share/doc/bouncedb/contrib/cron/bouncedb; do
		ok
		[ -e "$R/$f" ] || fail "install: $prefix/$f is missing"
	done
	for h in "$SRCDIR"/include/bouncedb/*.h; do
		ok
		[ -f "$R/include/bouncedb/$(basename "$h")" ] || fail "install: header $(basename "$h") is missing"
	done
	ok
	[ -x "$R/share/doc/bouncedb/contrib/sieve/bouncedb-ingest" ] || fail "install: the Sieve wrapper is not executable"
	for f in mailman3 listmonk webhook; do
		ok
		[ -x "$R/share/doc/bouncedb/contrib/hooks/$f" ] || fail "install: the $f hook adapter is not executable"
	done
	ok
	readlink "$R/$libdir/libbouncedb.so.0" | grep -q '^libbouncedb\.so\.0\.' || fail "install: no SOVERSION link"
	ok
	grep -q "^prefix=$prefix\$" "$R/$libdir/pkgconfig/bouncedb.pc" || fail "install: bouncedb.pc has the wrong prefix"
	expect_status 0 "installed bouncedb --version" -- env LD_LIBRARY_PATH="$R/$libdir" "$R/bin/bouncedb" --version
	expect_grep "^bouncedb [0-9]" "$TMP/out" "installed bouncedb --version"
	# The installed front finds bouncedb-full relative to itself.
	expect_status 0 "installed bouncedb parse" -- env LD_LIBRARY_PATH="$R/$libdir" "$R/bin/bouncedb" parse --json "$SRCDIR/corpus/dsn/postfix-user-unknown.eml"
	expect_grep '"reason":"userunknown"' "$TMP/out" "installed bouncedb parse runs bouncedb-full"
	# bash-completion's loader finds the installed completion.
	if [ -f /usr/share/bash-completion/bash_completion ]; then
		expect_status 0 "bash-completion loads the installed file" -- bash -c \
			'. /usr/share/bash-completion/bash_completion; XDG_DATA_DIRS=$1/share __load_completion bouncedb && complete -p bouncedb' \
			sh "$R"
		expect_grep "_bouncedb" "$TMP/out" "bash-completion: complete -F _bouncedb"
	else
		skip "bash-completion not installed: its loader not tried"
	fi
	# A C program, built through the installed pkg-config file.  The staged
	# file names the final prefix, so point a copy of it at the staging
	# directory (PKG_CONFIG_SYSROOT_DIR would also move glib's paths into
	# the stage); then install again with --prefix, which needs no copy.
	cat >"$TMP/t.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <bouncedb/bouncedb.h>
int main (void)
{
	const char *name = bdb_reason_name (BDB_REASON_USERUNKNOWN);
	printf ("%s %s\n", name, BDB_VERSION_STRING);
	return strcmp (name, "userunknown") != 0;
}
EOF
	CFLAGS_EXTRA=
	grep -q '^BOUNCEDB_SANITIZE:BOOL=ON' "$BUILDDIR/CMakeCache.txt" && CFLAGS_EXTRA=-fsanitize=address,undefined
	if have pkg-config && have cc; then
		mkdir -p "$TMP/pc"
		sed "s|^prefix=.*|prefix=$R|" "$R/$libdir/pkgconfig/bouncedb.pc" >"$TMP/pc/bouncedb.pc"
		cmake --install "$BUILDDIR" --prefix "$TMP/p2" >"$TMP/install2.log" 2>&1
		for pcdir in "$TMP/pc" "$TMP/p2/$libdir/pkgconfig"; do
			expect_status 0 "pkg-config --validate ($pcdir)" -- env PKG_CONFIG_PATH="$pcdir" pkg-config --validate bouncedb
			cf=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags bouncedb)
			lf=$(PKG_CONFIG_PATH=$pcdir pkg-config --libs bouncedb)
			libpath=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir bouncedb)
			# shellcheck disable=SC2086
			expect_status 0 "cc via pkg-config ($pcdir)" -- cc $CFLAGS_EXTRA $cf "$TMP/t.c" -o "$TMP/t" $lf
			expect_status 0 "run the program ($pcdir)" -- env LD_LIBRARY_PATH="$libpath" "$TMP/t"
			expect_grep "^userunknown " "$TMP/out" "bdb_reason_name through the installed library"
			ok
			env LD_LIBRARY_PATH="$libpath" ldd "$TMP/t" | grep -q "$libpath/libbouncedb.so.0" ||
				fail "the program does not use the installed libbouncedb.so.0"
		done
	else
		skip "pkg-config or cc not installed: no program built against the library"
	fi
else
	skip "cmake or the build directory not available: install not tried"
fi

done_testing
