"""Calls to oncall-service and notification-service, in the shapes agreed between the services."""
