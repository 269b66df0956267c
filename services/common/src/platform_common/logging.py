"""JSON log lines on stdout with service and request id; level changeable at run time."""

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_FORMAT = "%(levelname)s %(name)s %(message)s"
# Libraries whose DEBUG output is per-byte noise even when an operator asks for DEBUG.
_CHATTY = ("asyncio", "hpack", "multipart")
# httpx logs every request at INFO with its whole URL: a page's webhook or Slack
# URL is the recipient's credential, and each readiness check is a line every
# READINESS_INTERVAL_SECONDS. Our own lines say what was called, masked; these
# say something only when it is a warning.
_OUTBOUND = ("httpx", "httpcore")


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI duplicate of the message
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, libraries') through one JSON handler."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter(service))
    handler.setFormatter(
        JsonFormatter(
            _FORMAT,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601 in UTC
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in _OUTBOUND:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Access lines duplicate the HTTP metrics and drown real events at load.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def set_log_level(level: str) -> str:
    """Change the process-wide level without a restart; returns the new level."""
    level = level.upper()
    logging.getLogger().setLevel(level)
    return level


def current_log_level() -> str:
    """The root logger's level, by name."""
    return logging.getLevelName(logging.getLogger().level)
