"""Inputs PostgreSQL cannot store are refused at validation, naming what is wrong."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ValidationError

from platform_common.errors import ErrorEnvelope, TooManyRequests, error_responses
from platform_common.validation import AwareUtcDatetime, NulFree, StorableJson, Text, UtcDatetime, lone_surrogate


class _Input(BaseModel):
    name: Text(10, min_length=1, strip=True) = "x"
    note: NulFree = ""
    labels: Annotated[dict[str, Any], StorableJson] = {}
    at: UtcDatetime | None = None
    aware: AwareUtcDatetime | None = None


def _error(**fields: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        _Input(**fields)
    (error,) = caught.value.errors()
    return error


@pytest.mark.parametrize(
    "fields",
    [{"name": "a\x00b"}, {"note": "\x00"}, {"labels": {"k": ["ok", {"deep": "x\x00"}]}}, {"labels": {"k\x00": 1}}],
)
def test_nul_anywhere_is_refused_by_name(fields):
    error = _error(**fields)
    assert error["type"] == "nul_character"
    assert error["loc"][0] == next(iter(fields))
    assert "NUL" in error["msg"]


def test_json_integers_must_fit_64_bits():
    assert _Input(labels={"n": 2**63 - 1, "flag": True}).labels["n"] == 2**63 - 1
    assert _error(labels={"n": [2**63]})["type"] == "int_too_large"


def test_times_are_within_1970_to_2199_naive_ones_utc():
    assert _Input(at=datetime(2026, 3, 8, 9, 0)).at == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    plus_one = timezone(timedelta(hours=1))
    assert _Input(at=datetime(2026, 3, 8, 10, 0, tzinfo=plus_one)).at.utcoffset() == timedelta(hours=1)
    for moment in (datetime(1, 1, 1, tzinfo=plus_one), datetime(9999, 12, 31, 23, 0), datetime(1969, 12, 31)):
        assert _error(at=moment)["type"] == "datetime_out_of_range"
    assert _error(aware=datetime(2026, 1, 1))["type"] == "timezone_aware"


def test_the_pattern_is_in_the_json_schema():
    schema = _Input.model_json_schema()["properties"]
    assert schema["name"]["pattern"] == schema["note"]["pattern"] == r"^[^\x00]*$"


def test_error_responses_document_the_envelope_and_retry_after():
    responses = error_responses(TooManyRequests, 404, s404="no such thing")
    assert responses[429]["model"] is ErrorEnvelope and "Retry-After" in responses[429]["headers"]
    assert responses[404]["description"] == "no such thing"


def test_too_many_requests_rounds_the_wait_up():
    error = TooManyRequests("slow down", retry_after=0.2)
    assert error.headers == {"Retry-After": "1"}
    assert error.extra == {"retry_after_seconds": 1}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"a": "\\ud800"}', ["body", "a"]),
        (b'{"a": [1, {"b": "x\\uDBFFy"}]}', ["body", "a", 1, "b"]),
        (b'{"k\\udc00": 1}', ["body", "k\\udc00"]),  # a key: named, escaped
        (b'{"a": "\xed\xa0\x80"}', ["body", "a"]),  # a surrogate's raw UTF-8 bytes
        (b'"\\ud800"', ["body"]),
    ],
)
def test_a_lone_surrogate_is_found_and_named(body, loc):
    problem = lone_surrogate(body)
    assert problem is not None
    assert problem["loc"] == loc
    assert problem["type"] == "string_unicode"


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "\\ud83d\\ude00"}',  # a pair: one character (an emoji)
        b'{"a": "\\\\ud800"}',  # an escaped backslash, then the letters "ud800"
        b'{"a": "plain"}',
        b"{not json \\ud800",
        b"",
    ],
)
def test_pairs_escaped_backslashes_and_other_bodies_are_not_lone_surrogates(body):
    assert lone_surrogate(body) is None
