#!/bin/sh
# Hooks, at least once: each change a hook wants reaches its command (the
# JSON `events --json` prints), in order; a failing command is retried
# after its backoff and its error shown; a runner killed between the
# command's exit and the cursor's commit delivers again, never skips;
# concurrent runners never run one hook twice at once; a cursor holds the
# feed back from prune until taken or forgotten; ingest never waits.
. "$(dirname "$0")/lib.sh"

NOW=1795000000   # 2026-11-18
export BOUNCEDB_NOW=$NOW
DB=$TMP/db
C=$TMP/bouncedb.conf

conf() { # the [hooks] lines, from standard input
	{ echo "[hooks]"; cat; } >"$C"
}
# (A function: in the background it would be a subshell, not bouncedb:
# background runs call "$BOUNCEDB" itself.)
B() {
	"$BOUNCEDB" --config "$C" --db "$DB" "$@"
}
add() { # add ADDRESS...: one manual suppression per address
	"$BOUNCEDB" --config "$C" --db "$DB" add --reason userunknown "$@" >/dev/null || fail "add $*"
}
# cursor NAME: the hook's cursor, from `hooks --json`
cursor() {
	B hooks --json | python3 -c 'import json, sys
for l in sys.stdin:
    h = json.loads(l)
    if h["hook"] == sys.argv[1]: print(h["cursor"])' "$1"
}

# --- every change, as events --json prints it, in order ------------------------
conf <<EOF
all.command = cat >>$TMP/all.jsonl
hard.command = cat >>$TMP/hard.jsonl
hard.dispositions = suppress
removed.command = cat >>$TMP/removed.jsonl
removed.changes = removed
EOF
expect_status 0 "ingest" -- sh -c '"$1" --db "$2" ingest < "$3"' sh "$BOUNCEDB" "$DB" "$CORPUS/dsn/postfix-user-unknown.eml"
add a1@example.com a2@example.com
expect_status 0 "remove" -- B remove a1@example.com
expect_status 0 "hooks: not run yet" -- B hooks
expect_grep "^all  *cursor 0 .*backlog [1-9].*not run yet" "$TMP/out" "a new hook has run nothing"
expect_status 0 "hooks run" -- B hooks run
expect_grep "^all: [1-9][0-9]* delivered" "$TMP/out" "hooks run says what it delivered"
expect_status 0 "events --json" -- B events --json
ok
cmp -s "$TMP/out" "$TMP/all.jsonl" || fail "the hook did not get exactly what events --json prints"
ok
[ "$(wc -l <"$TMP/hard.jsonl")" -eq 1 ] && grep -q '"address":"bob@example.net"' "$TMP/hard.jsonl" ||
	fail "dispositions = suppress: want bob's bounce alone, got $(cat "$TMP/hard.jsonl")"
ok
[ "$(wc -l <"$TMP/removed.jsonl")" -eq 1 ] && grep -q '"change":"removed".*"address":"a1@example.com"' "$TMP/removed.jsonl" ||
	fail "changes = removed: want a1's removal alone, got $(cat "$TMP/removed.jsonl")"
last=$(wc -l <"$TMP/all.jsonl")
for h in all hard removed; do
	ok
	[ "$(cursor $h)" = "$last" ] || fail "$h: cursor $(cursor $h), want $last (what it did not want is passed too)"
done
expect_status 0 "hooks run again" -- B hooks run
ok
[ "$(wc -l <"$TMP/all.jsonl")" -eq "$last" ] || fail "a second run delivered again what was taken"
# The command's environment names the change.
conf <<EOF
env.command = echo "\$BOUNCEDB_HOOK \$BOUNCEDB_SEQ \$BOUNCEDB_DB_ID" >>$TMP/env
EOF
add e1@example.com
B hooks run >/dev/null
expect_grep "^env $((last + 1)) [0-9a-f]\{32\}\$" "$TMP/env" "BOUNCEDB_HOOK, BOUNCEDB_SEQ, BOUNCEDB_DB_ID"

# --- configuration mistakes are errors naming the key --------------------------
conf <<EOF
x.command = true
x.dispositons = suppress
EOF
expect_status 78 "an unknown setting" -- B hooks run
expect_grep "x.dispositons" "$TMP/err" "the error names the key"
conf <<EOF
x.command = true
x.dispositions = supress
EOF
expect_status 78 "a filter word that matches nothing" -- B hooks
expect_grep "'supress' is none of" "$TMP/err" "the error names the word"
conf <<EOF
x.changes = removed
EOF
expect_status 78 "a hook without a command" -- B hooks run

