"""A small upstream MCP server for tests, built with the official Python SDK.

It records every call it receives (tool name and arguments, one JSON line
each) in the file named by FIXTURE_LOG, so tests can check what actually
reached the upstream: redacted placeholders, or nothing at all for a
blocked call.

    python upstream.py --port 9100 [--stateless] [--require-header 'X-Api-Key: s3cret']
"""

import argparse
import asyncio
import json
import os
import sys
import time

from mcp.server.mcpserver import MCPServer

LOG = os.environ.get("FIXTURE_LOG")

mcp = MCPServer("fixture-upstream")


def record(tool: str, arguments: dict) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"tool": tool, "arguments": arguments, "at": time.time()}) + "\n")


@mcp.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    record("echo", {"text": text})
    return text


@mcp.tool()
def send_email(to: str, subject: str, body: str) -> str:
    """Pretend to send an e-mail."""
    record("send_email", {"to": to, "subject": subject, "body": body})
    return f"queued message to {to}"


@mcp.tool()
def lookup_customer(customer_id: str) -> dict:
    """Return a customer record (contains personal data on purpose)."""
    record("lookup_customer", {"customer_id": customer_id})
    return {
        "id": customer_id,
        "name": "Jane Doe",
        "email": "jane.doe@example.com",
        "ssn": "536-22-8726",
        "note": "prefers phone contact",
    }


@mcp.tool()
async def slow(seconds: float) -> str:
    """Sleep, then answer (timeouts)."""
    record("slow", {"seconds": seconds})
    await asyncio.sleep(seconds)
    return "done"


@mcp.tool()
def fail(reason: str) -> str:
    """Always fails with a tool error."""
    record("fail", {"reason": reason})
    raise ValueError(f"upstream failure: {reason}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stateless", action="store_true")
    parser.add_argument("--require-header", default=None, help="'Name: value' every request must carry")
    args = parser.parse_args()

    app = mcp.streamable_http_app(stateless_http=args.stateless)
    if args.require_header:
        name, value = (p.strip() for p in args.require_header.split(":", 1))
        inner = app

        async def guarded(scope, receive, send):
            if scope["type"] == "http":
                headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                if headers.get(name.lower()) != value:
                    await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
                    await send({"type": "http.response.body", "body": b"missing or wrong auth header"})
                    return
            await inner(scope, receive, send)

        app = guarded

    import uvicorn

    print(f"fixture upstream on http://127.0.0.1:{args.port}/mcp", file=sys.stderr, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
