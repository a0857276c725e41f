"""Done when 4 (and its local twin): a task sent with .delay() travels through a real broker to
a live `celery worker` subprocess, whose effect shows in the database.

- Through Redis (CI: REDIS_URL set, PostgreSQL): the worker uses this test's own database
  (transaction=True, so what the test writes is committed and visible to it).
- Through the embedded filesystem broker (anywhere): the test's SQLite database lives in
  memory and cannot be shared with another process, so this variant prepares a database file
  of its own with `migrate` and `seed_demo` (whose live agent has a review due) and reads the
  worker's effect from that file.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from almportal.inventory.models import Agent
from almportal.reviews.models import AccessReview

from .conftest import live_agent

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def base_env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({"ALM_VAR_DIR": str(tmp_path), "SECRET_KEY": env.get("SECRET_KEY") or "x",
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", **extra})
    return env


@contextmanager
def running_worker(env: dict, log: Path):
    command = [sys.executable, "-m", "celery", "-A", "almportal", "worker", "--pool=solo",
               "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle",
               "-n", f"test-{uuid.uuid4().hex[:8]}@%h"]
    with log.open("w") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield worker
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(5)


def wait_for(condition, worker, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            pytest.fail(f"The worker exited ({worker.returncode}):\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"No effect within {TIMEOUT} s. Worker log:\n{log.read_text()[-3000:]}")


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
            f"/{s['NAME']}")


@pytest.mark.django_db(transaction=True)
def test_a_task_goes_through_redis_to_a_live_worker(owner, tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        reason = "needs REDIS_URL and PostgreSQL (a database the worker process can reach)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"In CI this test must run: it {reason}.")
        pytest.skip(f"Redis variant {reason}; the embedded-broker variant runs here instead.")
    from almportal.celery import app
    from almportal.reviews.tasks import open_due_reviews

    agent = live_agent(owner)
    Agent.objects.filter(pk=agent.pk).update(next_review_at=timezone.localdate())
    app.control.purge()  # nothing left over from another run reaches this database
    log = tmp_path / "worker.log"
    env = base_env(tmp_path, REDIS_URL=redis_url, DATABASE_URL=database_url())
    with running_worker(env, log) as worker:
        open_due_reviews.delay()
        wait_for(lambda: AccessReview.objects.filter(agent=agent).exists(), worker, log)
    review = AccessReview.objects.get(agent=agent)
    assert review.items.count() == 3
    assert review.history.get().history_user.username == "system"


def test_a_task_goes_through_the_embedded_broker_to_a_live_worker(tmp_path):
    env = base_env(tmp_path)
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--no-input", "-v0"], ["seed_demo"]):
        subprocess.run(manage + step, cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=120)
    database = tmp_path / "almportal.sqlite3"

    def count(sql: str) -> int:
        with sqlite3.connect(database, timeout=20) as db:
            return db.execute(sql).fetchone()[0]

    def runs() -> int:
        return count("SELECT coalesce(sum(runs), 0) FROM core_heartbeat "
                     "WHERE name = 'almportal.reviews.tasks.open_due_reviews'")

    send = ("import django; django.setup(); "
            "from almportal.reviews.tasks import open_due_reviews; open_due_reviews.delay()")
    log = tmp_path / "worker.log"
    with running_worker(env, log) as worker:
        for _ in range(2):  # the second run must open nothing more
            subprocess.run([sys.executable, "-c", send], cwd=ROOT, check=True, timeout=60,
                           env={**env, "DJANGO_SETTINGS_MODULE": "almportal.settings"})
        wait_for(lambda: runs() >= 2, worker, log)
    # The demo's retired agent holds its completed review; the live agent's is the one opened.
    assert count("SELECT count(*) FROM reviews_accessreview WHERE state = 'open'") == 1
    assert count("SELECT count(*) FROM reviews_reviewitem") >= 3
