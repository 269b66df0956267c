"""Incidents: state machine, timeline, notes, assignment, MTTA/MTTR and escalation."""
