"""Benchmarks (`make bench`, or `python -m bench`).

How the inventory list page and the agents API list scale from 100 to 1,000 agents, on a
throwaway SQLite database. Results are ratios measured within one run (1,000 rows against 100
rows, and against a trivial request), so they mean the same on a laptop and on a CI runner.
"""
