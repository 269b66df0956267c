"""The ways a page leaves this service: webhook, Slack, email, log."""
