"""The final schedule: layers stacked by priority, overrides on top, as contiguous shifts."""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_service.domain.rotation import Layer, layer_shifts

LAYER = "layer"
OVERRIDE = "override"


@dataclass(frozen=True)
class Override:
    """`user_id` covers the whole schedule over [start, end), whoever the layers say."""

    id: str
    user_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class FinalShift:
    """Who is on call over [start, end) and what put them there (a layer or an override)."""

    user_id: str
    start: datetime
    end: datetime
    source_type: str
    source_id: str


@dataclass(frozen=True)
class _Piece:
    start: datetime
    end: datetime
    user_id: str
    source_type: str
    source_id: str


class _Cursor:
    """Walks sorted, non-overlapping pieces while the query time only moves forward."""

    def __init__(self, pieces: Sequence[_Piece]) -> None:
        self._pieces = pieces
        self._next = 0

    def at(self, moment: datetime) -> _Piece | None:
        while self._next < len(self._pieces) and self._pieces[self._next].end <= moment:
            self._next += 1
        if self._next < len(self._pieces) and self._pieces[self._next].start <= moment:
            return self._pieces[self._next]
        return None


def overlapping(overrides: Iterable[Override], start: datetime, end: datetime) -> Override | None:
    """The first override sharing any time with [start, end); touching ends do not overlap."""
    return next((o for o in overrides if o.start < end and start < o.end), None)


def final_shifts(
    layers: Sequence[Layer], overrides: Sequence[Override], start: datetime, end: datetime
) -> list[FinalShift]:
    """Who is on call over [start, end): an override wins over every layer, and a layer
    of higher priority wins where it covers the time. Shifts come sorted, never
    overlap, and touch wherever someone is on call; neighbouring pieces of the same
    person from the same source are merged. Time nobody covers is simply absent.
    Overrides are expected not to overlap (the API refuses that); if they do, the
    one listed last wins."""
    if start >= end:
        return []
    ordered_layers = sorted(layers, key=lambda layer: layer.priority, reverse=True)
    layer_pieces = [
        [_Piece(s.start, s.end, s.user_id, LAYER, layer.id) for s in layer_shifts(layer, start, end)]
        for layer in ordered_layers
    ]
    override_pieces = [
        _Piece(max(o.start, start), min(o.end, end), o.user_id, OVERRIDE, o.id)
        for o in reversed(overrides)
        if o.start < end and start < o.end
    ]

    cuts = {start, end}
    for piece in [*override_pieces, *(p for pieces in layer_pieces for p in pieces)]:
        cuts.update((piece.start, piece.end))
    points = sorted(cuts)
    layer_cursors = [_Cursor(pieces) for pieces in layer_pieces]

    result: list[FinalShift] = []
    for lo, hi in itertools.pairwise(points):
        winner = next((o for o in override_pieces if o.start <= lo < o.end), None)
        if winner is None:
            # Every cursor advances on every step, so each keeps its place.
            found = [cursor.at(lo) for cursor in layer_cursors]
            winner = next((piece for piece in found if piece is not None), None)
        if winner is None:
            continue
        last = result[-1] if result else None
        if (
            last is not None
            and last.end == lo
            and (last.user_id, last.source_type, last.source_id)
            == (winner.user_id, winner.source_type, winner.source_id)
        ):
            result[-1] = FinalShift(last.user_id, last.start, hi, last.source_type, last.source_id)
        else:
            result.append(FinalShift(winner.user_id, lo, hi, winner.source_type, winner.source_id))
    return result


def on_call_at(layers: Sequence[Layer], overrides: Sequence[Override], at: datetime) -> FinalShift | None:
    """The final shift running at `at` (clipped to that instant), or None when nobody covers it."""
    shifts = final_shifts(layers, overrides, at, at + timedelta(microseconds=1))
    return shifts[0] if shifts else None


@dataclass(frozen=True)
class Gap:
    """Nobody is on call over [start, end)."""

    start: datetime
    end: datetime


def gaps(shifts: Sequence[FinalShift], start: datetime, end: datetime) -> list[Gap]:
    """Every stretch of [start, end) the final shifts (final_shifts' answer over the
    same range) leave uncovered, in order. The one definition of a gap: the on-call
    page, the schedule preview and `oncall_schedules_with_gap` all use it."""
    found: list[Gap] = []
    covered_until = start
    for shift in shifts:
        if shift.start > covered_until:
            found.append(Gap(covered_until, shift.start))
        covered_until = max(covered_until, shift.end)
    if covered_until < end:
        found.append(Gap(covered_until, end))
    return found


def first_gap(
    layers: Sequence[Layer], overrides: Sequence[Override], start: datetime, end: datetime
) -> datetime | None:
    """The first moment of [start, end) nobody is on call, or None when someone always is."""
    found = gaps(final_shifts(layers, overrides, start, end), start, end)
    return found[0].start if found else None
