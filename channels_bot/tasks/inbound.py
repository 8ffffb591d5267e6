"""Celery tasks: inbound (see tasks/__init__.py)."""

__all__: list[str] = []
