#!/bin/bash
# campaigns.sh: a campaign of two shipped plans on the local backend, end
# to end: started by its cron schedule on the minute (and not again), from
# the CLI, refused while it runs, aborted; the morning summary and JUnit
# XML over REST (validated against the schema in tests/junit); a failing
# run rerun three times with its reproduction rate; /metrics.
. "$(dirname "$0")/lib.sh"
export TZ=UTC
E2E_SCHEDULE=1

# Only the campaign under test, due at the next whole minute that is at
# least 15 s away (the daemon must be up before it comes).
rm -f "$E2E_DIR/plans/nightly.yaml"
now=$(date +%s)
due=$(( (now + 15 + 59) / 60 * 60 ))
cron="$(date -d "@$due" +'%-M %-H') * * *"
sed -i "s/^schedule: .*/schedule: \"$cron\"/" "$E2E_DIR/plans/quick.yaml"
grep -qF "schedule: \"$cron\"" "$E2E_DIR/plans/quick.yaml"
start_daemon

# 1. The schedule: next_run is the minute asked for; it starts on time.
c=$(curl -s "$SERVER/api/v1/campaigns/quick")
check "the campaign lists its two plans" [ "$(echo "$c" | json '.plans | length')" = 2 ]
check "next_run is the scheduled minute" \
    [ "$(echo "$c" | json .next_run_ns)" = "${due}000000000" ]
echo "# waiting $(( due - $(date +%s) )) s for the scheduled start at $(date -d "@$due" +%T)"
crun=
for _ in $(seq $(( (due - $(date +%s) + 20) * 10 ))); do
	crun=$(curl -s "$SERVER/api/v1/campaigns/quick" | json '.running // empty')
	[ -n "$crun" ] && break
	sleep 0.1
done
check "the scheduled campaign run started" [ -n "$crun" ]
cr=$(curl -s "$SERVER/api/v1/campaign-runs/$crun")
started=$(echo "$cr" | json .started_ns)
check "it was started by the schedule" [ "$(echo "$cr" | json .trigger)" = schedule ]
check "for the minute asked" [ "$(echo "$cr" | json .scheduled_ns)" = "${due}000000000" ]
check "within 2 s of that minute" \
    [ $(( started / 1000000 - due * 1000 )) -ge 0 -a $(( started / 1000000 - due * 1000 )) -lt 2000 ]

# 2. A second start while it runs is refused, by REST and by the CLI.
code=$(curl -s -o "$E2E_DIR/busy.json" -w '%{http_code}' -X POST \
    "$SERVER/api/v1/campaigns/quick/start")
check "POST start while running is 409" [ "$code" = 409 ]
check "naming the run in flight" [ "$(json .campaign_run <"$E2E_DIR/busy.json")" = "$crun" ]
set +e
"$HOTSOAK" campaign start quick >"$E2E_DIR/busy.out" 2>&1
rc=$?
set -e
check "hotsoak campaign start while running exits 2" [ "$rc" = 2 ]
check "and says it is already running" grep -q "already running" "$E2E_DIR/busy.out"

for _ in $(seq 1200); do
	[ "$(curl -s "$SERVER/api/v1/campaign-runs/$crun" | json .status)" = finished ] && break
	sleep 0.1
done
cr=$(curl -s "$SERVER/api/v1/campaign-runs/$crun")
echo "$cr" | jq -c '{verdict, reason, counts}'
check "the scheduled run passed" [ "$(echo "$cr" | json .verdict)" = pass ]
check "both plans ran once" [ "$(echo "$cr" | json '[.plans[].repetitions[].attempts[]] | length')" = 2 ]
check "each plan's run is in the store and passed" \
    [ "$(for r in $(echo "$cr" | json '.plans[].repetitions[].attempts[].run'); do
	curl -s "$SERVER/api/v1/runs/$r" | json .verdict; done | sort -u)" = pass ]
