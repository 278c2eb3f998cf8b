#!/bin/bash
# daemon-restart.sh: hotsoakd killed with SIGKILL mid-run and started again
# on the same state: the earlier run is intact, the killed one interrupted.
. "$(dirname "$0")/lib.sh"
plans=$top_srcdir/tests/e2e/plans
start_daemon

set +e
"$HOTSOAK" run "$plans/local-pass.yaml" --wait >"$E2E_DIR/first.out" 2>&1
rc=$?
set -e
first=$(run_id_of <"$E2E_DIR/first.out")
check "the first run passes" [ "$rc" -eq 0 ]
findings_before=$(curl -s "$SERVER/api/v1/runs/$first/findings" | json '.findings | length')
events_before=$(curl -s "$SERVER/api/v1/runs/$first/events?limit=500" | json '.events | length')

"$HOTSOAK" run "$plans/local-long.yaml" >"$E2E_DIR/second.out"
second=$(run_id_of <"$E2E_DIR/second.out")
for _ in $(seq 200); do
	[ "$(curl -s "$SERVER/api/v1/runs/$second" | json .step.action)" = wait ] && break
	sleep 0.1
done
agent=$(curl -s "$SERVER/api/v1/runs/$second" | json .agent.pid)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
# The agent dies with the daemon that started it (its parent-death signal).
gone=no
for _ in $(seq 50); do
	kill -0 "$agent" 2>/dev/null || { gone=yes; break; }
	sleep 0.1
done
check "the killed daemon's agent is gone too" [ "$gone" = yes ]
[ "$gone" = yes ] || kill -KILL "$agent" 2>/dev/null || true

start_daemon
check "the earlier run is intact" \
    [ "$(curl -s "$SERVER/api/v1/runs/$first" | json .verdict)" = pass ]
check "with all its findings" \
    [ "$(curl -s "$SERVER/api/v1/runs/$first/findings" | json '.findings | length')" = "$findings_before" ]
check "and all its events" \
    [ "$(curl -s "$SERVER/api/v1/runs/$first/events?limit=500" | json '.events | length')" = "$events_before" ]
run=$(curl -s "$SERVER/api/v1/runs/$second")
check "the killed run is interrupted" [ "$(echo "$run" | json .verdict)" = interrupted ]
check "and finished" [ "$(echo "$run" | json .status)" = finished ]
check "hotsoak runs lists both" \
    [ "$(curl -s "$SERVER/api/v1/runs" | json '.runs | length')" = 2 ]
set +e
"$HOTSOAK" show "$second" >/dev/null 2>&1
rc=$?
set -e
check "hotsoak show of an interrupted run exits 2" [ "$rc" -eq 2 ]

# SIGTERM stops the runs in flight and records them aborted before it exits.
"$HOTSOAK" run "$plans/local-long.yaml" >"$E2E_DIR/third.out"
third=$(run_id_of <"$E2E_DIR/third.out")
for _ in $(seq 200); do
	[ "$(curl -s "$SERVER/api/v1/runs/$third" | json .status)" = running ] && break
	sleep 0.1
done
stop_daemon
start_daemon
run=$(curl -s "$SERVER/api/v1/runs/$third")
check "a run stopped by SIGTERM is aborted" [ "$(echo "$run" | json .verdict)" = aborted ]
check "because hotsoakd stopped" \
    [ "$(echo "$run" | json .reason)" = "aborted: hotsoakd is stopping" ]

stop_daemon
e2e_done
