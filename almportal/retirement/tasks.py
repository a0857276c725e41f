"""The decommissioning worker's tasks: the final archive of a retired agent, built after the
retirement commits (defined beside the archive code), and the sweep that asks again for those
whose request was lost."""

from .archiving import final_archive_build_task, final_archives_sweep

__all__ = ["final_archive_build_task", "final_archives_sweep"]
