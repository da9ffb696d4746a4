"""Errors that formcheck reports to people rather than as tracebacks."""

from __future__ import annotations


class FormcheckError(Exception):
    """Base class: a problem with the input or the environment, with a readable message."""


class InputError(FormcheckError):
    """The input cannot be analysed (not a video, empty, truncated, unreadable)."""


class NoPersonError(FormcheckError):
    """The video decodes but no person was found in enough frames."""


class ViewError(FormcheckError):
    """The camera view does not allow the measurement (for example filmed from the front)."""


class CrowdError(FormcheckError):
    """More than one person is in view for most of the clip."""
