import pytest

from ..operations.helpers import Team


@pytest.fixture
def team(owner, compliance):
    return Team(owner, compliance)
