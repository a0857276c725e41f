"""The API as a test calls it: a DRF client acting as a user, without a token."""

from rest_framework.test import APIClient


def api(user=None) -> APIClient:
    """A client authenticated as `user`, or anonymous without one."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
