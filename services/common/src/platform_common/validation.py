"""Input types every service shares, for what PostgreSQL cannot store or count.

A bad input must be a 422 naming the field, never a 500 from the database:
PostgreSQL refuses the NUL character (\\u0000) in `text` and `jsonb`, and
OFFSET/LIMIT take 64-bit integers (as does our JSON encoder), so these are
refused at validation here. A lone UTF-16 surrogate in a JSON string is
refused before validation (`refuse_lone_surrogates`): no UTF-8 encoder,
PostgreSQL's or our answers', can write it.
"""

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

# Deep enough for any real page (and bounded: each skipped row is still read).
MAX_OFFSET = 1_000_000

NUL_FREE_PATTERN = r"^[^\x00]*$"


def _nul_error() -> PydanticCustomError:
    return PydanticCustomError("nul_character", "must not contain the NUL character (\\u0000)")


def no_nul(value: str) -> str:
    """Refuse the NUL character, which PostgreSQL cannot store in text."""
    if "\x00" in value:
        raise _nul_error()
    return value


# JSON numbers are unbounded; the services' JSON encoder (orjson) stops at 64 bits.
_INT_RANGE = range(-(2**63), 2**63)


def _storable_json(value: Any) -> Any:
    """Any JSON value, keys included, down every nesting level."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul_error()
        elif isinstance(item, int) and not isinstance(item, bool) and item not in _INT_RANGE:
            raise PydanticCustomError("int_too_large", "integers in JSON must fit in 64 bits")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


# The pattern tells clients (and the OpenAPI document); the validator says what is wrong in plain words.
_NUL_FREE_SCHEMA = Field(json_schema_extra={"pattern": NUL_FREE_PATTERN})

NulFree = Annotated[str, AfterValidator(no_nul), _NUL_FREE_SCHEMA]
"""Any string PostgreSQL can store as text."""

StorableJson = AfterValidator(_storable_json)
"""Put on a JSON-valued field stored as jsonb (`Annotated[dict[str, Any], StorableJson]`):
no NUL anywhere, integers within 64 bits."""


def Text(max_length: int, *, min_length: int = 0, strip: bool = False) -> Any:  # noqa: N802 - reads as a type
    """A string PostgreSQL can store, of bounded length (stripped first when `strip`)."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length),
        AfterValidator(no_nul),
        _NUL_FREE_SCHEMA,
    ]


# Times outside this window are typos; near the ends of the calendar, converting
# to UTC or adding a range runs past what datetime can hold (a 500, not a 422).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _in_window(value: datetime) -> datetime:
    """Naive times are read as UTC; an offset given is kept (senders' payloads are stored as sent)."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise PydanticCustomError("datetime_out_of_range", "time out of range: use a time between 1970 and 2199")
    return value if value.tzinfo else utc


UtcDatetime = Annotated[datetime, AfterValidator(_in_window)]
"""A moment between 1970 and 2199; one without an offset is read as UTC."""

AwareUtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_window)]
"""The same, where a time without an offset is refused (it names no instant)."""

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip, at most {MAX_OFFSET}")]
"""The `offset` query parameter of every paged list."""


# A JSON string may escape half of a UTF-16 surrogate pair (\ud800) with no
# other half; Python's json (FastAPI's parser) then makes a str that no UTF-8
# encoder can write: PostgreSQL's driver fails, and so does rendering an answer
# that echoes it (a 500, before this check). Raw bytes of a surrogate
# (ED A0..BF ..) decode to one as well. Scanned for first, so a body without
# either costs one pass of a regular expression.
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = "must be valid Unicode: a lone surrogate (\\ud800-\\udfff without its pair) is not a character"


def _shown(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode()


def lone_surrogate(body: bytes) -> dict[str, Any] | None:
    """The first string or object key in a JSON `body` that holds a lone
    surrogate, as a validation error naming it (`loc` from "body" down, the
    key itself escaped); None when there is none, or the body is not JSON."""
    if not _SURROGATE_BYTES.search(body):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    stack: list[tuple[Any, list[str | int]]] = [(value, ["body"])]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return {"loc": loc, "msg": LONE_SURROGATE, "type": "string_unicode"}
        if isinstance(item, dict):
            for key, inner in item.items():
                if _SURROGATE.search(key):
                    return {"loc": [*loc, _shown(key)], "msg": LONE_SURROGATE, "type": "string_unicode"}
                stack.append((inner, [*loc, key]))
        elif isinstance(item, list):
            stack.extend((inner, [*loc, index]) for index, inner in enumerate(item))
    return None


async def refuse_lone_surrogates(request: Request) -> None:
    """A dependency of every FastAPI route (platform_common.app): a JSON body
    holding a lone surrogate is a 422 naming where, before anything reads it."""
    if problem := lone_surrogate(await request.body()):
        raise RequestValidationError([problem])


def first_error(exc: ValidationError) -> str:
    """A batch item's refusal in one line: where its first error is, and what it says
    (a batch answers each item on its own, so one bad item is refused alone)."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))
