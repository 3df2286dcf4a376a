#!/bin/sh
# prune --compact beside other processes: it must never swap data.mdb under
# an open environment (LMDB would then read another, often empty, database).
# It compacts when the database is idle and refuses, busy, when it is not;
# readers and writers running around it never see an entry vanish.
. "$(dirname "$0")/lib.sh"

export BOUNCEDB_NOW=1795000000
DB=$TMP/db
cat >"$TMP/conf" <<CONF
[database]
lock_timeout_ms = 300
CONF
B="$BOUNCEDB --config $TMP/conf"

count() {
	$B list --db "$DB" | wc -l
}

$B add --db "$DB" --reason manual $(seq -f 'a%g@example.com' 1 50) >/dev/null

# A filter reading a long list holds the database open.
mkfifo "$TMP/fifo"
$B filter --db "$DB" <"$TMP/fifo" >"$TMP/filtered" &
filter=$!
exec 7>"$TMP/fifo"
printf 'a1@example.com\nfresh@example.com\n' >&7
sleep 0.3
expect_status 75 "compaction refused while a filter has the database open" -- $B prune --compact --db "$DB"
expect_grep "another process has the database open" "$TMP/err" "says why"
expect_grep "pruned 0 expired" "$TMP/out" "the pruning itself is reported"
[ "$(count)" -eq 50 ] || fail "after a refused compaction: $(count) entries, want 50"
ok
expect_status 0 "add beside the filter" -- $B add --db "$DB" --reason manual new@example.com
# (the filter answers from the snapshot it started with)
printf 'a2@example.com\nother@example.com\n' >&7
exec 7>&-
wait "$filter" || fail "filter failed"
ok
[ "$(count)" -eq 51 ] || fail "after add: $(count) entries, want 51"
ok
[ "$(cat "$TMP/filtered")" = "fresh@example.com
other@example.com" ] || fail "filter answered wrongly around the compaction: $(cat "$TMP/filtered")"
ok

expect_status 0 "compaction of an idle database" -- $B prune --compact --json --db "$DB"
expect_grep '"compacted":true' "$TMP/out" "reports it compacted"
[ "$(count)" -eq 51 ] || fail "after compaction: $(count) entries, want 51"
ok
[ ! -e "$DB/data.mdb.compact" ] || fail "the compaction's copy was left behind"
ok

# Many rounds: readers and a writer run while compactions are attempted.
# Every reader answer that succeeds must see every entry committed before
# it; every add that succeeded must be there at the end.
rounds=${COMPACT_ROUNDS:-15}
: >"$TMP/added"
: >"$TMP/short"
compacted=0 refused=0
r=1
while [ "$r" -le "$rounds" ]; do
	(
		i=1
		while [ "$i" -le 6 ]; do
			a="r$r-$i@example.com"
			if $B add --db "$DB" --reason manual "$a" >/dev/null 2>&1; then echo "$a" >>"$TMP/added"; fi
			i=$((i + 1))
		done
	) &
	writer=$!
	for k in 1 2; do
		(
			j=0
			while [ "$j" -lt 5 ]; do
				if n=$($B list --db "$DB" 2>/dev/null | wc -l) && [ "$n" -lt 51 ]; then
					echo "round $r: a reader saw $n entries" >>"$TMP/short"
				fi
				$B check --db "$DB" a7@example.com >/dev/null 2>&1
				[ $? -eq 0 ] && echo "round $r: check let a suppressed address through" >>"$TMP/short"
				j=$((j + 1))
			done
		) &
	done
	for c in 1 2; do
		if $B prune --compact --db "$DB" >/dev/null 2>"$TMP/perr"; then
			compacted=$((compacted + 1))
		else
			grep -q "another process has the database open\|database busy" "$TMP/perr" ||
				fail "round $r: compaction failed otherwise: $(cat "$TMP/perr")"
			refused=$((refused + 1))
		fi
	done
	wait
	r=$((r + 1))
done
# And once more with nothing else running: it must succeed.
expect_status 0 "final compaction" -- $B prune --compact --db "$DB"
[ ! -s "$TMP/short" ] || fail "readers saw entries vanish: $(head -3 "$TMP/short")"
ok
want=$((51 + $(wc -l <"$TMP/added")))
[ "$(count)" -eq "$want" ] || fail "after $rounds rounds: $(count) entries, want $want"
ok
$B list --db "$DB" | awk '{ print $1 }' | sort >"$TMP/listed"
sort "$TMP/added" | comm -23 - "$TMP/listed" >"$TMP/lost"
[ ! -s "$TMP/lost" ] || fail "adds that succeeded are gone: $(head -3 "$TMP/lost")"
ok
echo "t-compact: $rounds rounds, $compacted compactions, $refused refused while busy, $(wc -l <"$TMP/added") adds"

done_testing
