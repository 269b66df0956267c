"""How each format's severities map onto ours (critical, high, medium, low, info).

PagerDuty Events v2 has four levels; `error` is what Alertmanager's PagerDuty
sender uses by default, so it maps to `high` (pages someone). Alertmanager and
Grafana carry severity as a free-form `severity` label: the usual spellings
are mapped, and a missing or unrecognised label means `high`, as for
Alertmanager's PagerDuty default (an unknown label must not drop the alert).
"""

from alert_ingestion.domain.alert import Severity

PAGERDUTY: dict[str, Severity] = {"critical": "critical", "error": "high", "warning": "medium", "info": "info"}

LABEL: dict[str, Severity] = {
    "critical": "critical",
    "crit": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "page": "critical",
    "p1": "critical",
    "sev1": "critical",
    "high": "high",
    "error": "high",
    "err": "high",
    "major": "high",
    "p2": "high",
    "sev2": "high",
    "medium": "medium",
    "warning": "medium",
    "warn": "medium",
    "p3": "medium",
    "sev3": "medium",
    "low": "low",
    "minor": "low",
    "p4": "low",
    "sev4": "low",
    "info": "info",
    "informational": "info",
    "notice": "info",
    "none": "info",
    "p5": "info",
    "sev5": "info",
}

LABEL_DEFAULT: Severity = "high"


def from_pagerduty(value: str) -> Severity:
    """PagerDuty severity (already validated to be one of its four) to ours."""
    return PAGERDUTY[value]


def from_label(value: str | None) -> Severity:
    """A free-form `severity` label (Alertmanager, Grafana) to ours."""
    if value is None:
        return LABEL_DEFAULT
    return LABEL.get(value.strip().lower(), LABEL_DEFAULT)
