"""What every bench section shares: a throwaway PostgreSQL database, the portal served by
gunicorn as in production, load loops, and ratios against the trivial page timed interleaved.

Every figure is a ratio against the baseline (the login page) measured in the same round, and
each is the median of ROUNDS rounds, so a busy machine slows both sides alike.
"""

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ("login page", "/login/")
ROUNDS = 3
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/almportal_bench"


def configure() -> Path:
    """Production-like settings on a throwaway PostgreSQL database, before Django starts."""
    workdir = Path(tempfile.mkdtemp(prefix="almportal-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    if not url.startswith("postgres"):
        raise SystemExit("The bench measures PostgreSQL: set BENCH_DATABASE_URL to postgres://…")
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "almportal.settings",
        "DATABASE_URL": url,
        "ALM_VAR_DIR": str(workdir),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        # The rate limits are still checked on every request (their cost is measured), but
        # set far above what a load loop sends, so that they never refuse one.
        "API_RATE_PER_USER": "100000000/min",
        "API_RATE_PER_TOKEN": "100000000/min",
        "API_RATE_GATEWAY_PER_TOKEN": "100000000/min",
    })
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-outside-benchmarks")
    if "BENCH_REDIS_URL" in os.environ:
        os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    else:
        os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    return workdir


def recreate_database() -> None:
    """Drop and create the bench database, so each run seeds the same rows."""
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name) or "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: the bench database's name holds 'bench'.")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def setup_django() -> None:
    import django
    from django.core.management import call_command

    recreate_database()
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


# --- Serving ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(workers: int = 2, threads: int = 1):
    """The portal under gunicorn, as production runs it; yields (host, port)."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "almportal.wsgi",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--log-level", "warning", "--chdir", str(ROOT)]
    process = subprocess.Popen(command, env=os.environ.copy())
    try:
        wait_until_up(port, process)
        yield "127.0.0.1", port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped while starting.")
        try:
            status, _ = fetch("127.0.0.1", port, BASELINE[1], {})
            if status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within a minute.")


def fetch(host: str, port: int, path: str, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def session_headers(user) -> dict:
    """A signed-in browser's cookie for `user` (a session row in the bench database)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}="
                      f"{client.cookies[settings.SESSION_COOKIE_NAME].value}"}


# --- Load loops ------------------------------------------------------------------------------

def latency(host: str, port: int, path: str, headers: dict, requests: int) -> float:
    """Median seconds per request over one keep-alive connection (after one warm-up)."""
    connection = http.client.HTTPConnection(host, port, timeout=120)
    timings = []
    try:
        for n in range(requests + 1):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status not in (200, 304):
                raise SystemExit(f"{path} answered {response.status}.")
            if n:
                timings.append(time.perf_counter() - started)
    finally:
        connection.close()
    return statistics.median(timings)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def throughput(host: str, port: int, path: str, headers: dict, seconds: float,
               connections: int = 8) -> float:
    """Requests per second under wrk (two threads, `connections` keep-alive connections)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, f"http://{host}:{port}{path}"], capture_output=True,
                            text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output:
        raise SystemExit(f"{path} answered errors under load:\n{output}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if found is None:
        raise SystemExit(f"wrk reported no rate for {path}:\n{output}")
    return float(found.group(1))


# --- Interleaved ratios ----------------------------------------------------------------------

@dataclass
class Ratio:
    label: str
    ratios: list[float]
    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def value(self) -> float:
        return statistics.median(self.values)


def interleaved(label: str, baseline: Callable[[], float], target: Callable[[], float],
                rounds: int = ROUNDS) -> Ratio:
    """target/baseline, each round timing the baseline right before the target."""
    ratios, values = [], []
    for _ in range(rounds):
        base = baseline()
        value = target()
        ratios.append(value / base)
        values.append(value)
    return Ratio(label, ratios, values)


def describe() -> str:
    from django.conf import settings

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return (f"ALM Portal benchmark on PostgreSQL, DEBUG off, gunicorn (2 sync workers), "
            f"cache: {cache}.")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"
