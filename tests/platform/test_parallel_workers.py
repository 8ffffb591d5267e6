"""The suite on pytest-xdist workers (bin/test): each worker has its own data folder, so
its own embedded PostgreSQL and Redis, and the controller, which runs no test, starts none."""

import os
import subprocess
import sys

import pytest


def test_a_worker_runs_on_its_own_data_folder(settings):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        pytest.skip("one process (TEST_WORKERS=1): no worker folder")
    assert str(settings.DATA_DIR).endswith(f"-{worker}")


def test_the_controller_starts_no_servers_and_its_workers_start_their_own(settings, tmp_path):
    # given the test settings loaded as bin/test's xdist controller, on an empty data folder
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_XDIST_WORKER", "DATABASE_URL", "REDIS_URL")}
    env |= {"AIPLATFORM_DATA_DIR": str(tmp_path / "test"), "AIPLATFORM_TEST_NO_SERVERS": "1"}
    probe = (
        "import os; from aiplatform.settings import test as s; "
        "print(s.EMBEDDED_SERVICES, 'DATABASE_URL' in os.environ, 'REDIS_URL' in os.environ)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    # then it starts no embedded servers (nothing in the folder) and leaves no address
    # behind for the workers it spawns
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]
    assert not (tmp_path / "test" / "postgres").exists()
