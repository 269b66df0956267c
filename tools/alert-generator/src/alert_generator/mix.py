"""What to send: the mix (pure, validated) and the planner that turns it into events.

The planner keeps the problems it has triggered and not yet resolved, so repeats
re-trigger a problem still open (the platform deduplicates them), resolves close one,
and a burst is several different problems of one service and severity at once (the
platform correlates them into one incident)."""

import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# PagerDuty Events v2 severities, as they go on the wire.
PagerDutySeverity = Literal["critical", "error", "warning", "info"]
Action = Literal["trigger", "resolve"]

PROBLEMS = (
    "p99 latency above 800 ms on {host}",
    "error rate above 5% on {host}",
    "disk {pct}% full on {host}",
    "memory {pct}% used on {host}",
    "{host} failed its health check",
    "queue backlog growing on {host}",
    "certificate expires in {days} days on {host}",
    "replication lag {secs}s on {host}",
)


class Mix(BaseModel):
    """The shape of the traffic. Weights need not add up to 1; probabilities are per event."""

    model_config = ConfigDict(extra="forbid")

    services: dict[str, float] = Field(min_length=1, description="service -> weight")
    severities: dict[PagerDutySeverity, float] = Field(
        default={"critical": 1, "error": 3, "warning": 4, "info": 2}, min_length=1
    )
    repeat_probability: float = Field(default=0.25, ge=0, le=1, description="re-trigger a problem still open")
    resolve_probability: float = Field(default=0.2, ge=0, le=1, description="resolve a problem still open")
    burst_probability: float = Field(default=0.03, ge=0, le=1, description="start a burst instead of one problem")
    burst_size: int = Field(default=8, ge=2, le=200)
    hosts_per_service: int = Field(default=6, ge=1, le=1000)
    max_open: int = Field(default=200, ge=1, le=100_000, description="at most this many unresolved problems")

    @model_validator(mode="after")
    def _positive_weights(self) -> "Mix":
        for name, weights in (("services", self.services), ("severities", self.severities)):
            if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
                raise ValueError(f"{name}: weights must be >= 0 with a positive sum")
        if self.repeat_probability + self.resolve_probability + self.burst_probability > 1:
            raise ValueError("repeat, resolve and burst probabilities add up to more than 1")
        return self


@dataclass(frozen=True)
class Event:
    """One PagerDuty event to send."""

    action: Action
    service: str
    severity: PagerDutySeverity
    summary: str
    source: str
    dedup_key: str
    timestamp: str  # ISO-8601 with offset

    def body(self, routing_key: str) -> dict[str, object]:
        """The Events API v2 body."""
        body: dict[str, object] = {"routing_key": routing_key, "event_action": self.action, "dedup_key": self.dedup_key}
        if self.action == "trigger":
            body["payload"] = {
                "summary": self.summary,
                "source": self.source,
                "severity": self.severity,
                "timestamp": self.timestamp,
                "component": self.service,
                "custom_details": {"generator": "alert-generator"},
            }
        return body


class Planner:
    """Turns a mix into events; `rng` makes a run repeatable."""

    def __init__(self, mix: Mix, rng: random.Random) -> None:
        self.mix = mix
        self.rng = rng
        self.open: dict[str, Event] = {}  # dedup key -> its trigger
        self._serial = 0

    def _pick(self, weights: dict[str, float]) -> str:
        names = list(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    def _problem(self, service: str, severity: PagerDutySeverity, now: datetime) -> Event:
        self._serial += 1
        host = f"{service}-{self.rng.randrange(self.mix.hosts_per_service) + 1}"
        template = self.rng.choice(PROBLEMS)
        summary = template.format(
            host=host, pct=self.rng.randint(85, 99), days=self.rng.randint(1, 14), secs=self.rng.randint(5, 300)
        )
        return Event(
            "trigger", service, severity, summary, host, f"{service}-{self._serial}", now.isoformat(timespec="seconds")
        )

    def next_events(self, now: datetime) -> list[Event]:
        """The next step of traffic: usually one event, a whole burst now and then."""
        roll = self.rng.random()
        mix = self.mix
        full = len(self.open) >= mix.max_open  # then resolve one before opening more
        if self.open and (full or roll < mix.resolve_probability):
            key = self.rng.choice(list(self.open))
            opened = self.open.pop(key)
            return [replace(opened, action="resolve", timestamp=now.isoformat(timespec="seconds"))]
        roll -= mix.resolve_probability
        if self.open and roll < mix.repeat_probability:
            again = self.open[self.rng.choice(list(self.open))]
            return [replace(again, timestamp=now.isoformat(timespec="seconds"))]
        roll -= mix.repeat_probability
        service = self._pick(mix.services)
        severity = self._pick(mix.severities)  # type: ignore[arg-type]
        count = mix.burst_size if roll < mix.burst_probability else 1
        events = [self._problem(service, severity, now) for _ in range(count)]  # type: ignore[arg-type]
        for event in events:
            self.open[event.dedup_key] = event
        return events
