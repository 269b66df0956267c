"""A stand-in for a service, held to that service's OpenAPI document.

A hand-written fake drifts: the real service renames a field, the fake keeps
answering the old shape, and the tests of its caller keep passing. Wrapped in
`ContractCheck`, every request the fake receives and every answer it gives is
validated against the operation's schemas in the service's own document (the
committed web-ui/openapi/*.json, which a test keeps equal to the services'),
strictly: a field the document does not name is a problem too.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# The services' own documents (scripts/openapi.py writes them; tests/ui checks they are current).
DOCUMENTS = Path(__file__).resolve().parents[4] / "web-ui" / "openapi"


# Where the document is found when an operation's schema refers into it ("#/components/...").
_BASE = "urn:openapi-document"


def _strict(node: Any) -> Any:
    """The schema with every object closed (properties it does not list are refused),
    and its references made absolute, so any part of it can be validated against alone."""
    if isinstance(node, dict):
        closed = {key: _strict(value) for key, value in node.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        if isinstance(closed.get("$ref"), str) and closed["$ref"].startswith("#"):
            closed["$ref"] = _BASE + closed["$ref"]
        return closed
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


class Contract:
    """One service's OpenAPI document, able to say what is wrong with a request or an answer."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = _strict(document)
        self._registry = Registry().with_resource(_BASE, Resource.from_contents(self.document, DRAFT202012))
        self._paths = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"), template)
            for template in self.document["paths"]
        ]

    @classmethod
    def of(cls, service: str) -> "Contract":
        """The contract of `service` (e.g. "oncall-service") from its committed document."""
        return cls(json.loads((DOCUMENTS / f"{service}.json").read_text()))

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The path template and operation serving `method path`, or None when the document has none."""
        for pattern, template in self._paths:
            if pattern.match(path):
                found = self.document["paths"][template].get(method.lower())
                if found is not None:
                    return template, found
        return None

    def _problems(self, schema: dict[str, Any], value: Any, where: str) -> list[str]:
        validator = jsonschema.Draft202012Validator(
            schema, registry=self._registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        problems = []
        for error in validator.iter_errors(value):
            # Of "valid under none of anyOf's schemas", say what is wrong in the branch of the
            # right type (an object that is not null, say), not that it is not null.
            branches = [e for e in error.context if e.validator != "type"] or error.context
            cause = jsonschema.exceptions.best_match(branches) if branches else error
            problems.append(f"{where}: {'/'.join(map(str, cause.absolute_path)) or '(the body)'}: {cause.message}")
        return problems

    def request_problems(self, method: str, path: str, query: str = "", body: Any = None) -> list[str]:
        """What the document refuses in a request: an unknown operation, query parameter or body field."""
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path}: no such operation in the document"]
        template, operation = found
        where = f"{method} {template} request"
        problems = []
        declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        given = dict(parse_qsl(query, keep_blank_values=True))
        for name, value in given.items():
            if name not in declared:
                problems.append(f"{where}: query parameter {name!r} is not in the document")
            else:
                problems += self._problems(declared[name]["schema"], value, f"{where} ?{name}")
        missing = [name for name, parameter in declared.items() if parameter.get("required") and name not in given]
        problems += [f"{where}: query parameter {name!r} is required" for name in missing]
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None:
            problems += self._problems(content["schema"], body, where)
        elif body is not None:
            problems.append(f"{where}: the operation takes no JSON body")
        return problems

    def response_problems(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """What the document refuses in an answer: an undocumented status, or a body not of its schema."""
        found = self.operation(method, path)
        if found is None:
            return [f"{method} {path}: no such operation in the document"]
        template, operation = found
        where = f"{method} {template} answer {status}"
        documented = operation["responses"].get(str(status))
        if documented is None:
            return [f"{where}: status {status} is not documented"]
        content = documented.get("content", {}).get("application/json")
        return self._problems(content["schema"], body, where) if content is not None else []


class ContractCheck:
    """An ASGI app in front of a fake: passes everything through and records in
    `problems` what in each request and answer its service's document refuses."""

    def __init__(self, app: Callable[..., Any], contract: Contract) -> None:
        self.app = app
        self.contract = contract
        self.problems: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        """Serve through the fake, then check what went in and what came out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path, query = scope["method"], scope["path"], scope["query_string"].decode()
        request_body = bytearray()
        answer: dict[str, Any] = {"status": 0, "body": bytearray()}

        async def receiving() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"].extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receiving, sending)
        self.problems += self.contract.request_problems(
            method, path, query, json.loads(request_body) if request_body else None
        )
        self.problems += self.contract.response_problems(
            method, path, answer["status"], json.loads(answer["body"]) if answer["body"] else None
        )
