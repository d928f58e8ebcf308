"""Exchange errors that the access layer needs without importing the query machinery (and its HTTP
client): `tongban.exchange.access` is imported at start-up by every process, the CLI included."""

from __future__ import annotations

from tongban.core.errors import InvalidInput


class Forbidden(InvalidInput):
    """The actor may not do this (the exchange API answers 403; elsewhere it is a 422)."""
