"""The refusal a service gives when a request cannot be carried out as asked.

Domain errors say which contest rule forbids a command; a ``ServiceRefused`` says what is
wrong with the request itself (no such rules version, a contest not named where there are
several, a re-score that cannot run). Both faces show it as it is: the CLI on one line, the
web beside the form.
"""

from __future__ import annotations


class ServiceRefused(Exception):
    """A request a service cannot carry out as asked; the message names what is wrong."""
