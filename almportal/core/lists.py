"""Lists a page shows a few rows of, with the count of all of them from the database."""

from django.db.models import QuerySet

SHORTLIST = 25


class Shortlist(list):
    """The first rows of a longer list, and `total`, how many there are in all."""

    def __init__(self, rows=(), total: int | None = None) -> None:
        super().__init__(rows)
        self.total = len(self) if total is None else total

    @property
    def more(self) -> int:
        return self.total - len(self)

    @classmethod
    def of(cls, queryset: QuerySet, limit: int | None = None) -> "Shortlist":
        """One query for the rows; a count only when there are more than `limit`."""
        limit = limit or SHORTLIST
        rows = list(queryset[:limit + 1])
        if len(rows) <= limit:
            return cls(rows, len(rows))
        return cls(rows[:limit], queryset.count())
