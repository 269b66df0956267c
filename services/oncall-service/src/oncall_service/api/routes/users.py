"""/api/v1/users: people who can be paged, their contact methods and mutes."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from oncall_service.api.deps import ClockDep, PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import Page
from oncall_service.schemas.rules import NotificationRulesIn, NotificationRulesRead, TestPageSent
from oncall_service.schemas.users import (
    ContactMethodIn,
    ContactMethodRead,
    PasswordSet,
    UserCreate,
    UserRead,
    UserUpdate,
)
from oncall_service.usecases import accounts, rules, users
from oncall_service.usecases.rows import get_or_404
from oncall_service.usecases.rules import Rules
from platform_common.auth import ADMIN, SELF_OR_ADMIN, VIEWER, Authenticator, SelfOrAdmin
from platform_common.errors import DependencyUnavailable, Forbidden, NotFound, Unprocessable, error_responses
from platform_common.validation import NulFree
from platform_db.models import ContactMethod, User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserRead, dependencies=[Depends(ADMIN)])
async def create_user(user_in: UserCreate, session: SessionDep) -> User:
    async with session.begin():
        return await users.create_user(session, user_in=user_in)


@router.get("", response_model=Page[UserRead], dependencies=[Depends(VIEWER)])
async def list_users(
    session: SessionDep, pagination: PageDep, q: Annotated[NulFree | None, Query(max_length=200)] = None
) -> dict[str, Any]:
    return await pagination.page(session, queries.users_matching(search=q))


@router.get("/{user_id}", response_model=UserRead, dependencies=[Depends(VIEWER)])
async def get_user(user_id: str, session: SessionDep) -> User:
    # Other services look users up by whatever id they hold: an id that is not
    # a UUID names nobody (404), rather than being a malformed request (422)
    # that a caller might retry.
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        raise NotFound(f"user {user_id} not found") from None
    return await get_or_404(session, model=User, id=parsed)


@router.patch("/{user_id}", response_model=UserRead, summary="Change a user (their own profile, or any as admin)")
async def update_user(
    user_id: uuid.UUID,
    user_in: UserUpdate,
    principal: SelfOrAdmin,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
) -> User:
    if (user_in.role is not None or user_in.disabled is not None) and not principal.may(ADMIN.role):
        raise Forbidden("Only an admin changes roles or disables users")
    async with session.begin():
        user = await users.update_user(session, user_id=user_id, user_in=user_in, now=clock.now())
    _auth(request).forget()
    return user


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_user(user_id: uuid.UUID, request: Request, session: SessionDep) -> None:
    async with session.begin():
        await users.delete_user(session, user_id=user_id)
    _auth(request).forget()


@router.post(
    "/{user_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a user's password (admins); their sessions and API tokens end",
    dependencies=[Depends(ADMIN)],
)
async def set_password(
    user_id: uuid.UUID, body: PasswordSet, request: Request, session: SessionDep, clock: ClockDep
) -> None:
    async with session.begin():
        await accounts.set_password(
            session, user_id=user_id, password=body.password.get_secret_value(), now=clock.now()
        )
    _auth(request).forget()


def _auth(request: Request) -> Authenticator:
    return request.app.state.auth


@router.post(
    "/{user_id}/contact-methods",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactMethodRead,
    dependencies=[Depends(SELF_OR_ADMIN)],
)
async def add_contact_method(user_id: uuid.UUID, method_in: ContactMethodIn, session: SessionDep) -> ContactMethod:
    async with session.begin():
        return await users.add_contact_method(session, user_id=user_id, method_in=method_in)


@router.delete(
    "/{user_id}/contact-methods/{method_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(SELF_OR_ADMIN)],
)
async def remove_contact_method(user_id: uuid.UUID, method_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await users.remove_contact_method(session, user_id=user_id, method_id=method_id)


@router.post(
    "/{user_id}/contact-methods/{method_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestPageSent,
    summary="Send a test page to one contact method (through notification-service)",
    responses=error_responses(DependencyUnavailable, s503="notification-service cannot take the page now"),
    dependencies=[Depends(SELF_OR_ADMIN)],
)
async def test_contact_method(
    user_id: uuid.UUID, method_id: uuid.UUID, request: Request, session: SessionDep, clock: ClockDep
) -> TestPageSent:
    async with session.begin():
        notice = await users.test_page(session, user_id=user_id, method_id=method_id, now=clock.now())
    # Sent after the commit: no transaction stays open while notification-service is called.
    return await users.send_test_page(request.app.state.notices, notice)


@router.get(
    "/{user_id}/notification-rules",
    response_model=NotificationRulesRead,
    summary="How a user is paged: per urgency, ordered steps of a delay and a contact method",
    dependencies=[Depends(SELF_OR_ADMIN)],
)
async def get_notification_rules(user_id: uuid.UUID, session: SessionDep) -> Rules:
    return await rules.get_rules(session, user_id=user_id)


@router.put(
    "/{user_id}/notification-rules",
    response_model=NotificationRulesRead,
    summary="Replace a user's notification rules (an urgency without steps: every contact method at once)",
    responses=error_responses(Unprocessable, s422="a step names a contact method that is not the user's"),
    dependencies=[Depends(SELF_OR_ADMIN)],
)
async def put_notification_rules(user_id: uuid.UUID, rules_in: NotificationRulesIn, session: SessionDep) -> Rules:
    async with session.begin():
        return await rules.replace_rules(session, user_id=user_id, rules_in=rules_in)
