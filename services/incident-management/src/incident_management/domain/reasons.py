"""Why a page was sent, in words: the sentence each page carries and the timeline
entry beside it. A responder woken at night reads this first, so it must say what
actually happened: a first page, an escalation after N minutes without an
acknowledgement, a re-notify after an acknowledgement went stale, a manual
escalation, and which levels were passed over for having nobody on call."""

from dataclasses import dataclass
from enum import StrEnum

from incident_management.domain.escalation import OnCall, Step


class Why(StrEnum):
    """The real reason for a page."""

    FIRST = "first page"
    TIMEOUT = "escalation"
    RENOTIFY = "re-notify"
    MANUAL = "manual escalation"


@dataclass(frozen=True)
class Reason:
    """What happened, and to which step."""

    why: Why
    step: Step
    skipped: tuple[int, ...] = ()
    # TIMEOUT: the step that went unacknowledged; RENOTIFY: the timeout's minutes.
    previous: Step | None = None
    minutes: float | None = None
    # MANUAL: who asked.
    by: str | None = None


def minutes_text(minutes: float) -> str:
    """`5 min`, `1.5 min`: how long, as people say it."""
    return f"{minutes:g} min"


def level_name(oncall: OnCall, level: int) -> str:
    """`level 1 (Payments primary)`: its position for people (1-based) and what it
    targets, else the policy's name."""
    if not 0 <= level < len(oncall.levels):
        return f"level {level + 1}"
    names = ", ".join(oncall.levels[level].target_names) or oncall.policy_name
    return f"level {level + 1} ({names})" if names else f"level {level + 1}"


def nobody_on_call(oncall: OnCall, skipped: tuple[int, ...]) -> str:
    """`level 1 (Payments primary) had nobody on call`, for every level passed over."""
    if not skipped:
        return ""
    levels = [level_name(oncall, level) for level in dict.fromkeys(skipped)]
    verb = "had" if len(levels) == 1 else "each had"
    return f"{' and '.join(levels)} {verb} nobody on call"


def _cycle(oncall: OnCall, step: Step) -> str:
    return f", repeat {step.cycle} of {oncall.repeat_count}" if step.cycle else ""


def _cause(oncall: OnCall, reason: Reason) -> str:
    """The reason as a clause, without the level paged."""
    if reason.why is Why.TIMEOUT:
        waited = minutes_text(reason.minutes) if reason.minutes is not None else "its delay"
        before = level_name(oncall, reason.previous.level) if reason.previous else "the level before"
        return f"nobody acknowledged within {waited} of paging {before}"
    if reason.why is Why.RENOTIFY:
        waited = minutes_text(reason.minutes) if reason.minutes is not None else "the timeout"
        return f"re-notify: acknowledged but untouched for {waited}, so it is triggered again"
    if reason.why is Why.MANUAL:
        return f"manual escalation by {reason.by or 'a responder'}"
    return "first page"


def page_text(oncall: OnCall, reason: Reason, service: str) -> str:
    """The sentence a page carries (notification-service shows it as the message)."""
    level = level_name(oncall, reason.step.level) + _cycle(oncall, reason.step)
    skipped = nobody_on_call(oncall, reason.skipped)
    passed = f" because {skipped}" if skipped else ""
    if reason.why is Why.FIRST:
        text = f"First page: you are on call for {service} at {level}{passed}."
    elif reason.why is Why.TIMEOUT:
        text = f"Escalated to you at {level}: {_cause(oncall, reason)}."
        text += f" {skipped[0].upper()}{skipped[1:]}." if skipped else ""
    elif reason.why is Why.RENOTIFY:
        text = f"Re-notify: this incident was acknowledged but untouched for {minutes_text(reason.minutes or 0)}; "
        text += f"it is triggered again and you are paged at {level}{passed}."
    else:
        text = f"Manual escalation by {reason.by or 'a responder'}: escalated to you at {level}{passed}."
    return text


def timeline_text(oncall: OnCall, reason: Reason, names: str) -> str:
    """The timeline's entry for the same page: who was paged, at which level, and why."""
    level = level_name(oncall, reason.step.level) + _cycle(oncall, reason.step)
    skipped = nobody_on_call(oncall, reason.skipped)
    tail = f"; {skipped}" if skipped else ""
    if reason.why is Why.FIRST:
        return f"Paging {level}: {names} (first page{tail})"
    if reason.why is Why.RENOTIFY:
        cause = _cause(oncall, reason)
        return f"Acknowledgement timed out: back to triggered, paging {level} again: {names} ({cause}{tail})"
    return f"Escalated to {level}: {names} ({_cause(oncall, reason)}{tail})"
