import pytest

from .helpers import Team


@pytest.fixture
def team(owner, compliance):
    return Team(owner, compliance)
