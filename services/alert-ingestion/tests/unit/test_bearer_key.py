"""Integration keys from `Authorization: Bearer`, read from the raw ASGI scope; never from the URL."""

from starlette.requests import Request

from alert_ingestion.api.deps import bearer_key


def _request(headers: list[tuple[bytes, bytes]], query: bytes = b"") -> Request:
    return Request({"type": "http", "headers": headers, "query_string": query})


def test_bearer_key_from_raw_headers():
    assert bearer_key(_request([(b"authorization", b"Bearer  abc ")])) == "abc"
    assert bearer_key(_request([(b"authorization", b"bearer abc")])) == "abc"
    assert bearer_key(_request([(b"authorization", b"Basic abc")])) is None
    assert bearer_key(_request([(b"authorization", b"Bearer ")], b"integration_key=k1")) is None
    assert bearer_key(_request([], b"integration_key=k2&x=1")) is None
    assert bearer_key(_request([])) is None
