#!/bin/bash
# local-runs.sh: hotsoakd and the local backend end to end: a pass with
# hot-adds and a replace, io_timeout across a replace, corruption written
# into the target mid-run, and the agent killed mid-run.
. "$(dirname "$0")/lib.sh"
plans=$top_srcdir/tests/e2e/plans
start_daemon

# 1. A pass, with the hot-adds in the timeline and the agent's topology.
set +e
"$HOTSOAK" run "$plans/local-pass.yaml" --wait >"$E2E_DIR/pass.out" 2>&1
rc=$?
set -e
cat "$E2E_DIR/pass.out"
id=$(run_id_of <"$E2E_DIR/pass.out")
check "local-pass exits 0 (pass)" [ "$rc" -eq 0 ]
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "local-pass verdict is pass" [ "$(echo "$run" | json .verdict)" = pass ]
check "the agent's topology shows 2 CPUs online" \
    [ "$(echo "$run" | json .topology.cpus.online)" = 2 ]
check "the agent's topology shows 3 memory blocks online" \
    [ "$(echo "$run" | json .topology.memory.blocks_online)" = 3 ]
check "blocks were verified" [ "$(echo "$run" | json .counters.blocks_verified)" -gt 0 ]
check "two hot-add latencies in the summary" \
    [ "$(echo "$run" | json '.hot_add_latency_ms | length')" = 2 ]
events=$(curl -s "$SERVER/api/v1/runs/$id/events?limit=500")
check "hot_add events in the timeline" \
    [ "$(echo "$events" | json '[.events[] | select(.kind == "hot_add")] | length')" = 2 ]
check "the agent saw the CPU hot-add" \
    [ "$(echo "$events" | json '[.events[] | select(.kind == "hot_add_seen" and .detail.unit == "cpu")] | length')" = 1 ]
check "the replace held the partition about 2 s" \
    [ "$(echo "$events" | json '[.events[] | select(.kind == "replace")][0].detail.held_ms')" -ge 1900 ]
check "the CPU hot-add shows as a topology change" \
    [ "$(echo "$events" | json '[.events[] | select(.kind == "topology") | .detail.changes[] | select(.change == "cpu-added")] | length')" -ge 1 ]

# 2. io_timeout shorter than the replace outage fails with io_timeout findings.
set +e
"$HOTSOAK" run "$plans/local-timeout.yaml" --wait >"$E2E_DIR/timeout.out" 2>&1
rc=$?
set -e
cat "$E2E_DIR/timeout.out"
id=$(run_id_of <"$E2E_DIR/timeout.out")
check "local-timeout exits 1 (fail)" [ "$rc" -eq 1 ]
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "local-timeout verdict is fail" [ "$(echo "$run" | json .verdict)" = fail ]
check "with io_timeout findings" [ "$(echo "$run" | json .findings.by_kind.io_timeout)" -ge 1 ]
check "found during or right after the replace step" \
    [ "$(curl -s "$SERVER/api/v1/runs/$id/findings" | json '[.findings[] | select(.kind == "io_timeout")][0] | .detail.after_replace // .step')" = "5 hot_replace" ]

# 3. Corruption written into the target mid-run, found at its offset.
"$HOTSOAK" run "$plans/local-long.yaml" >"$E2E_DIR/corrupt.out"
id=$(run_id_of <"$E2E_DIR/corrupt.out")
for _ in $(seq 200); do
	[ "$(curl -s "$SERVER/api/v1/runs/$id" | json .step.action)" = wait ] && break
	sleep 0.1
done
e1=$(curl -s "$SERVER/api/v1/runs/$id" | json .elapsed_ms)
sleep 0.3
e2=$(curl -s "$SERVER/api/v1/runs/$id" | json .elapsed_ms)
check "a running run's elapsed time moves between polls" [ "$e2" -gt "$e1" ]
dd if=/dev/urandom of="$E2E_DIR/state/runs/$id/disk.img" bs=4096 seek=100 count=1 \
    conv=notrunc oflag=direct status=none
for _ in $(seq 200); do
	[ "$(curl -s "$SERVER/api/v1/runs/$id" | json .findings.by_kind.corruption)" -ge 1 ] && break
	sleep 0.1
done
"$HOTSOAK" abort "$id" >/dev/null
check "the corrupted run ends" wait_status "$id" finished 30
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "corruption verdict is fail" [ "$(echo "$run" | json .verdict)" = fail ]
check "the corruption finding names offset 409600" \
    [ "$(curl -s "$SERVER/api/v1/runs/$id/findings" | json '[.findings[] | select(.kind == "corruption")][0].detail.offset')" = 409600 ]

# 4. The agent killed with SIGKILL mid-run: fail with a bugcheck or hang.
"$HOTSOAK" run "$plans/local-long.yaml" >"$E2E_DIR/kill.out"
id=$(run_id_of <"$E2E_DIR/kill.out")
for _ in $(seq 200); do
	[ "$(curl -s "$SERVER/api/v1/runs/$id" | json .step.action)" = wait ] && break
	sleep 0.1
done
pid=$(curl -s "$SERVER/api/v1/runs/$id" | json .agent.pid)
check "the agent's pid is known" [ "$pid" -gt 1 ]
kill -KILL "$pid"
check "the run ends within 10 s of the kill" wait_status "$id" finished 10
run=$(curl -s "$SERVER/api/v1/runs/$id")
check "killed-agent verdict is fail" [ "$(echo "$run" | json .verdict)" = fail ]
check "with a bugcheck or hang finding" \
    [ "$(echo "$run" | json '.findings.by_kind.bugcheck + .findings.by_kind.hang')" -ge 1 ]
curl -s "$SERVER/api/v1/runs/$id/findings" -o "$E2E_DIR/f.json"
check "the bugcheck names SIGKILL" grep -q SIGKILL "$E2E_DIR/f.json"
check "the daemon keeps serving" [ "$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/healthz")" = 200 ]

stop_daemon
e2e_done
