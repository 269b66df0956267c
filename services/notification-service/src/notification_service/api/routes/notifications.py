"""Delivery history: `GET /api/v1/notifications` and `GET /api/v1/notifications/{id}`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from notification_service.api.deps import SessionDep
from notification_service.api.schemas import ChannelName, NotificationPage, NotificationRead, Status
from notification_service.db import queries
from platform_common.auth import VIEWER
from platform_common.errors import NotFound
from platform_common.validation import NulFree, Offset

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get(
    "",
    response_model=NotificationPage,
    summary="Delivery history, newest first, with every attempt",
    dependencies=[Depends(VIEWER)],
)
async def list_notifications(
    session: SessionDep,
    incident_id: uuid.UUID | None = None,
    recipient: Annotated[NulFree | None, Query(max_length=2048)] = None,
    status: Status | None = None,
    channel: ChannelName | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> NotificationPage:
    items, total = await queries.list_notifications(
        session,
        incident_id=incident_id,
        recipient=recipient,
        status=status,
        channel=channel,
        limit=limit,
        offset=offset,
    )
    return NotificationPage(
        items=[NotificationRead.model_validate(n) for n in items], total=total, limit=limit, offset=offset
    )


@router.get(
    "/{notification_id}",
    response_model=NotificationRead,
    summary="One notification with its attempts",
    dependencies=[Depends(VIEWER)],
)
async def get_notification(notification_id: uuid.UUID, session: SessionDep) -> NotificationRead:
    notification = await queries.get_notification(session, notification_id=notification_id)
    if notification is None:
        raise NotFound(f"notification {notification_id} not found")
    return NotificationRead.model_validate(notification)
