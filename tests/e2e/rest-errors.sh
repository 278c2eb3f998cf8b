#!/bin/bash
# rest-errors.sh: bad REST input gets a 4xx with a JSON reason, and the
# daemon keeps serving: bad YAML, unknown id, big body, wrong method,
# missing token, a plan name that climbs out of the plans folder.
. "$(dirname "$0")/lib.sh"
echo "s3cret-token" >"$E2E_DIR/token"
start_daemon --token-file "$E2E_DIR/token"
auth="Authorization: Bearer s3cret-token"

# code METHOD PATH [curl args]: the status; the body goes to $E2E_DIR/body.
code() {
	local m=$1 p=$2; shift 2
	curl -s -o "$E2E_DIR/body" -w '%{http_code}' -X "$m" "$SERVER$p" "$@"
}
is_json_error() { jq -e '.error | type == "string"' "$E2E_DIR/body" >/dev/null; }

printf 'version: 1\nname: bad\nsteps:\n  - wait: [1s\n' >"$E2E_DIR/bad.yaml"
check "malformed YAML is 400" [ "$(code POST /api/v1/runs -H "$auth" \
    -H 'Content-Type: application/yaml' --data-binary @"$E2E_DIR/bad.yaml")" = 400 ]
check "with a JSON reason" is_json_error
check "and the error's line" [ "$(jq -r '.errors[0].line' "$E2E_DIR/body")" -ge 4 ]
check "and column" [ "$(jq -r '.errors[0].column' "$E2E_DIR/body")" -ge 1 ]
grep -q 'request.yaml:[0-9]*:[0-9]*' "$E2E_DIR/body" && ok "line:column in the detail" ||
    not_ok "line:column in the detail"

check "an unknown run is 404" [ "$(code GET /api/v1/runs/424242)" = 404 ]
check "with a JSON reason" is_json_error

head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$E2E_DIR/big"
check "a 2 MiB body is 413" [ "$(code POST /api/v1/runs -H "$auth" \
    -H 'Content-Type: application/yaml' --data-binary @"$E2E_DIR/big")" = 413 ]
check "with a JSON reason" is_json_error

check "PUT on the runs collection is 405" [ "$(code PUT /api/v1/runs -H "$auth")" = 405 ]
check "with a JSON reason" is_json_error

check "POST without the token is 401" [ "$(code POST /api/v1/runs \
    -H 'Content-Type: application/json' --data '{"plan":"local-smoke"}')" = 401 ]
check "with a JSON reason" is_json_error
check "POST with a wrong token is 401" [ "$(code POST /api/v1/runs \
    -H 'Authorization: Bearer s3cret-tokem' \
    -H 'Content-Type: application/json' --data '{"plan":"local-smoke"}')" = 401 ]
check "DELETE without the token is 401" [ "$(code DELETE /api/v1/runs/1)" = 401 ]

check "a plan name with ../ is 400" [ "$(code POST /api/v1/runs -H "$auth" \
    -H 'Content-Type: application/json' --data '{"plan":"../../etc/passwd"}')" = 400 ]
check "with a JSON reason" is_json_error
check "an unknown plan name is 404" [ "$(code POST /api/v1/runs -H "$auth" \
    -H 'Content-Type: application/json' --data '{"plan":"no-such-plan"}')" = 404 ]
check "text/html is 415" [ "$(code POST /api/v1/runs -H "$auth" \
    -H 'Content-Type: text/html' --data '<p>')" = 415 ]
check "bad filters are 400" [ "$(code GET '/api/v1/runs?verdict=maybe')" = 400 ]

check "reads need no token" [ "$(code GET /api/v1/runs)" = 200 ]
check "the plans folder is listed" \
    [ "$(code GET /api/v1/plans)" = 200 ]
check "with local-smoke valid" \
    [ "$(jq -r '.plans[] | select(.name == "local-smoke") | .valid' "$E2E_DIR/body")" = true ]
cp "$top_srcdir/tests/e2e/plans/local-pass.yaml" "$E2E_DIR/plans/added-later.yaml"
check "a plan added later is not listed before SIGHUP" \
    [ "$(curl -s "$SERVER/api/v1/plans" | jq '[.plans[] | select(.name == "added-later")] | length')" = 0 ]
kill -HUP "$DAEMON_PID"
listed=0
for _ in $(seq 50); do
	listed=$(curl -s "$SERVER/api/v1/plans" | jq '[.plans[] | select(.name == "added-later")] | length')
	[ "$listed" = 1 ] && break
	sleep 0.1
done
check "and is after SIGHUP" [ "$listed" = 1 ]
check "the daemon still serves" [ "$(code GET /healthz)" = 200 ]
check "and stored nothing from the bad requests" \
    [ "$(curl -s "$SERVER/api/v1/runs" | jq '.runs | length')" = 0 ]

stop_daemon
e2e_done