# --- a failing hook: kept, retried after its backoff, error shown ---------------
rm -rf "$DB"
conf <<EOF
flaky.command = n=\$(cat $TMP/tries 2>/dev/null || echo 0); echo \$((n + 1)) >$TMP/tries; [ -f $TMP/fixed ] || { echo "503 try later" >&2; exit 3; }; cat >>$TMP/flaky.jsonl
EOF
add f1@example.com f2@example.com
expect_status 75 "a failing hook: run exits 75" -- B hooks run
expect_grep "flaky: change 1: exit 3: 503 try later (attempt 1; next at 2026-11-18T11:07:10Z)" "$TMP/err" "the failure on stderr"
expect_status 0 "hooks shows the failure" -- B hooks
expect_grep "flaky  *cursor 0 .*backlog 2 .*failing: 1 attempt on change 1, next at 2026-11-18T11:07:10Z" "$TMP/out" "hooks: backlog, attempts, next attempt"
expect_grep "last error: exit 3: 503 try later" "$TMP/out" "hooks: the last error"
expect_status 0 "before its next attempt: not tried" -- B hooks run
ok
[ "$(cat "$TMP/tries")" = 1 ] || fail "the hook ran again before its next attempt ($(cat "$TMP/tries") tries)"
BOUNCEDB_NOW=$((NOW + 30)) expect_status 75 "at its next attempt: tried, fails again" -- B hooks run
ok
[ "$(cat "$TMP/tries")" = 2 ] || fail "the hook was not retried at its next attempt"
expect_status 0 "hooks --json" -- B hooks --json
expect_grep '"failures":2,"failed_seq":1,"last_error":"exit 3: 503 try later","next_attempt":"2026-11-18T11:08:10Z"' \
	"$TMP/out" "the backoff doubles (30 s, then 60 s)"
touch "$TMP/fixed"
BOUNCEDB_NOW=$((NOW + 45)) expect_status 0 "still backing off" -- B hooks run
expect_status 0 "--retry-now" -- B hooks run --retry-now
ok
[ "$(wc -l <"$TMP/flaky.jsonl")" -eq 2 ] || fail "once fixed, the hook should have both changes"
expect_status 0 "hooks after the fix" -- B hooks
expect_grep "flaky  *cursor 2 .*backlog 0 .*ok" "$TMP/out" "the error is cleared once a change is taken"

# --- a time limit: the command and its children are killed ----------------------
conf <<EOF
slow.command = sleep 30 & echo \$! >$TMP/slow.pid; wait
slow.timeout = 1s
EOF
start=$(date +%s)
expect_status 75 "a hook over its time limit" -- B hooks run
expect_grep "slow: change 1: timed out after 1 s" "$TMP/err" "timed out, said so"
ok
[ $(($(date +%s) - start)) -lt 10 ] || fail "the time limit was not kept"
# (gone, or a zombie left to init)
ok
sleep 0.2
case $(ps -o stat= -p "$(cat "$TMP/slow.pid")") in
"" | Z*) ;;
*) fail "the hook's child outlived the time limit" ;;
esac

# --- killed between the command's exit and the commit: delivered again ------------
# The hook stops the runner (SIGSTOP) as it finishes, so the runner is
# frozen after the command exited and before it could commit; then the
# runner is killed with SIGKILL.
rm -rf "$DB"
conf <<EOF
crash.command = cat >>$TMP/crash.jsonl; while [ ! -s $TMP/runner.pid ]; do sleep 0.05; done; kill -STOP \$(cat $TMP/runner.pid)
EOF
add c1@example.com
rm -f "$TMP/runner.pid"
"$BOUNCEDB" --config "$C" --db "$DB" hooks run >/dev/null 2>&1 &
runner=$!
echo "$runner" >"$TMP/runner.pid"
n=0
# stopped, and its one child (the hook's shell) has exited: a zombie
until grep -q '^State:.*T' "/proc/$runner/status" 2>/dev/null &&
      ! ps -o stat= --ppid "$runner" | grep -qv Z; do
	n=$((n + 1))
	[ $n -gt 200 ] && break
	sleep 0.05
done
ok
[ $n -le 200 ] || fail "the runner did not stop after the hook"
kill -9 "$runner"
wait "$runner" 2>/dev/null
ok
[ "$(wc -l <"$TMP/crash.jsonl")" -eq 1 ] || fail "the hook did not run once before the crash"
ok
[ "$(cursor crash)" = 0 ] || fail "the cursor moved though the runner died before its commit"
conf <<EOF
crash.command = cat >>$TMP/crash.jsonl
EOF
expect_status 0 "the next run" -- B hooks run
ok
[ "$(wc -l <"$TMP/crash.jsonl")" -eq 2 ] && [ "$(sed -n 1p "$TMP/crash.jsonl")" = "$(sed -n 2p "$TMP/crash.jsonl")" ] ||
	fail "change 1 was not delivered again after the crash: $(cat "$TMP/crash.jsonl")"
ok
[ "$(cursor crash)" = 1 ] || fail "cursor $(cursor crash) after the redelivery, want 1"

# --- concurrent runners never run one hook at the same time ----------------------
rm -rf "$DB"
conf <<EOF
one.command = mkdir $TMP/inside 2>/dev/null || echo overlap >>$TMP/overlap; cat >>$TMP/one.jsonl; sleep 0.02; rmdir $TMP/inside
EOF
i=0
while [ $i -lt 30 ]; do add "k$i@example.com"; i=$((i + 1)); done
for r in 1 2 3; do
	( for k in 1 2 3 4; do B hooks run >/dev/null 2>&1; done ) &
