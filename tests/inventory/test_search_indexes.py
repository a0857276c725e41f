"""On PostgreSQL, the inventory's text search can read the trigram indexes (their expressions
match what Django writes for the search), instead of every agent."""

import pytest
from django.db import connection

from almportal.inventory.filters import AgentFilter
from almportal.inventory.models import Agent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes: PostgreSQL"),
]


def test_the_inventory_search_reads_the_trigram_indexes(owner):
    searched = AgentFilter({"q": "faq"}, queryset=Agent.objects.all()).qs.order_by()
    sql, params = searched.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test table is small: left to itself, the planner reads it whole. Without plain
        # scans, only an index whose expression matches the search's can find its rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for column in ("name", "slug", "purpose", "business_unit"):
        assert f"agent_{column}_trgm" in plan, plan
