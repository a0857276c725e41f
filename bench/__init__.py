"""Benchmarks (`make bench`, or `python -m bench [section …]`).

Each section is a module here and can run alone (`python -m bench pages`). The fleet sections
(pages, runtime) seed 100 and then 10,000 agents on a throwaway PostgreSQL database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/almportal_bench) and serve the
portal with gunicorn; set BENCH_REDIS_URL to use the Redis cache as production does. Results
are ratios against the login page timed interleaved in the same run, so they mean the same on a
laptop and on a CI runner.
"""
