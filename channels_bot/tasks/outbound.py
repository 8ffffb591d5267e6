"""Celery tasks: outbound (see tasks/__init__.py)."""

__all__: list[str] = []
