"""`python -m bench [section …]`: run the named sections, or all of them.

Fleet sections (pages, runtime) are measured at each fleet size in SIZES on one seeded
PostgreSQL database, the portal served by gunicorn; other sections run on their own. Each
section is a module of this package; every figure is a ratio against a baseline timed
interleaved in the same run (see bench/common.py).
"""

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import common

SIZES = (100, 10_000)
SECTIONS = ("pages", "runtime", "background", "ledger", "ingest", "telemetry")
OWN_PROCESS = ("ledger", "ingest", "telemetry")


def available() -> list[str]:
    return [name for name in SECTIONS if importlib.util.find_spec(f"bench.{name}")]


def run_fleet_sections(modules: dict) -> list[str]:
    from .fleet import Fleet

    fleet = Fleet()
    results: dict[str, dict[int, dict]] = {name: {} for name in modules}
    for size in SIZES:
        fleet.grow_to(size)
        print(f"… {size:,} agents seeded", file=sys.stderr, flush=True)
        with common.served() as (host, port):
            for name, module in modules.items():
                results[name][size] = module.measure(fleet, host, port)
    lines = []
    for name, module in modules.items():
        lines += ["", *module.report(results[name])]
    return lines


def main(argv: list[str]) -> None:
    names = argv or available()
    unknown = [name for name in names if name not in available()]
    if unknown:
        raise SystemExit(f"No such section: {', '.join(unknown)}. Sections: "
                         f"{', '.join(available())}.")
    started = time.perf_counter()
    workdir = common.configure()
    try:
        common.setup_django()
        modules = {name: importlib.import_module(f"bench.{name}") for name in names
                   if name not in OWN_PROCESS}
        fleet_modules = {n: m for n, m in modules.items() if getattr(m, "FLEET", False)}
        lines = [common.describe()]
        lines += run_fleet_sections(fleet_modules) if fleet_modules else []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(lines))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    for name in names:
        if name in OWN_PROCESS:
            run_alone(name)


def run_alone(name: str) -> None:
    """Sections that make a database of their own run in a process of their own, on the same
    PostgreSQL server as the others."""
    server = os.environ.get("BENCH_DATABASE_URL", common.DEFAULT_DATABASE)
    env = {**os.environ, "BENCH_DATABASE_URL": server, "DATABASE_URL": server}
    subprocess.run([sys.executable, "-m", f"bench.{name}"], check=True, env=env,
                   cwd=Path(__file__).resolve().parent.parent)


if __name__ == "__main__":
    main(sys.argv[1:])
