"""Operator admin of the canvas studio, one module per sub-domain."""

from . import content, creators, projects  # noqa: F401
