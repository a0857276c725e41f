import pytest

from almportal.accounts.roles import Role

from ..factories import make_user


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def delegate(db):
    return make_user(Role.BUSINESS_OWNER, username="dana")


@pytest.fixture
def compliance2(db):
    return make_user(Role.COMPLIANCE, username="cora")


@pytest.fixture
def release(owner, compliance, delegate):
    """A high-tier release a delegate submitted (files may define their own)."""
    from .helpers import high_release

    return high_release(owner, compliance, delegate)
