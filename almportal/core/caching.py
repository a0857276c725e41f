"""Cache entries derived from rows: dropped as soon as the row changes, and again when the
transaction commits (a request that read the old row meanwhile cannot leave it behind)."""

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


def remembered(key: str, compute: Callable[[], T], seconds: int) -> T:
    """`compute()`'s value, from the cache while it is there (at most `seconds`)."""
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.add(key, found, seconds)  # never over a value rebuilt by a change meanwhile
    return found


def forget(keys: Iterable[str], *, then: Callable[[], None] | None = None) -> None:
    """Delete `keys` now and after commit; then run `then` (a rebuild) after commit."""
    keys = list(keys)
    if not keys:
        return
    cache.delete_many(keys)

    def after_commit() -> None:
        cache.delete_many(keys)
        if then is not None:
            then()

    transaction.on_commit(after_commit)
