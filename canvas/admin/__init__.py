"""Operator admin of the canvas studio, one module per sub-domain."""

from . import (  # noqa: F401
    builder,
    content,
    creators,
    generation,
    integrations,  # noqa: E402,F401  (publishing integrations, platform analyses)
    projects,
)
