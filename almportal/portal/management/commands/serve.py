"""`manage.py serve`: the development server, a Celery worker and Celery beat, stopped together.

`make run` uses it. On a terminal it takes the terminal's foreground, so Ctrl-C reaches only these
three processes: it stops them in turn, waits for each, hands the terminal back and exits 0 — no
signal storm, no tracebacks, and `make` sees a clean exit."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress

from django.core.management.base import BaseCommand, CommandError

# How long each process may take to stop after SIGTERM before it is killed.
STOP_SECONDS = 15


def commands(host: str, port: int) -> list[list[str]]:
    python, bindir = sys.executable, os.path.dirname(sys.executable)
    celery = os.path.join(bindir, "celery")
    return [
        [celery, "-A", "almportal", "worker", "--loglevel=INFO", "--concurrency=2",
         "--pool=threads", "-n", "worker@%h"],
        [celery, "-A", "almportal", "beat", "--loglevel=INFO"],
        [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
    ]


@contextmanager
def terminal_foreground():
    """Make this process group the terminal's foreground group for the duration, so the
    terminal's Ctrl-C is delivered here and not to `make` above us."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    previous = os.tcgetpgrp(fd)
    os.setpgid(0, 0)
    old_ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, os.getpgrp())
        yield
    finally:
        with suppress(OSError):
            os.tcsetpgrp(fd, previous)
        signal.signal(signal.SIGTTOU, old_ttou)
        os.close(fd)


class Command(BaseCommand):
    help = "Serve the portal with a Celery worker and beat; Ctrl-C stops all three cleanly."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        stop_requested = []

        def request_stop(signum, frame) -> None:
            stop_requested.append(signum)

        with terminal_foreground():
            signal.signal(signal.SIGINT, request_stop)
            signal.signal(signal.SIGTERM, request_stop)
            children = [subprocess.Popen(argv, start_new_session=True)
                        for argv in commands(host, port)]
            self.stdout.write(f"Serving ALM Portal on http://{host}:{port}/ with a Celery "
                              "worker and beat (Ctrl-C stops all).")
            while not stop_requested and all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stdout.write("Stopping the web server, the worker and beat…")
            for child in reversed(children):
                self._stop(child)
        if not stop_requested:
            raise CommandError("A process stopped on its own; the others were stopped too.")
        self.stdout.write("Stopped.")

    @staticmethod
    def _stop(child: subprocess.Popen) -> None:
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
