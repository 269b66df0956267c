"""Pure on-call rules: rotation arithmetic, final schedules, escalation chains. No I/O, no clock."""
