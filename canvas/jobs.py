"""Job types of the canvas app on the processing queue (found by the queue's
autodiscovery of `<app>.jobs`): the web builder's store and generation types,
the integrations' publishing and analysis types, and voice and avatar generation."""

from canvas.services.builder import jobs as builder_jobs  # noqa: F401 - registers store "builder"


def _integrations() -> None:
    try:
        from canvas.services.integrations.jobs import ensure_registered
    except ImportError:  # the integrations package is optional here
        return
    ensure_registered()


_integrations()


def _media() -> None:
    from canvas.services.media import register

    register()


_media()


def _content() -> None:
    from canvas.services import analysis, scripts

    analysis.register()
    scripts.register()


_content()
