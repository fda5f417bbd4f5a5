"""A scripted agent built on the official MCP Python SDK, for tests.

Exchanges an agent key (env GATEHOUSE_AGENT_KEY) for a short-lived token at
<base>/oauth/token, connects to <base>/mcp, runs the steps read as a JSON
array from stdin, and prints one JSON result per step:

    [{"op": "list"},
     {"op": "call", "tool": "fixture__echo", "args": {"text": "hi"}, "progress": true,
      "meta": {"gatehouse.dev/session": "run-1"}}]

A call step with "progress": true passes a progress callback and reports
the notifications it received.

    python agent.py --base http://127.0.0.1:8080 [--mode legacy|auto|2026-07-28] [--token T]
    python agent.py --base unused --stdio gatehouse connect --url http://127.0.0.1:8080
"""

import argparse
import asyncio
import json
import os
import sys

from typing import Any, Literal

import anyio
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client import ClaimContext, ClientExtension, ResultClaim
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

# --- the MCP tasks extension (io.modelcontextprotocol/tasks, SEP-2663) ---
# The SDK dispatches extension results through "claims" but ships no tasks
# client; this is the minimal one: a call answered with a task is resolved
# by polling tasks/get until the task is terminal.
_CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class CreateTaskResult(Result):
    model_config = _CAMEL
    result_type: Literal["task"]
    task_id: str
    status: str
    poll_interval_ms: int | None = None
    status_message: str | None = None


class GetTaskParams(RequestParams):
    task_id: str


class GetTaskRequest(Request[GetTaskParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: GetTaskParams
    name_param = "taskId"


class GetTaskResult(Result):
    model_config = _CAMEL
    task_id: str
    status: str
    poll_interval_ms: int | None = None
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


TASKS_SEEN: list = []


async def _resolve_task(created: CreateTaskResult, ctx: ClaimContext) -> CallToolResult:
    TASKS_SEEN.append({"task_id": created.task_id, "status": created.status,
                       "message": created.status_message})
    while True:
        t = await ctx.session.send_request(
            GetTaskRequest(params=GetTaskParams(task_id=created.task_id)), GetTaskResult)
        if t.status == "completed":
            return CallToolResult.model_validate(t.result)
        if t.status in ("failed", "cancelled"):
            raise MCPError(**(t.error or {"code": -32603, "message": t.status}))
        await anyio.sleep((t.poll_interval_ms or created.poll_interval_ms or 1000) / 1000)


class Tasks(ClientExtension):
    identifier = "io.modelcontextprotocol/tasks"

    def claims(self):
        return (ResultClaim(result_type="task", model=CreateTaskResult, resolve=_resolve_task),)


def fetch_token(base: str, key: str) -> str:
    r = httpx2.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": key},
        timeout=30,
    )
    if r.status_code != 200:
        raise SystemExit(json.dumps({"token_error": r.status_code, "body": r.json()}))
    return r.json()["access_token"]


def text_of(result) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def run_steps(client, steps: list) -> list:
    out = []
    for step in steps:
        try:
            if step["op"] == "list":
                tools = await client.list_tools()
                listed = {"tools": sorted(t.name for t in tools.tools)}
                if step.get("full"):
                    # What the model would read: descriptions and schemas.
                    listed["definitions"] = {
                        t.name: {"description": t.description, "input_schema": t.input_schema}
                        for t in tools.tools}
                out.append(listed)
            elif step["op"] == "call":
                progress = []

                async def on_progress(p, total, message):
                    progress.append({"progress": p, "total": total, "message": message})

                r = await client.call_tool(
                    step["tool"], step.get("args", {}),
                    progress_callback=on_progress if step.get("progress") else None,
                    meta=step.get("meta"))
                result = {"is_error": bool(r.is_error), "text": text_of(r),
                          "structured": r.structured_content}
                if step.get("progress"):
                    result["progress"] = progress
                if TASKS_SEEN:
                    result["task"] = TASKS_SEEN.pop()
                # The tool's own _meta (the SDK adds protocol entries of its own).
                meta = {k: v for k, v in (getattr(r, "meta", None) or {}).items()
                        if not k.startswith("io.modelcontextprotocol/")}
                if meta:
                    result["meta"] = meta
                out.append(result)
            else:
                out.append({"error": f"unknown op {step['op']}"})
        except MCPError as e:
            out.append({"rpc_error": {"code": e.error.code, "message": e.error.message}})
    return out


async def run(base: str, token: str, mode: str, steps: list, tasks: bool = False,
              extra_headers: dict | None = None) -> list:
    headers = {"Authorization": f"Bearer {token}", **(extra_headers or {})}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{base}/mcp", http_client=http)
        extensions = [Tasks()] if tasks else []
        async with Client(transport, mode=mode, cache=None, extensions=extensions) as client:
            return await run_steps(client, steps)


async def run_stdio(command: list, mode: str, steps: list) -> list:
    """Talk to a local stdio MCP server (e.g. `gatehouse connect`)."""
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(params, mode=mode, cache=None) as client:
        return await run_steps(client, steps)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--mode", default="auto")
    p.add_argument("--token", default=None, help="use this bearer token instead of exchanging a key")
    p.add_argument("--tasks", action="store_true",
                   help="declare the MCP tasks extension (held calls come back as tasks)")
    p.add_argument("--header", action="append", default=[],
                   help="an extra HTTP header on every request, NAME:VALUE")
    p.add_argument("--stdio", nargs=argparse.REMAINDER, default=None,
                   help="instead of HTTP, launch this stdio MCP server command (the key stays in the env)")
    a = p.parse_args()
    steps = json.load(sys.stdin)
    if a.stdio:
        print(json.dumps(asyncio.run(run_stdio(a.stdio, a.mode, steps))))
        return
    token = a.token or fetch_token(a.base, os.environ["GATEHOUSE_AGENT_KEY"])
    extra = dict(h.split(":", 1) for h in a.header)
    print(json.dumps(asyncio.run(run(a.base, token, a.mode, steps, a.tasks, extra))))


if __name__ == "__main__":
    main()
