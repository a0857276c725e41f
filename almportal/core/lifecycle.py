"""Lifecycle moves: one table of allowed transitions per model, checked under a row lock, and the
change saved with its actor and reason so that history tells who moved it and why."""

from collections.abc import Mapping, Set
from typing import Any, TypeVar

from django.db import models

from .errors import Conflict

ModelT = TypeVar("ModelT", bound=models.Model)
StateT = TypeVar("StateT", bound=str)


class Transitions:
    def __init__(self, choices: type[models.TextChoices],
                 moves: Mapping[StateT, Set[StateT]]) -> None:
        self.choices = choices
        self.moves: dict[str, frozenset[str]] = {
            source: frozenset(targets) for source, targets in moves.items()}

    def allows(self, source: str, target: str) -> bool:
        return target in self.moves.get(source, ())

    def check(self, source: str, target: str) -> None:
        if not self.allows(source, target):
            raise Conflict(
                f"Cannot move from {self.choices(source).label} to {self.choices(target).label}."
            )


def attribute_change(instance: models.Model, *, actor: Any, reason: str = "") -> None:
    """Name who makes the next change to the instance (a save or delete) and why."""
    # simple-history reads these two attributes when it writes the history row.
    instance._history_user = actor  # type: ignore[attr-defined]
    instance._change_reason = reason or ""  # type: ignore[attr-defined]


def record(instance: models.Model, *, actor: Any, reason: str = "") -> None:
    """Save with the acting user and the reason, so the history row carries both."""
    attribute_change(instance, actor=actor, reason=reason)
    instance.save()


def lock(model: type[ModelT], pk: Any) -> ModelT:
    """The row, locked for the rest of the transaction (a no-op lock on SQLite, whose
    IMMEDIATE transactions already serialise writers)."""
    return model._default_manager.select_for_update().get(pk=pk)
