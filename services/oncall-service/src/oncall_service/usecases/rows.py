"""What the use cases of every resource do alike, in one place: find the row a
path names (404), check the ids a body names (422) and that a name is free
(409), make a row from a create body, change one by a PATCH body, remove one."""

import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from platform_common.errors import Conflict, NotFound, Unprocessable
from platform_common.roles import Role
from platform_db.models import EscalationPolicy, Schedule, Service, Team, User

M = TypeVar("M")

_LABELS: dict[type[Any], str] = {
    User: "user",
    Team: "team",
    Service: "service",
    Schedule: "schedule",
    EscalationPolicy: "escalation policy",
}
# Names unique per resource (a UNIQUE column each); users are told apart by email.
_UNIQUE_NAMES = (Team, Service, Schedule, EscalationPolicy)
# The body fields that name another row, and what they name. An explicit null in
# a PATCH detaches (the team, the policy); an id must name a row.
_REFERENCES: dict[str, type[Any]] = {"team_id": Team, "escalation_policy_id": EscalationPolicy}


async def get_or_404(session: AsyncSession, *, model: type[M], id: uuid.UUID) -> M:
    """The row of `model` with this id; 404 when there is none."""
    row = await queries.by_id(session, model=model, id=id)
    if row is None:
        raise NotFound(f"{_LABELS[model]} {id} not found")
    return row


def find(rows: Iterable[M], missing: str, **match: Any) -> M:
    """The first of a row's own rows (members, layers, contact methods) whose
    attributes are `match`; 404 saying `missing` when there is none."""
    found = next((row for row in rows if all(getattr(row, k) == v for k, v in match.items())), None)
    if found is None:
        raise NotFound(missing)
    return found


async def require_existing(session: AsyncSession, *, model: type[Any], ids: Iterable[uuid.UUID | None]) -> None:
    """Raise 422 when any of `ids` (None is skipped) names no row of `model`."""
    wanted = {i for i in ids if i is not None}
    missing = wanted - await queries.existing_ids(session, model=model, ids=wanted)
    if missing:
        label = _LABELS[model]
        raise Unprocessable(
            f"unknown {label}{'s' if len(missing) > 1 else ''}: {', '.join(sorted(map(str, missing)))}",
            missing_ids=sorted(map(str, missing)),
        )


async def require_may_be_on_call(session: AsyncSession, *, ids: Iterable[uuid.UUID], loc: list[str | int]) -> None:
    """Raise 422 when any of `ids` names no user, a viewer or a disabled user: whoever is
    on call is paged and expected to acknowledge, which neither may (as for reassignment)."""
    wanted = list(dict.fromkeys(ids))
    await require_existing(session, model=User, ids=wanted)
    users = await queries.rows_by_ids(session, model=User, ids=wanted)
    viewers = [users[i] for i in wanted if users[i].role == Role.VIEWER]
    if viewers:
        message = (
            f"{_names(viewers)}: a viewer may not be on call; only responders and admins may be on call,"
            " since a viewer cannot acknowledge or resolve"
        )
        raise Unprocessable([{"loc": loc, "msg": message, "type": "on_call_role"}])
    disabled = [users[i] for i in wanted if users[i].disabled]
    if disabled:
        message = f"{_names(disabled)}: a disabled user may not be on call, since they cannot sign in to acknowledge"
        raise Unprocessable([{"loc": loc, "msg": message, "type": "on_call_disabled"}])


def _names(users: list[User]) -> str:
    return ", ".join(f"{user.name} ({user.id})" for user in users)


async def _refuse_taken_name(
    session: AsyncSession, *, model: type[Any], name: str, except_id: uuid.UUID | None
) -> None:
    if await queries.name_taken(session, model=model, name=name, except_id=except_id):
        label = _LABELS[model]
        raise Conflict(f"{'an' if label[0] in 'aeiou' else 'a'} {label} named {name!r} already exists")


async def create(
    session: AsyncSession, model: type[M], body: BaseModel, **own_rows: Callable[[], Awaitable[list[Any]]]
) -> M:
    """A new row of `model` from a create body: 409 when its name is taken, 422
    when a team or policy id names nothing. `own_rows` build its lists of rows
    (members, layers, levels) from the body, checked after those two."""
    await _refuse_taken_name(session, model=model, name=body.name, except_id=None)
    for field in type(body).model_fields:
        if field in _REFERENCES:
            await require_existing(session, model=_REFERENCES[field], ids=[getattr(body, field)])
    columns = body.model_dump(exclude=set(own_rows))
    row = model(id=uuid.uuid4(), **columns, **{field: await build() for field, build in own_rows.items()})
    session.add(row)
    await session.flush()
    return row


# Settings where null is a value of its own ("off"), not "leave as it is".
CLEARED_BY_NULL = frozenset({"acknowledgement_timeout_minutes"})


async def apply_changes(
    session: AsyncSession,
    row: Any,
    changes: BaseModel,
    *,
    exclude: Collection[str] = (),
    **own_rows: Callable[[], Awaitable[list[Any]]],
) -> None:
    """Set on `row` what a PATCH body gives, in the body's field order (so the
    first thing wrong is the one refused). A field left out, or sent as null,
    stays as it is, except a team or policy id, where null detaches it, and the
    settings of CLEARED_BY_NULL, where null turns them off. A list
    of the row's own rows given (members, layers, levels) replaces them all,
    built by `own_rows`; the fields in `exclude` are the caller's."""
    for field in type(changes).model_fields:
        if field not in changes.model_fields_set or field in exclude:
            continue
        value = getattr(changes, field)
        if field in _REFERENCES:
            await require_existing(session, model=_REFERENCES[field], ids=[value])
        elif value is None and field not in CLEARED_BY_NULL:
            continue
        elif field in own_rows:
            await _replace(session, getattr(row, field), await own_rows[field]())
            continue
        elif field == "name" and isinstance(row, _UNIQUE_NAMES):
            await _refuse_taken_name(session, model=type(row), name=value, except_id=row.id)
        setattr(row, field, value)
    await session.flush()


async def _replace(session: AsyncSession, old: list[Any], new: list[Any]) -> None:
    # The old rows go first: the unit of work inserts before it deletes, and the
    # new rows may take the old ones' unique keys ((policy, position), (schedule, priority)).
    old.clear()
    await session.flush()
    old.extend(new)


async def delete_or_404(session: AsyncSession, *, model: type[Any], id: uuid.UUID) -> None:
    """Remove the row of `model` with this id (its own rows go with it); 404 when there is none."""
    await session.delete(await get_or_404(session, model=model, id=id))
    await session.flush()
