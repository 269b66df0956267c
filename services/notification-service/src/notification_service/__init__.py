"""Durable delivery of pages over webhook, Slack, email and log, with retries and history."""
