#!/bin/sh
# The configuration file: a mistake in it is an error naming the file, the
# line and the key (with the key meant, for a near miss), never a default
# applied in silence; `config check` lists every mistake, `config keys`
# every key.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
B=$BOUNCEDB
DB=$TMP/db
$B add --db "$DB" --reason manual seed@example.com >/dev/null 2>&1 || fail "seeding the database"

# conf NAME: the configuration on standard input, written to $TMP/NAME.conf
conf() {
	cat >"$TMP/$1.conf"
}

# bad NAME PATTERN DESCRIPTION: check with NAME.conf exits 78 and says PATTERN
bad() {
	expect_status 78 "$3" -- $B --config "$TMP/$1.conf" check --db "$DB" a@example.com
	expect_grep "$TMP/$1.conf" "$TMP/err" "$3: names the file"
	expect_grep "$2" "$TMP/err" "$3: says what is wrong"
	[ ! -s "$TMP/out" ] || fail "$3: answered although the configuration is wrong"
	ok
}

printf '[databse]\npath = %s\n' "$DB" | conf section
bad section "line 1: \[databse\] is not a section (did you mean \[database\]?)" "a misspelt section"

printf '[policy]\nsoft_treshold = 4\n' | conf key
bad key "line 2: \[policy\] soft_treshold is not a key bouncedb knows (did you mean soft_threshold?)" "a misspelt key"

printf '# comment\n[policy]\n\nsoft_threshold = five\n' | conf value
bad value "line 4: \[policy\] soft_threshold = five: not a number" "a number that is not one"

printf '[policy]\ninactive_expiry = six months\n' | conf duration
bad duration "inactive_expiry = six months: not a duration" "a duration that is not one"

printf '[policy]\nkeep_local_case = yes\n' | conf boolean
bad boolean "keep_local_case = yes: not true or false" "a boolean that is not one"

printf '[database]\nmap_size = 64 MB\n' | conf size
bad size "map_size = 64 MB: not a size" "a size that is not one"

printf '[sweep]\nprocessed = trash\n' | conf processed
bad processed "processed = trash: not seen, delete, keep or move:MAILDIR" "an unknown processed mode"

printf '[policy]\nbatch = 100\n' | conf place
bad place "\[policy\] batch: this key belongs in \[sweep\]" "a key in the wrong section"

printf '[policy]\nsoft_threshold = 4\nsoft_threshold = 6\n' | conf twice
bad twice "line 3: \[policy\] soft_threshold is set again (first on line 2)" "a key set twice"

printf '[expiry]\nhostunkown = 30d\n' | conf reason
bad reason "\[expiry\] hostunkown is not a reason bouncedb knows (did you mean hostunknown?)" "an unknown reason in [expiry]"

printf '[hooks]\nlist.command = /bin/true\nlist.comand = /bin/true\n' | conf hook
bad hook "line 3: \[hooks\] list.comand is not a key bouncedb knows (did you mean list.command?)" "a misspelt hook setting"

printf '[policy]\nsoft_threshold 4\n' | conf syntax
bad syntax "line 2: 'soft_threshold 4' is not a \[section\]" "a line that is no key"

printf '[frobnicate]\nx = 1\n' | conf unknown
bad unknown "\[frobnicate\] is not a section bouncedb knows" "an unknown section"

# The same from $BOUNCEDB_CONFIG, after the command, and for every command
# (ingest exits 75: the MTA keeps the message).
expect_status 78 "BOUNCEDB_CONFIG with a typo" -- env BOUNCEDB_CONFIG="$TMP/key.conf" $B check --db "$DB" a@example.com
expect_status 78 "--config after the command, with a typo" -- $B list --config "$TMP/key.conf" --db "$DB"
expect_status 75 "ingest with a typo in the configuration" -- \
	sh -c "$B --config '$TMP/key.conf' ingest --db '$DB' < '$CORPUS/dsn/postfix-user-unknown.eml'"
