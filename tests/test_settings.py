"""The settings module against the environment it runs in: PostgreSQL and Redis when their
URLs are set, and production settings that pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ALLOWED_HOSTS"}}
    environ.update({"ALM_VAR_DIR": str(tmp_path), **env})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="DATABASE_URL is not set")
def test_it_uses_postgresql_when_database_url_is_set(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_it_reaches_redis_when_redis_url_is_set():
    import redis

    assert settings.CELERY_BROKER_URL == os.environ["REDIS_URL"]
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_it_passes_the_deployment_checks_in_production(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, env={
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "portal.example.com",
    })
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output


def test_it_refuses_to_start_without_a_secret_key_in_production(tmp_path):
    result = manage("check", tmp_path=tmp_path, env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(64) + "\n")
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, env={
        "DEBUG": "0", "SECRET_KEY_FILE": str(key_file), "ALLOWED_HOSTS": "portal.example.com",
    })
    assert result.returncode == 0, result.stdout + result.stderr
