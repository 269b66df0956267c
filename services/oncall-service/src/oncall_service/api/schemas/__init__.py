"""Request and response bodies of the on-call API, one module per resource."""
