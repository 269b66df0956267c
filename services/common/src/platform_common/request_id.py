"""Take the request id from X-Request-ID (or make one) and give it back."""

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platform_common.logging import request_id_var

HEADER = "X-Request-ID"
SCOPE_KEY = "request_id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def new_request_id() -> str:
    """A new random request id."""
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """Keep a caller's id only if it is safe to log and echo; otherwise make one."""
    if value and _SAFE_ID.match(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    """Pure ASGI so the id is set before any other middleware logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its id, and put the id on the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = accept_request_id(incoming)
        token = request_id_var.set(request_id)
        # For the answer to an unexpected error, made outside this middleware
        # (Starlette's ServerErrorMiddleware), after the variable is reset.
        scope[SCOPE_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *[(k, v) for k, v in message["headers"] if k.lower() != b"x-request-id"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
