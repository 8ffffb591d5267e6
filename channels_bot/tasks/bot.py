"""Celery tasks: bot (see tasks/__init__.py)."""

__all__: list[str] = []
