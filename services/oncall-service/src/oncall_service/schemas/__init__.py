"""Request and response bodies of the on-call API, one module per resource. Outside
api/, so the use cases take the requests' models without importing the HTTP layer."""
