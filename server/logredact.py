"""Secrets never reach the server's logs: the access token, `Authorization` and cookie values.

In:  every log record that uvicorn's handlers (console, access log) and the root logger write.
Out: the same records with `token=...` query values, `Authorization` credentials, the access
     cookie and the token itself (wherever it appears) replaced by `<redacted>`.
"""

from __future__ import annotations

import copy
import logging
import re

from server.security import COOKIE_NAME

REDACTED = "<redacted>"
_PATTERNS = (
    re.compile(r"(?i)(\btoken=)[^&\s\"']+"),
    re.compile(r"(?i)(\bauthorization[\"']?\s*[:=,]\s*[\"']?)[^\"'\r\n]+"),
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(rf"(?i)(\b{re.escape(COOKIE_NAME)}=)[^;\s\"']+"),
    re.compile(r"(?i)(\b(?:set-)?cookie[\"']?\s*[:=,]\s*[\"']?)[^\"'\r\n]+"),
)


def redact(text: str, token: str | None = None) -> str:
    """`text` with the secrets described in the module docstring replaced."""
    if token:
        text = text.replace(token, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactSecrets(logging.Filter):
    """A handler filter that rewrites a record's message and arguments before formatting."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token

    def _clean(self, value: object) -> object:
        return redact(value, self.token) if isinstance(value, str) else value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._clean(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token)
        return True


def log_config(token: str | None) -> dict:
    """uvicorn's logging configuration with `RedactSecrets` on every handler; records of the
    app's own loggers go to the console handler too (warnings and errors, as before)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactSecrets, "token": token}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "redact"]
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
