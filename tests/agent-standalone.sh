#!/bin/sh
# agent-standalone.sh: hotsoak-agent --standalone end to end: a clean run
# exits 0; damage made to a kept target behind its back (bit rot, zeroed,
# misdirected, lost and torn writes) is found by --verify-only at the right
# offsets and kinds, exit 1; usage errors exit 2.
set -u
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
agent=$top_builddir/hotsoak-agent
damage=$top_builddir/tests/agent-damage
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hotsoak-agent.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
t=$tmp/target

# A clean run: no findings, blocks verified, exit 0.
"$agent" --standalone --target "$t" --size 4MiB --seconds 1 --workers 2 \
    --json >"$tmp/clean.json"
rc=$?
if [ $rc -eq 0 ] && grep -q '"findings": \[\]' "$tmp/clean.json" &&
    ! grep -q '"blocks_verified": 0,' "$tmp/clean.json"; then
	ok "clean run"
else
	bad "clean run (exit $rc)"; cat "$tmp/clean.json"
fi
[ -e "$t" ] && bad "target not removed without --keep" || ok "target removed"

# Write-heavy, kept: most blocks reach generation 2 and more.
"$agent" --standalone --target "$t" --size 4MiB --seconds 1 --workers 2 \
    --read-percent 10 --seed 7 --keep --json >"$tmp/kept.json" ||
	bad "kept run exit $?"
"$agent" --standalone --verify-only --target "$t" --size 4MiB --json \
    >"$tmp/v0.json" && ok "kept target verifies clean" ||
	{ bad "kept target verifies clean"; cat "$tmp/v0.json"; }

"$damage" flip "$t" $((5 * 4096 + 1000))
"$damage" zero "$t" $((9 * 4096)) 4096
"$damage" copy "$t" $((20 * 4096)) $((21 * 4096)) 4096
stale=$("$damage" older "$t" "$t.hotsoak-state" 40)
torn=$("$damage" older "$t" "$t.hotsoak-state" 80 3)
"$agent" --standalone --verify-only --target "$t" --size 4MiB --json \
    >"$tmp/v1.json"
rc=$?
[ $rc -eq 1 ] && ok "damage: exit 1" || bad "damage: exit $rc, expected 1"
if "$damage" expect "$tmp/v1.json" bitrot:$((5 * 4096)) zeroed:$((9 * 4096)) \
    misdirected:$((21 * 4096)) stale:$stale torn:$torn; then
	ok "every damage found at its offset with its kind"
else
	bad "damage findings"; cat "$tmp/v1.json"
fi

# Without the state file only self-consistency is checked: the lost write
# looks like a good old block, everything else is still found.
mv "$t.hotsoak-state" "$tmp/state"
"$agent" --standalone --verify-only --target "$t" --size 4MiB --json \
    >"$tmp/v2.json"
if "$damage" expect "$tmp/v2.json" bitrot:$((5 * 4096)) zeroed:$((9 * 4096)) \
    misdirected:$((21 * 4096)) torn:$torn; then
	ok "without history: all but the lost write"
else
	bad "without history"; cat "$tmp/v2.json"
fi

# Usage and setup errors exit 2.
"$agent" --standalone --target "$t" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok "missing --size: exit 2" || bad "missing --size: exit $rc"
"$agent" --standalone --target "$t" --size 4MiB --block-size 1000 >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "bad block size: exit 2" || bad "bad block size: exit $rc"
"$agent" --standalone --target /nonexistent/x --size 4MiB --seconds 1 \
    >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok "unopenable target: exit 2" || bad "unopenable target: exit $rc"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
