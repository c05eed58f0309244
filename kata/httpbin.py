"""A small httpbin-like server on your own machine, so HTTP examples run offline.

    python -m kata.httpbin              # http://127.0.0.1:8080
    python -m kata.httpbin --port 9000

Routes (GET): /get, /json, /uuid, /headers, /delay/{seconds}, /status/{code}.
It listens on a loopback address only: it is for examples and exercises, not a network.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import uuid

from aiohttp import web

MAX_DELAY = 10.0
SLIDESHOW = {
    "slideshow": {
        "author": "async-kata",
        "date": "2026-11-24",
        "title": "Sample Slide Show",
        "slides": [
            {"title": "Wake up to async/await", "type": "all"},
            {"title": "Overview", "type": "all", "items": ["Why waiting is free", "gather", "TaskGroup"]},
        ],
    }
}


def _headers(request: web.Request) -> dict[str, str]:
    return dict(request.headers)


async def get(request: web.Request) -> web.Response:
    return web.json_response(
        {"args": dict(request.query), "headers": _headers(request), "url": str(request.url)}
    )


async def json_document(request: web.Request) -> web.Response:
    return web.json_response(SLIDESHOW)


async def new_uuid(request: web.Request) -> web.Response:
    return web.json_response({"uuid": str(uuid.uuid4())})


async def headers(request: web.Request) -> web.Response:
    return web.json_response({"headers": _headers(request)})


async def delay(request: web.Request) -> web.Response:
    try:
        seconds = float(request.match_info["seconds"])
    except ValueError:
        raise web.HTTPBadRequest(text="delay must be a number of seconds") from None
    seconds = min(max(seconds, 0.0), MAX_DELAY)
    await asyncio.sleep(seconds)
    return web.json_response({"delay": seconds, "args": dict(request.query), "url": str(request.url)})


async def status(request: web.Request) -> web.Response:
    try:
        code = int(request.match_info["code"])
    except ValueError:
        raise web.HTTPBadRequest(text="status must be a number") from None
    if not 200 <= code <= 599:
        raise web.HTTPBadRequest(text="status must be from 200 to 599")
    return web.Response(status=code)


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/get", get)
    app.router.add_get("/json", json_document)
    app.router.add_get("/uuid", new_uuid)
    app.router.add_get("/headers", headers)
    app.router.add_get("/delay/{seconds}", delay)
    app.router.add_get("/status/{code}", status)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kata.httpbin", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        print(f"kata.httpbin: --host {args.host} is not a loopback address (try 127.0.0.1)", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"kata.httpbin: --port {args.port} is not a port number (1-65535)", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{args.port}"
    try:
        web.run_app(
            make_app(),
            host=args.host,
            port=args.port,
            print=lambda _: print(f"httpbin on {url} (try {url}/json); Ctrl-C stops it", flush=True),
        )
    except OSError as error:
        print(f"kata.httpbin: cannot listen on {url}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
