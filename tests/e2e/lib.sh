# tests/e2e/lib.sh: what the end-to-end scripts share: a private hotsoakd on
# a loopback port in a temporary folder, its CLI, and cleanup by pid.
set -euo pipefail

top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
HOTSOAKD=$top_builddir/hotsoakd
HOTSOAK=$top_builddir/hotsoak
AGENT=$top_builddir/hotsoak-agent

E2E_DIR=$(mktemp -d /tmp/hotsoak-e2e.XXXXXX)
DAEMON_PID=
SERVER=
fails=0
passes=0

e2e_cleanup() {
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
	fi
	rm -rf "$E2E_DIR"
}
trap e2e_cleanup EXIT

# start_daemon [ARGS]: hotsoakd on 127.0.0.1, any free port, state in
# E2E_DIR. The shipped campaigns' schedules stay off (a test that runs at
# 02:00 must not start the nightly soak) unless E2E_SCHEDULE=1.
start_daemon() {
	local sched=--no-schedule
	[ "${E2E_SCHEDULE:-0}" = 1 ] && sched=
	rm -f "$E2E_DIR/state/hotsoakd.url"
	"$HOTSOAKD" --foreground --listen 127.0.0.1:0 --state-dir "$E2E_DIR/state" \
	    --plans-dir "$E2E_DIR/plans" --agent "$AGENT" $sched "$@" \
	    2>>"$E2E_DIR/hotsoakd.log" &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		[ -s "$E2E_DIR/state/hotsoakd.url" ] && break
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$E2E_DIR/hotsoakd.log"; return 1; }
		sleep 0.1
	done
	SERVER=$(cat "$E2E_DIR/state/hotsoakd.url")
	export HOTSOAK_SERVER=$SERVER
}

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
}

mkdir -p "$E2E_DIR/plans"
cp "$top_srcdir"/plans/*.yaml "$E2E_DIR/plans/"

ok() { echo "ok - $*"; passes=$((passes + 1)); }
not_ok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# json EXPR < JSON: one value, with jq.
json() { jq -r "$1"; }

# run_id_of OUTPUT: the id `hotsoak run` printed ("run 12: ...").
run_id_of() { sed -n 's/^run \([0-9][0-9]*\):.*/\1/p' | head -n 1; }

# wait_status ID STATUS SECONDS
wait_status() {
	local id=$1 want=$2 n=$(( $3 * 10 ))
	for _ in $(seq "$n"); do
		[ "$(curl -s "$SERVER/api/v1/runs/$id" | json .status)" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

e2e_done() {
	echo "$passes passed, $fails failed"
	if [ "$fails" -ne 0 ]; then
		echo "--- hotsoakd log"; tail -n 80 "$E2E_DIR/hotsoakd.log" || true
		exit 1
	fi
	exit 0
}
