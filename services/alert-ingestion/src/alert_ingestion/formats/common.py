"""Pieces the wire formats share: field types and readable validation errors."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationError

from platform_common.validation import Text, UtcDatetime


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


def NonBlank(max_length: int) -> Any:  # noqa: N802 - reads as a type in models
    """A required string: stripped, not blank, at most `max_length` characters, no NUL (PostgreSQL refuses it)."""
    return Annotated[Text(max_length), AfterValidator(_not_blank)]


def real_time(value: datetime | None) -> datetime | None:
    """Alertmanager sends year 1 ("0001-01-01T00:00:00Z") for 'not ended yet'."""
    if value is None or value.year < 1970:
        return None
    return value


# PagerDuty takes timestamps without an offset as UTC; so do we on /v2/enqueue (1970-2199).
LenientTimestamp = UtcDatetime


def error_messages(exc: ValidationError) -> list[str]:
    """`field.path: message` lines, without echoing the input back."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in error["loc"])
        lines.append(f"{path}: {error['msg']}" if path else error["msg"])
    return lines


def error_details(exc: ValidationError) -> list[dict[str, Any]]:
    """FastAPI's 422 detail shape (loc, msg, type), without the input."""
    return [
        {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
