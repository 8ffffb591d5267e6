"""`python -m aiplatform.run`: the whole platform on this machine.

Starts the embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are
set), applies migrations, loads the demo data, then runs the ASGI web server
(HTTP + websockets), a Celery worker and Celery beat under honcho. Ctrl-C stops
every process it started, the embedded servers included; the data stays.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def _banner(host: str, port: str) -> str:
    from accounts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS

    url = f"http://{host}:{port}"
    lines = [
        "",
        "=" * 64,
        f"  aiplatform is running at {url}",
        f"  operator admin:      {url}/admin/  {DEMO_USERS['operator'][0]}",
        f"  account owner:       {DEMO_USERS['owner'][0]}  (lands in Acme Logistics)",
        f"  member (same acct):  {DEMO_USERS['member'][0]}",
        f"  owner of 2nd acct:   {DEMO_USERS['other'][0]}",
        f"  password (all):      {DEMO_PASSWORD}",
        f"  API docs:            {url}/api/docs/",
        "  Ctrl-C stops everything.",
        "=" * 64,
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiplatform.settings.local")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()  # starts the embedded servers when no external ones are configured
    from django.conf import settings
    from honcho.manager import Manager
    from honcho.printer import Printer

    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    _manage("migrate", "--noinput")
    # Every app's demo, in order (workspace/management/commands/seed_everything.py lists them;
    # an app's new seed_*_demo command is picked up there without an edit here).
    _manage("seed_everything")

    py = sys.executable
    manager = Manager(Printer(sys.stdout))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    manager.add_process(
        "web",
        f"{py} -m uvicorn aiplatform.asgi:application --host {host} --port {port}"
        # Chat frames are a few words of JSON: compressing each costs more CPU than it saves.
        " --ws websockets-sansio --ws-per-message-deflate false --lifespan off",
        env=env,
    )
    manager.add_process("worker", f"{py} -m celery -A aiplatform worker -l info --concurrency 2 -Q default", env=env)
    manager.add_process("beat", f"{py} -m celery -A aiplatform beat -l info", env=env)
    print(_banner(host, port), flush=True)
    try:
        manager.loop()
    finally:
        if settings.EMBEDDED_SERVICES:
            from aiplatform import embedded

            embedded.stop(settings.DATA_DIR)
            print("Embedded PostgreSQL and Redis stopped; data kept in", settings.DATA_DIR, flush=True)
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
