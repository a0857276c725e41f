"""The one error type services raise. Views turn it into form errors or messages, the API into
JSON with field messages (see core.api.exception_handler)."""

from django.core.exceptions import ValidationError

NON_FIELD = "__all__"


class DomainError(Exception):
    """A rule of the domain refused the change; nothing was written."""

    status_code = 400

    def __init__(self, message: str = "", *, field: str | None = None,
                 errors: dict[str, list[str]] | None = None) -> None:
        self.errors = errors or {field or NON_FIELD: [message]}
        self.message = message or next(iter(self.errors.values()))[0]
        super().__init__(self.message)


class NotPermitted(DomainError):
    """The actor may see the object but not make this change."""

    status_code = 403


class Conflict(DomainError):
    """The object is not in a state that allows the change (e.g. a frozen release)."""

    status_code = 409


def require_that(allowed: bool, message: str) -> None:
    """A service's permission check: `require_that(rules.may_x(actor, ...), "Only ...")`."""
    if not allowed:
        raise NotPermitted(message)


def add_to_form(form, error: DomainError) -> None:
    """Show a service's error on the form's fields where they exist, else above the form."""
    for field, messages in error.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


def clean_or_refuse(instance, *, exclude=(), validate_unique: bool = False) -> None:
    """The model's own field validation (choices, lengths, validators) as a DomainError with
    field messages, so a service refuses bad input before anything is saved."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=validate_unique)
    except ValidationError as exc:
        raise DomainError(errors=exc.message_dict) from exc
