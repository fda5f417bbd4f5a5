"""A pass-through HTTP proxy that adds an Authorization header.

The MCP conformance suite has no option to authenticate; Gatehouse's /mcp
requires a bearer token. This proxy forwards every request unchanged —
method, path, body and headers including Host and Origin, so the suite's
DNS-rebinding checks still reach Gatehouse — plus the token, and streams
the response back (SSE included).

    python auth_proxy.py --port 9300 --target http://127.0.0.1:8080 --token T
"""

import argparse

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


def build(target: str, token: str) -> Starlette:
    client = httpx2.AsyncClient(timeout=None)

    async def forward(request: Request):
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP and k.lower() != "authorization"]
        headers.append(("authorization", f"Bearer {token}"))
        body = await request.body()
        url = target.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        upstream = await client.send(
            client.build_request(request.method, url, headers=headers, content=body), stream=True
        )
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP}

        async def body_iter():
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()

        return StreamingResponse(body_iter(), status_code=upstream.status_code, headers=out_headers)

    methods = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--token", required=True)
    a = p.parse_args()
    uvicorn.run(build(a.target, a.token), host="127.0.0.1", port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
