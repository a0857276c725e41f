"""The Celery app takes its broker from the settings: an embedded filesystem broker by default,
Redis when REDIS_URL is set; beat schedules the heartbeat that proves worker and beat run."""

import json
import os
import subprocess
import sys
from pathlib import Path

from almportal.celery import app

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
from almportal.celery import app
conf = app.conf
print(json.dumps({
    "broker_url": conf.broker_url,
    "transport": app.connection_for_write().transport.driver_type,
    "options": conf.broker_transport_options,
}))
"""


def celery_config(tmp_path: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    environ.update({"ALM_VAR_DIR": str(tmp_path), "DEBUG": "1", **env})
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environ,
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_uses_the_filesystem_broker_without_redis(tmp_path):
    config = celery_config(tmp_path)
    assert config["broker_url"] == "filesystem://"
    assert config["transport"] == "filesystem"
    assert config["options"]["data_folder_in"].startswith(str(tmp_path))
    assert config["options"]["data_folder_in"] == config["options"]["data_folder_out"]


def test_it_uses_redis_when_redis_url_is_set(tmp_path):
    config = celery_config(tmp_path, REDIS_URL="redis://broker.example.test:6379/3")
    assert config["broker_url"] == "redis://broker.example.test:6379/3"
    assert config["transport"] == "redis"


def test_it_loads_its_configuration_from_django_settings(settings):
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_acks_late is True
    assert app.conf.timezone == "UTC"


def test_it_schedules_the_heartbeat():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["heartbeat"]
    assert entry["task"] == "almportal.core.tasks.beat_heartbeat"
    assert entry["task"] in app.tasks
    assert all(item["task"] in app.tasks for item in app.conf.beat_schedule.values())


def test_a_task_run_records_a_heartbeat(db):
    from almportal.core.models import Heartbeat

    app.loader.import_default_modules()
    app.tasks["almportal.core.tasks.beat_heartbeat"].apply()
    beat = Heartbeat.objects.get(name="almportal.core.tasks.beat_heartbeat")
    assert beat.runs == 1


def test_redis_keeps_a_running_task_invisible_for_longer_than_the_longest_task(tmp_path):
    config = celery_config(tmp_path, REDIS_URL="redis://broker.example.test:6379/3")
    from django.conf import settings

    assert config["options"]["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT


def test_it_schedules_the_outbox_and_the_pack_sweep():
    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"almportal.accounts.tasks.outbox_send", "almportal.audit.tasks.packs_sweep"} <= tasks
