"""Synthetic alert traffic: a realistic mix of services, severities, repeats, bursts and
resolves, sent to the platform's PagerDuty Events v2 endpoint at a rate that can be
changed over HTTP while it runs."""
