"""/api/v1/users: people who can be paged, their contact methods and mutes."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from oncall_service.api import commands
from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.api.schemas.common import Page
from oncall_service.api.schemas.users import ContactMethodIn, ContactMethodRead, UserCreate, UserRead, UserUpdate
from oncall_service.db import queries
from oncall_service.services import users as service
from platform_common.errors import NotFound
from platform_common.validation import NulFree

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserRead)
async def create_user(user_in: UserCreate, session: SessionDep) -> UserRead:
    user = await service.create_user(session, data=commands.new_user(user_in))
    await session.commit()
    return UserRead.model_validate(user)


@router.get("", response_model=Page[UserRead])
async def list_users(
    session: SessionDep, pagination: PageDep, q: Annotated[NulFree | None, Query(max_length=200)] = None
) -> Page[UserRead]:
    rows, total = await queries.page(
        session, statement=service.list_users_statement(search=q), limit=pagination.limit, offset=pagination.offset
    )
    items = [UserRead.model_validate(u) for u in rows]
    return Page[UserRead](items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/{user_id}", response_model=UserRead)
async def get_user(user_id: str, session: SessionDep) -> UserRead:
    # Other services look users up by whatever id they hold: an id that is not
    # a UUID names nobody (404), rather than being a malformed request (422)
    # that a caller might retry.
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        raise NotFound(f"user {user_id} not found") from None
    return UserRead.model_validate(await service.get_user(session, user_id=parsed))


@router.patch("/{user_id}", response_model=UserRead)
async def update_user(user_id: uuid.UUID, user_in: UserUpdate, session: SessionDep) -> UserRead:
    user = await service.update_user(session, user_id=user_id, data=commands.user_changes(user_in))
    await session.commit()
    return UserRead.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: uuid.UUID, session: SessionDep) -> None:
    await service.delete_user(session, user_id=user_id)
    await session.commit()


@router.post("/{user_id}/contact-methods", status_code=status.HTTP_201_CREATED, response_model=ContactMethodRead)
async def add_contact_method(user_id: uuid.UUID, method_in: ContactMethodIn, session: SessionDep) -> ContactMethodRead:
    method = await service.add_contact_method(session, user_id=user_id, data=commands.contact_method(method_in))
    await session.commit()
    return ContactMethodRead.model_validate(method)


@router.delete("/{user_id}/contact-methods/{method_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_contact_method(user_id: uuid.UUID, method_id: uuid.UUID, session: SessionDep) -> None:
    await service.remove_contact_method(session, user_id=user_id, method_id=method_id)
    await session.commit()
