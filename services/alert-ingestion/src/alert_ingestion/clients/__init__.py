"""Calls to incident-management, in the shapes agreed between the services."""
