import logging
import sys

import pytest
from django.urls import reverse

from almportal.core.logging import NoTracebackForClientErrors

from .factories import make_agent


def record_with_traceback(status_code: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden",
                                   None, sys.exc_info())
    record.status_code = status_code
    return record


def test_it_drops_the_traceback_of_a_refused_request():
    record = record_with_traceback(403)
    assert NoTracebackForClientErrors().filter(record)
    assert record.exc_info is None
    assert "Traceback" not in logging.Formatter().format(record)


def test_it_keeps_the_traceback_of_a_server_error():
    record = record_with_traceback(500)
    NoTracebackForClientErrors().filter(record)
    assert "Traceback" in logging.Formatter().format(record)


@pytest.mark.django_db
def test_a_403_page_logs_one_line(client, owner, other_owner, caplog):
    agent = make_agent(owner)
    client.force_login(other_owner)
    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, NoTracebackForClientErrors) for f in h.filters))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(reverse("inventory:agent-submit", args=[agent.slug]))
    assert response.status_code in (403, 404)
    lines = [handler.format(r) for r in caplog.records
             if r.name == "django.request" and handler.filter(r)]
    assert lines and all("Traceback" not in line for line in lines)


@pytest.mark.django_db
def test_a_404_page_logs_no_traceback(client, owner, caplog):
    client.force_login(owner)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/agents/no-such-agent/")
    assert response.status_code == 404
    handler = next(h for h in logging.getLogger().handlers
                   if any(isinstance(f, NoTracebackForClientErrors) for f in h.filters))
    assert all("Traceback" not in handler.format(r) for r in caplog.records if handler.filter(r))
