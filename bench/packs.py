"""A portfolio evidence pack of 10,000 agents, built as the worker builds it (the task's own
function, in a process of its own), with its peak memory against the same process before the
build (its baseline: Django loaded, nothing built) and the 256 MB budget.

Run alone: the parent seeds and queues the job; `python -m bench.packs <job id>` is the child."""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

MEMORY_LIMIT_MB = 256


def _megabytes(kilobytes: int) -> float:
    return kilobytes / 1024


def peak_kilobytes() -> int:
    """This process's own peak resident set (VmHWM). Not ru_maxrss: Linux carries that across
    exec, so a child started by a large parent would report the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def run(auditor) -> list[str]:
    """`auditor` may export; the pack covers every agent they may audit (all of them)."""
    from almportal.audit.models import ExportKind, PackJob
    from almportal.audit.packjobs import pack_job_start
    from almportal.inventory.models import Agent

    job = pack_job_start(actor=auditor, kind=ExportKind.PORTFOLIO_PACK)
    agents = Agent.objects.count()
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-m", "bench.packs", str(job.pk)],
                           cwd=Path(__file__).resolve().parent.parent, env=os.environ.copy(),
                           capture_output=True, text=True, timeout=4 * 3600)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        return ["", f"Portfolio pack of {agents:,} agents FAILED:", child.stderr[-2000:]]
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    job = PackJob.objects.get(pk=job.pk)
    peak, base = _megabytes(measured["peak_kb"]), _megabytes(measured["baseline_kb"])
    verdict = "within" if peak < MEMORY_LIMIT_MB else "OVER"
    return [
        "",
        f"Portfolio evidence pack of {agents:,} agents, built by the task's function in a "
        "process of its own:",
        f"  state {job.state}, {job.done:,} of {job.total:,} agents, "
        f"{(job.size or 0) / 1e6:.1f} MB zip, {seconds:.0f} s",
        f"  peak memory {peak:.0f} MB ({verdict} the {MEMORY_LIMIT_MB} MB budget); "
        f"baseline {base:.0f} MB before the build, so the build added {peak - base:.0f} MB",
        f"  {seconds / max(agents, 1) * 1000:.1f} ms per agent",
    ]


def child(job_id: int) -> None:
    import django

    django.setup()
    from almportal.audit.packjobs import pack_job_build

    baseline = peak_kilobytes()
    pack_job_build(job_id)
    peak = peak_kilobytes()
    print(json.dumps({"baseline_kb": baseline, "peak_kb": peak}))


if __name__ == "__main__":
    child(int(sys.argv[1]))
