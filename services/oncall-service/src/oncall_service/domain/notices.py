""" "You are on call" notices: which shift starts and ends fall in a window, the
weekly summary's moment, and their words. Pure: the caller gives `now`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from oncall_service.domain.schedule import FinalShift

# The weekly summary goes out on Monday from this local hour on, once per ISO week.
SUMMARY_WEEKDAY = 0
SUMMARY_HOUR = 9
SUMMARY_SPAN = timedelta(days=7)


@dataclass(frozen=True)
class Boundary:
    """`user_id`'s shift in a schedule starts (`kind` shift_start) or ends (shift_end) at `at`."""

    kind: str
    user_id: str
    at: datetime
    shift: FinalShift

    def key(self, schedule_id: str) -> str:
        """The notice's one key: the same boundary never makes two notices."""
        return f"{self.kind}:{schedule_id}:{self.user_id}:{self.at.isoformat()}"


def _person_shifts(shifts: Sequence[FinalShift]) -> list[FinalShift]:
    """Shifts with a person's back-to-back pieces joined (a layer handing over to
    an override of the same person is no handover for them)."""
    joined: list[FinalShift] = []
    for shift in shifts:
        last = joined[-1] if joined else None
        if last is not None and last.user_id == shift.user_id and last.end == shift.start:
            joined[-1] = FinalShift(last.user_id, last.start, shift.end, last.source_type, last.source_id)
        else:
            joined.append(shift)
    return joined


def boundaries(shifts: Sequence[FinalShift], *, after: datetime, until: datetime) -> list[Boundary]:
    """Shift starts and ends in (after, until]. `shifts` must reach past both ends
    (the caller asks for a margin), else a cut at the edge reads as a boundary."""
    found = []
    for shift in _person_shifts(shifts):
        if after < shift.start <= until:
            found.append(Boundary("shift_start", shift.user_id, shift.start, shift))
        if after < shift.end <= until:
            found.append(Boundary("shift_end", shift.user_id, shift.end, shift))
    return found


def local(moment: datetime, timezone: str) -> str:
    """A moment as its reader reads it: their local time with the zone's label."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M %Z")


def boundary_message(boundary: Boundary, *, schedule: str, timezone: str) -> str:
    """The words of a start or end notice, in the recipient's time zone."""
    shift = boundary.shift
    if boundary.kind == "shift_start":
        return f"You are on call for {schedule} from {local(shift.start, timezone)} until {local(shift.end, timezone)}."
    return f"Your on-call shift for {schedule} ended at {local(shift.end, timezone)}."


def summary_week(now: datetime, timezone: str) -> str | None:
    """The ISO week ("2026-W50") whose summary is due at `now` for a reader in
    `timezone`: on Monday from SUMMARY_HOUR local time; None at any other time."""
    here = now.astimezone(ZoneInfo(timezone))
    if here.weekday() != SUMMARY_WEEKDAY or here.hour < SUMMARY_HOUR:
        return None
    year, week, _ = here.isocalendar()
    return f"{year}-W{week:02d}"


def summary_message(upcoming: Sequence[tuple[str, FinalShift]], *, timezone: str) -> str:
    """The weekly summary: each (schedule name, shift) of the coming week, in order."""
    lines = [
        f"- {name}: {local(shift.start, timezone)} until {local(shift.end, timezone)}"
        for name, shift in sorted(upcoming, key=lambda item: item[1].start)
    ]
    return "Your on-call shifts this week:\n" + "\n".join(lines)
