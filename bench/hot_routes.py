"""In-process cost of ingestion's two hot routes, the database stubbed out.

    .venv/bin/python bench/hot_routes.py [--requests 2000] [--fastapi]

Calls the app straight through ASGI (no socket, no HTTP client), so what it
times is the middleware, the routing and the handler. The ingestor and the
integration keys are stubs: no database is needed. --fastapi measures the same
handlers mounted as FastAPI routes instead, the alternative api/hot_routes.py
was chosen against. Best of three rounds; numbers move with the machine's load.
"""

import argparse
import asyncio
import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from alert_ingestion.api.routes import alerts, pagerduty
from alert_ingestion.config import Settings
from alert_ingestion.domain.rate_limit import RateLimiter
from alert_ingestion.main import create_app
from alert_ingestion.usecases.ingest import Ingested
from alert_ingestion.usecases.integrations import KnownIntegration

GENERIC = b'{"service":"demo","severity":"critical","message":"Disk 93% full on db-1"}'
PAGERDUTY = (
    b'{"routing_key":"k","event_action":"trigger",'
    b'"payload":{"summary":"Disk 93% full","source":"db-1","severity":"critical"}}'
)
HOT = {"/api/v1/alerts": (alerts.post_alert, GENERIC), "/v2/enqueue": (pagerduty.enqueue, PAGERDUTY)}
INTEGRATION = KnownIntegration(uuid.uuid4(), "demo", "generic")


class StubIngestor:
    async def ingest(self, alert: Any, integration_id: uuid.UUID | None = None) -> Ingested:
        return Ingested(result="created", fingerprint="f" * 16, alert_id=uuid.uuid4(), incident_id=uuid.uuid4())


class StubKeys:
    async def resolve(self, key: str) -> KnownIntegration:
        return INTEGRATION


def app_under_test(fastapi_routes: bool) -> FastAPI:
    # The lifespan (database, clients) never runs: the stubs stand in for what it would set.
    app = create_app(Settings(environment="test", database_url="postgresql://bench@127.0.0.1:1/bench"))
    logging.disable(logging.INFO)
    if fastapi_routes:
        app.router.routes[:] = [r for r in app.router.routes if not (type(r) is Route and r.path in HOT)]
        for path, (handler, _) in HOT.items():
            app.router.routes.append(APIRoute(path, handler, methods=["POST"], status_code=202))
    app.state.ingestor = StubIngestor()
    app.state.integration_keys = StubKeys()
    app.state.rate_limiter = RateLimiter(10**9)
    app.state.client_limiter = RateLimiter(10**9)
    return app


async def call(app: FastAPI, path: str, body: bytes) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer k"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        return {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    assert statuses == [202], statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--fastapi", action="store_true", help="the handlers as FastAPI routes instead")
    args = parser.parse_args()
    app = app_under_test(args.fastapi)
    for path, (_, body) in HOT.items():
        for _ in range(200):  # warm-up
            await call(app, path, body)
        rounds = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(args.requests):
                await call(app, path, body)
            rounds.append((time.perf_counter() - start) / args.requests * 1e6)
        kind = "FastAPI route" if args.fastapi else "served"
        print(f"POST {path} ({kind}): {min(rounds):.0f} us per request, best of 3 x {args.requests}")


if __name__ == "__main__":
    asyncio.run(main())