check "the two plans ran at once" [ "$(echo "$cr" | json '.parallel')" = 2 ]
c=$(curl -s "$SERVER/api/v1/campaigns/quick")
check "its last run is this one" [ "$(echo "$c" | json .last_run.id)" = "$crun" ]
check "the next run is a day later" \
    [ "$(echo "$c" | json .next_run_ns)" = "$(( due + 86400 ))000000000" ]
check "one scheduled run, not two" \
    [ "$(curl -s "$SERVER/api/v1/campaign-runs?campaign=quick" | json '[.campaign_runs[] | select(.trigger == "schedule")] | length')" = 1 ]

# 3. From the CLI, waiting for the verdict.
set +e
"$HOTSOAK" campaign start quick --wait >"$E2E_DIR/cli.out" 2>&1
rc=$?
set -e
cat "$E2E_DIR/cli.out"
check "hotsoak campaign start --wait exits 0 (pass)" [ "$rc" = 0 ]
cli=$(curl -s "$SERVER/api/v1/campaign-runs?campaign=quick&limit=1" | json '.campaign_runs[0].id')
check "the CLI's run was started by request" \
    [ "$(curl -s "$SERVER/api/v1/campaign-runs/$cli" | json .trigger)" = request ]

# 4. JUnit XML over REST and from the CLI, valid against the schema.
curl -s -o "$E2E_DIR/c.xml" -w '%{content_type}\n' \
    "$SERVER/api/v1/campaign-runs/$cli/junit.xml" >"$E2E_DIR/ctype"
check "junit.xml is served as XML" grep -q "^application/xml" "$E2E_DIR/ctype"
check "the campaign run's JUnit validates" \
    xmllint --noout --schema "$top_srcdir/tests/junit/junit.xsd" "$E2E_DIR/c.xml"
check "one testcase per attempt" [ "$(grep -c '<testcase ' "$E2E_DIR/c.xml")" = 2 ]
"$HOTSOAK" report "$cli" --campaign --junit "$E2E_DIR/cli.xml"
check "hotsoak report --junit writes the same XML" cmp -s "$E2E_DIR/c.xml" "$E2E_DIR/cli.xml"

# 5. Abort: the run in flight is aborted and the campaign says so.
"$HOTSOAK" campaign start quick >"$E2E_DIR/start.out" 2>&1
ab=$(curl -s "$SERVER/api/v1/campaigns/quick" | json .running)
sleep 2
"$HOTSOAK" campaign abort quick >"$E2E_DIR/abort.out" 2>&1
for _ in $(seq 300); do
	[ "$(curl -s "$SERVER/api/v1/campaign-runs/$ab" | json .status)" = finished ] && break
	sleep 0.1
done
check "an aborted campaign run is aborted" \
    [ "$(curl -s "$SERVER/api/v1/campaign-runs/$ab" | json .verdict)" = aborted ]

# 6. A failing run rerun three times: each finding's reproduction rate.
set +e
"$HOTSOAK" run "$top_srcdir/tests/e2e/plans/local-timeout.yaml" --wait >"$E2E_DIR/fail.out" 2>&1
set -e
fid=$(run_id_of <"$E2E_DIR/fail.out")
check "the run to reproduce failed" [ "$(curl -s "$SERVER/api/v1/runs/$fid" | json .verdict)" = fail ]
set +e
"$HOTSOAK" rerun "$fid" --times 3 --wait >"$E2E_DIR/rerun.out" 2>&1
rc=$?
set -e
cat "$E2E_DIR/rerun.out"
check "hotsoak rerun --times 3 --wait exits 0" [ "$rc" = 0 ]
rr=$(curl -s "$SERVER/api/v1/runs?limit=1" | json '.runs[0].id')
rid=$(curl -s "$SERVER/api/v1/runs/$rr" | json .rerun)
x=$(curl -s "$SERVER/api/v1/reruns/$rid")
echo "$x" | jq -c '{completed, verdicts, reproduction: [.reproduction[] | {kind, seen, of, rate}]}'
check "the rerun made three runs" [ "$(echo "$x" | json .completed)" = 3 ]
check "with the source run's seed" [ "$(echo "$x" | json .seed)" = 11 ]
check "every rerun used that seed" \
    [ "$(for r in $(echo "$x" | json '.runs[].id'); do curl -s "$SERVER/api/v1/runs/$r" | json .seed; done | sort -u)" = 11 ]
