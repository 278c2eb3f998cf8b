#!/bin/bash
# soak.sh: the main job: starts a private hotsoakd (loopback, any free
# port, state in a temporary folder unless HOTSOAK_STATE_DIR is set), runs
# one shipped plan on it with `hotsoak run --wait` (a campaign, such as
# `quick`, with `hotsoak campaign start --wait`), prints the summary, and
# stops the daemon. Exits as those do: 0 pass, 1 fail, 2 error, 3 flaky.
# Campaigns start only by hand here: the daemon runs without schedules.
#
# usage: soak.sh [PLAN]   (default local-soak; a name in plans/ or a file)
set -euo pipefail

plan=${1:-local-soak}
bindir=${HOTSOAK_BINDIR:-$(pwd)}
plans=$(cd "$(dirname "$0")" && pwd)
state=${HOTSOAK_STATE_DIR:-}
own_state=
if [ -z "$state" ]; then
	state=$(mktemp -d /tmp/hotsoak-soak.XXXXXX)
	own_state=yes
fi
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null || true
	fi
	[ -n "$own_state" ] && rm -rf "$state"
	return 0
}
trap cleanup EXIT

rm -f "$state/hotsoakd.url"
"$bindir/hotsoakd" --foreground --listen 127.0.0.1:0 --state-dir "$state" \
    --plans-dir "$plans" --agent "$bindir/hotsoak-agent" --no-schedule \
    2>"$state.log" &
pid=$!
for _ in $(seq 100); do
	[ -s "$state/hotsoakd.url" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$state.log" >&2
		exit 2
	fi
	sleep 0.1
done
server=$(cat "$state/hotsoakd.url")
echo "hotsoakd at $server, state in $state, log in $state.log"
set +e
f=$plans/${plan%.yaml}.yaml
if [ -f "$f" ] && grep -q '^kind:[[:space:]]*campaign' "$f"; then
	"$bindir/hotsoak" --server "$server" campaign start "${plan%.yaml}" --wait
else
	"$bindir/hotsoak" --server "$server" run "$plan" --wait
fi
rc=$?
set -e
[ -n "$own_state" ] && [ "$rc" -eq 0 ] && rm -f "$state.log"
exit "$rc"
