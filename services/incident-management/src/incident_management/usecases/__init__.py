"""Use cases: each runs inside one transaction owned by its caller and takes `now`."""
