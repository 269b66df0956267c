"""The shape both batch routes share (`POST /incidents/batch`, `POST /incidents/deliveries/batch`):
each item validated alone, the valid ones done together, a result per item in the items' order."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Item = TypeVar("Item", bound=BaseModel)
Outcome = TypeVar("Outcome")
Result = TypeVar("Result")


async def per_item(
    items: Sequence[dict[str, Any]],
    model: type[Item],
    *,
    refused: Callable[[dict[str, Any], ValidationError], Result],
    run: Callable[[list[Item]], Awaitable[Sequence[Outcome]]],
    answer: Callable[[Item, Outcome], Result],
) -> list[Result]:
    """`refused` answers an item that is not a valid `model`; `run` does the valid ones
    together (one outcome each, in order); `answer` turns an item's outcome into its result."""
    parsed: list[Item | Result] = []
    for raw in items:
        try:
            parsed.append(model.model_validate(raw))
        except ValidationError as exc:
            parsed.append(refused(raw, exc))
    valid = [item for item in parsed if isinstance(item, model)]
    outcomes = iter(await run(valid))
    return [answer(item, next(outcomes)) if isinstance(item, model) else item for item in parsed]