check "a rate for each finding of the source run" \
    [ "$(echo "$x" | json '.reproduction | length')" -ge 1 ]
check "each rate is out of 3" [ "$(echo "$x" | json '[.reproduction[].of] | unique | .[0]')" = 3 ]
check "the io_timeout came back" \
    [ "$(echo "$x" | json '[.reproduction[] | select(.kind == "io_timeout") | .seen] | max')" -ge 1 ]
check "the CLI printed the rates" grep -q "/3" "$E2E_DIR/rerun.out"

# 7. The morning report over REST and the CLI.
s=$(curl -s "$SERVER/api/v1/summary?since=1h")
echo "$s" | jq -c .totals
check "summary counts the campaigns' passes per plan" \
    [ "$(echo "$s" | json '.plans[] | select(.plan == "local-replace") | .pass')" -ge 2 ]
check "summary counts the failing plan" \
    [ "$(echo "$s" | json '.plans[] | select(.plan == "e2e-local-timeout") | .fail')" -ge 1 ]
check "summary counts io_timeout findings" \
    [ "$(echo "$s" | json '.finding_kinds[] | select(.kind == "io_timeout") | .outcomes')" -ge 1 ]
check "summary lists the campaign runs" [ "$(echo "$s" | json '.campaign_runs | length')" -ge 3 ]
check "a bad since is a 400" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/api/v1/summary?since=yesterday")" = 400 ]
"$HOTSOAK" summary --since 1h >"$E2E_DIR/summary.out"
check "hotsoak summary shows the plans" grep -q "local-replace" "$E2E_DIR/summary.out"

# 8. A run's JUnit carries its findings.
curl -s "$SERVER/api/v1/runs/$fid/junit.xml" >"$E2E_DIR/run.xml"
check "the failing run's JUnit validates" \
    xmllint --noout --schema "$top_srcdir/tests/junit/junit.xsd" "$E2E_DIR/run.xml"
check "and carries its io_timeout finding" grep -q 'type="io_timeout"' "$E2E_DIR/run.xml"

# 9. /metrics counts what ran.
curl -s "$SERVER/metrics" >"$E2E_DIR/metrics.txt"
check "/metrics counts failed runs" grep -q '^hotsoak_runs_total{verdict="fail"} [1-9]' "$E2E_DIR/metrics.txt"
check "/metrics counts io_timeout findings" grep -q '^hotsoak_findings_total{kind="io_timeout"} [1-9]' "$E2E_DIR/metrics.txt"
check "/metrics passes the strict checker" "$top_builddir/tests/promcheck" <"$E2E_DIR/metrics.txt"

# 10. Stopping hotsoakd records a campaign run in flight as aborted; one
# killed with it comes back interrupted; neither is lost.
"$HOTSOAK" campaign start quick >/dev/null 2>&1
st=$(curl -s "$SERVER/api/v1/campaigns/quick" | json .running)
sleep 1
stop_daemon
start_daemon
c=$(curl -s "$SERVER/api/v1/campaign-runs/$st")
check "SIGTERM records the campaign run aborted" [ "$(echo "$c" | json .verdict)" = aborted ]
check "saying why" grep -q "hotsoakd is stopping" <<<"$(echo "$c" | json .reason)"
"$HOTSOAK" campaign start quick >/dev/null 2>&1
kl=$(curl -s "$SERVER/api/v1/campaigns/quick" | json .running)
sleep 1
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
start_daemon
check "SIGKILL leaves it interrupted at the next start" \
    [ "$(curl -s "$SERVER/api/v1/campaign-runs/$kl" | json .verdict)" = interrupted ]
check "the earlier campaign runs are all still there" \
    [ "$(curl -s "$SERVER/api/v1/campaign-runs?campaign=quick" | json '.campaign_runs | length')" = 5 ]

e2e_done