done
( i=30; while [ $i -lt 40 ]; do add "k$i@example.com"; i=$((i + 1)); done ) &
wait
B hooks run >/dev/null 2>&1
ok
[ ! -e "$TMP/overlap" ] || fail "two runners ran the hook at once ($(wc -l <"$TMP/overlap") times)"
python3 - "$TMP/one.jsonl" <<'PY' >"$TMP/check" 2>&1 || fail "concurrent runners: $(cat "$TMP/check")"
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1])]
assert sorted(set(seqs)) == list(range(1, 41)), "missing: %s" % (set(range(1, 41)) - set(seqs))
assert seqs == sorted(seqs), "out of order"
PY
ok
[ "$(cursor one)" = 40 ] || fail "cursor $(cursor one), want 40"

# --- ingest never waits for a hook -------------------------------------------------
conf <<EOF
one.command = cat >/dev/null; sleep 3
EOF
add late@example.com
"$BOUNCEDB" --config "$C" --db "$DB" hooks run >/dev/null 2>&1 &
runner=$!
sleep 0.5
start=$(date +%s%N)
expect_status 0 "ingest while a hook runs" -- sh -c '"$1" --db "$2" ingest < "$3"' sh "$BOUNCEDB" "$DB" "$CORPUS/dsn/exim-user-unknown.eml"
took=$((($(date +%s%N) - start) / 1000000))
ok
[ "$took" -lt 2000 ] || fail "ingest took $took ms while a hook ran"
echo "t-hooks: ingest took $took ms while a hook ran"
expect_status 0 "hooks run --hook, while the other runner has it" -- B hooks run --hook one
expect_grep "one: another runner has it" "$TMP/out" "a busy hook is left to its runner"
wait "$runner"

# --- a cursor holds the feed back from prune; a removed hook says so -------------
rm -rf "$DB"
conf <<EOF
keep.command = exit 1
EOF
add p1@example.com p2@example.com p3@example.com
LATER=$((NOW + 10 * 86400))
expect_status 0 "prune, a hook that never ran" -- env BOUNCEDB_NOW=$LATER "$BOUNCEDB" --config "$C" --db "$DB" prune --feed 1d
expect_status 0 "events" -- B events
ok
[ "$(wc -l <"$TMP/out")" -eq 3 ] || fail "prune dropped changes a configured hook has not taken"
conf <<EOF
keep.command = [ \$BOUNCEDB_SEQ -lt 2 ]
EOF
B hooks run >/dev/null 2>&1
expect_status 0 "prune, a hook at change 1" -- env BOUNCEDB_NOW=$LATER "$BOUNCEDB" --config "$C" --db "$DB" prune --feed 1d
expect_status 0 "events" -- B events
ok
[ "$(cut -f1 "$TMP/out" | tr '\n' ' ')" = "2 3 " ] || fail "prune: want changes 2 and 3 kept, got $(cut -f1 "$TMP/out" | tr '\n' ' ')"
conf </dev/null
expect_status 0 "hooks, the hook removed" -- B hooks
expect_grep "^keep  *cursor 1 .*backlog 2 .*not in the configuration.*hooks --forget keep" "$TMP/out" "a removed hook's cursor is shown"
expect_status 0 "prune" -- env BOUNCEDB_NOW=$LATER "$BOUNCEDB" --config "$C" --db "$DB" prune --feed 1d
expect_status 0 "events" -- B events
ok
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "a removed hook's cursor should hold the feed until it is forgotten"
expect_status 0 "hooks --forget" -- B hooks --forget keep
expect_status 0 "prune after forgetting" -- env BOUNCEDB_NOW=$LATER "$BOUNCEDB" --config "$C" --db "$DB" prune --feed 1d
expect_status 0 "events" -- B events
ok
[ ! -s "$TMP/out" ] || fail "forgotten: prune should drop what it held"
expect_status 0 "hooks, nothing left" -- B hooks
expect_grep "no hooks" "$TMP/out" "no hooks"

# --- --follow: a round at each commit, stopped by SIGTERM -------------------------
conf <<EOF
live.command = cat >>$TMP/live.jsonl
EOF
"$BOUNCEDB" --config "$C" --db "$DB" hooks run --follow >"$TMP/follow.out" 2>&1 &
follower=$!
sleep 0.5
start=$(date +%s%N)
add live@example.com
n=0
while ! grep -q live@example.com "$TMP/live.jsonl" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
took=$((($(date +%s%N) - start) / 1000000))
kill -TERM "$follower"
wait "$follower"
rc=$?
ok
grep -q live@example.com "$TMP/live.jsonl" 2>/dev/null || fail "--follow did not deliver the new change"
ok
[ "$took" -lt 2000 ] || fail "--follow took $took ms to deliver"
ok
[ "$rc" -eq 0 ] || fail "--follow: exit $rc after SIGTERM"
echo "t-hooks: --follow delivered after $took ms"

done_testing
