"""Fast JSON answers (orjson / pydantic's Rust serializer) and body parsing
that reports errors in each format's own shape."""

from typing import Any, TypeVar

import orjson
from fastapi import Response
from pydantic import BaseModel, ValidationError

from alert_ingestion.formats.common import error_details
from alert_ingestion.usecases.ingest import Ingested
from platform_common.errors import BadRequest, Unprocessable
from platform_common.validation import lone_surrogate

Model = TypeVar("Model", bound=BaseModel)


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response, serialized by pydantic (models) or orjson (anything else)."""
    body = (
        content.__pydantic_serializer__.to_json(content)
        if isinstance(content, BaseModel)
        else orjson.dumps(content, default=str)
    )
    return Response(content=body, status_code=status_code, media_type="application/json", headers=headers)


def is_malformed_json(exc: ValidationError) -> bool:
    """True when the body was not JSON at all, rather than JSON of the wrong shape."""
    return any(error["type"] == "json_invalid" for error in exc.errors(include_url=False, include_input=False))


def parse_body(model: type[Model], body: bytes) -> Model:
    """Validate a JSON body: 400 for malformed JSON, 422 (FastAPI's detail list) otherwise."""
    if not body.strip():
        raise BadRequest("Request body is empty; send a JSON object")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        if not is_malformed_json(exc):
            raise Unprocessable(error_details(exc)) from None
        # pydantic's parser refuses a lone surrogate as malformed; it is a bad field, named as the other routes do.
        if problem := lone_surrogate(body):
            raise Unprocessable([problem]) from None
        raise BadRequest("Malformed JSON body") from None


def accepted(outcome: Ingested) -> dict[str, Any]:
    """What became of one alert, as the sender routes answer it (schemas.AlertAccepted)."""
    return {
        "alert_id": outcome.alert_id,
        "incident_id": outcome.incident_id,
        "fingerprint": outcome.fingerprint,
        "action": outcome.result,
    }
