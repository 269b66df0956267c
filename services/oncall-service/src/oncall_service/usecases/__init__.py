"""Use cases: each runs inside the caller's transaction and never commits."""
