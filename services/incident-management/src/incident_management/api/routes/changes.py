"""Live updates of the incident list and detail: a server-sent event stream."""

import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from incident_management.api.deps import SettingsDep
from incident_management.config import Settings
from incident_management.workers.changes import ChangeFeed, StreamsFull
from platform_common.auth import VIEWER
from platform_common.errors import DependencyUnavailable, error_responses

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

# How long a browser waits before reconnecting a stream that ended (EventSource's `retry`).
RECONNECT_MS = 3000
# A refused stream is retried after this; the UI polls meanwhile.
FULL_RETRY_SECONDS = 30


def change_event(version: str, incident_ids: list[str] | None) -> str:
    """One `changed` event: the version (the newest timeline entry) and the incidents
    changed since the last event, `null` when too many to list."""
    return f"id: {version}\nevent: changed\ndata: {json.dumps({'version': version, 'incidents': incident_ids})}\n\n"


async def _events(feed: ChangeFeed, settings: Settings) -> AsyncIterator[str]:
    try:
        with feed.subscribe() as subscription:
            await feed.watching(settings.incident_changes_heartbeat_seconds)
            # A comment once watched, so the open stream reaches the browser at once through nginx.
            yield f"retry: {RECONNECT_MS}\n: open\n\n"
            ends = time.monotonic() + settings.incident_changes_stream_seconds
            while not feed.closed.is_set() and (left := ends - time.monotonic()) > 0:
                change = await subscription.next(min(settings.incident_changes_heartbeat_seconds, left))
                if change is not None:
                    yield change_event(*change)
                elif not feed.closed.is_set():
                    yield ": keep-alive\n\n"
    except StreamsFull:
        return  # admitted together with others over the cap: the browser reconnects later


@router.get(
    "/changes",
    summary="A stream (text/event-stream) of `changed` events when incidents or their timelines change",
    description=(
        "Server-sent events: `changed` with `{version, incidents}` (the changed incident ids, `null` when"
        " too many) when incidents change, a comment at least every 15 s, and the stream ends after"
        " 5 minutes or at shutdown (the browser reconnects). 503 with Retry-After when this process"
        " holds as many streams as it may: poll the list instead."
    ),
    dependencies=[Depends(VIEWER)],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        **error_responses(503, s503="this process holds as many streams as it may: poll, retry after `Retry-After`"),
    },
)
async def changes(request: Request, settings: SettingsDep) -> StreamingResponse:
    feed: ChangeFeed = request.app.state.changes
    try:
        feed.admit()
    except StreamsFull:
        raise DependencyUnavailable(
            "This server holds as many live-update streams as it may; poll instead", retry_after=FULL_RETRY_SECONDS
        ) from None
    return StreamingResponse(
        _events(feed, settings),
        media_type="text/event-stream",
        # nginx passes the stream through unbuffered; no cache keeps it.
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
