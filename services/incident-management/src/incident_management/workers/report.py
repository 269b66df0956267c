"""What one cycle of the background loop did."""

from dataclasses import dataclass, field


@dataclass
class CycleReport:
    """What one cycle did; tests and logs read it."""

    reopened: int = 0  # snoozes that ended
    assigned: int = 0
    assignment_failures: int = 0
    escalated: int = 0
    pages_sent: int = 0
    pages_retrying: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        """True when the cycle did any work."""
        return any((self.reopened, self.assigned, self.assignment_failures, self.escalated, self.pages_sent))
