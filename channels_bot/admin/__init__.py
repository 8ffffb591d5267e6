"""Operator admin of the channel bot, one module per sub-domain."""

from . import catalog, channels, conversations  # noqa: F401
