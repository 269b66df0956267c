"""Receives alerts in every supported format, deduplicates and correlates them into incidents."""
