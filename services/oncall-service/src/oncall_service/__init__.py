"""Users, teams, rotation schedules, overrides, escalation policies, and who is on call now."""
