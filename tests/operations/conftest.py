import pytest

from .helpers import Team


@pytest.fixture
def team(owner, compliance):
    return Team(owner, compliance)


@pytest.fixture
def inline_worker():
    """Tasks sent with .delay() run at once, in the test's process."""
    from almportal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def post_judged(django_capture_on_commit_callbacks, inline_worker):
    """Posts a batch of samples, then runs what its commit starts (the worker's judgement of
    the thresholds) inline."""
    from .test_ingest import post

    def send(client, batch_id, items):
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, batch_id, items)
    return send