expect_grep "soft_treshold" "$TMP/err" "ingest says why"

# What is right still works: blanks after a value do not make it wrong (a
# path keeps no trailing blanks), a comment, booleans as GKeyFile reads them.
printf '# bouncedb\n[database]\npath = %s   \nmap_size = 32M\n[policy]\nsoft_threshold = 4  \nkeep_local_case = 0\n[expiry]\nhasmoved = 1y\n[sweep]\nprocessed = move:/tmp/x\n' "$TMP/trimmed" | conf good
expect_status 0 "a good configuration" -- $B --config "$TMP/good.conf" add --reason manual b@example.com
[ -d "$TMP/trimmed" ] || fail "the path's trailing blanks were kept: $(ls "$TMP")"
ok

# config check: every mistake at once, then what the file names.
printf '[databse]\n[policy]\nsoft_treshold = 4\nsoft_threshold = five\n' | conf many
expect_status 78 "config check" -- $B config check "$TMP/many.conf"
[ "$(grep -c "many.conf': line" "$TMP/err")" -eq 3 ] || fail "config check: want 3 problems, got: $(cat "$TMP/err")"
ok
expect_status 78 "a command says the first mistake, and how to see them all" -- $B --config "$TMP/many.conf" check --db "$DB" a@example.com
expect_grep "and 2 more: run 'bouncedb config check'" "$TMP/err" "the count of the others"
expect_status 0 "config check of a good file" -- $B config check "$TMP/good.conf"
expect_grep "good.conf: ok" "$TMP/out" "says ok"
expect_status 0 "config check of the file --config names" -- $B --config "$TMP/good.conf" config check
expect_status 78 "config check of BOUNCEDB_CONFIG" -- env BOUNCEDB_CONFIG="$TMP/key.conf" $B config check
expect_status 66 "config check of a missing file" -- $B config check "$TMP/nonexistent.conf"
printf '[classify]\nrules_file = %s\n' "$TMP/no-rules.txt" | conf norules
expect_status 66 "config check loads the rules file" -- $B config check "$TMP/norules.conf"
printf 'bad rule\n' >"$TMP/rules.txt"
printf '[classify]\nrules_file = %s\n' "$TMP/rules.txt" | conf badrules
expect_status 78 "config check: a bad rules file" -- $B config check "$TMP/badrules.conf"
printf '[verify]\nenabled = true\nkey_file = %s\n' "$TMP/no-keys" | conf nokeys
expect_status 66 "config check loads the key file" -- $B config check "$TMP/nokeys.conf"
printf '[hooks]\nx.timeout = 30s\n' | conf hooknocommand
expect_status 78 "config check: a hook without a command" -- $B config check "$TMP/hooknocommand.conf"
printf '[hooks]\nx.command = true\nx.timeout = never\n' | conf hooktimeout
expect_status 78 "config check: a hook's timeout that hooks refuses" -- $B config check "$TMP/hooktimeout.conf"
expect_grep "x.timeout" "$TMP/err" "config check: names the hook's key"
printf '[database]\ngroup = no-such-group-bouncedb\n' | conf nogroup
expect_status 78 "config check: a group that does not exist" -- $B config check "$TMP/nogroup.conf"
expect_grep "no group 'no-such-group-bouncedb'" "$TMP/err" "config check: names the group"
printf '[serve]\nsocket_group = no-such-group-bouncedb\n' | conf nosocketgroup
expect_status 78 "config check: serve's socket group that does not exist" -- $B config check "$TMP/nosocketgroup.conf"
expect_grep "\\[serve\\] socket_group: no group" "$TMP/err" "config check: names serve's key"
expect_status 64 "config without an action" -- $B config
expect_status 0 "config keys" -- $B config keys
expect_grep "^policy	soft_threshold	number	5$" "$TMP/out" "config keys: section, key, type, default"
expect_grep "^expiry	REASON	duration	-$" "$TMP/out" "config keys: [expiry] takes reasons"

done_testing
