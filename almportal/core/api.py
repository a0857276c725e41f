"""What every API module shares: pagination, the error format, and mapping domain errors."""

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, filters, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .errors import NON_FIELD, DomainError
from .keyset import SORT_KEY, Sort, chosen_sort, keyed

logger = logging.getLogger(__name__)
DATABASE_REFUSED = ("A value is out of the range the database accepts (too long, too large, "
                    "or holding a character it cannot store).")


def username_field(**kwargs: Any) -> serializers.SlugRelatedField:
    """A user shown, and chosen, by username."""
    return serializers.SlugRelatedField(slug_field="username", **kwargs)


def slug_field(**kwargs: Any) -> serializers.SlugRelatedField:
    """An agent, environment or other slugged object shown, and chosen, by its slug."""
    return serializers.SlugRelatedField(slug_field="slug", **kwargs)


class CursorPagination(pagination.CursorPagination):
    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500


class SortOrdering(filters.BaseFilterBackend):
    """`?ordering=` on an API list: the columns its page sorts by (the view's `sorts`, with
    its `default_sort`), "-" before a key for descending; the cursor pages on the same key. A
    key the list does not sort by is a 400 naming the keys it does."""

    param = "ordering"

    def _sort(self, request, view) -> str:
        asked = request.query_params.get(self.param)
        sort = chosen_sort(view.sorts, asked) if asked else view.default_sort
        if sort is None:
            keys = ", ".join(k for k, s in view.sorts.items() if s.field)
            raise exceptions.ValidationError(
                {self.param: [f"Sort by one of {keys} (\"-\" before it for descending)."]})
        return sort

    def filter_queryset(self, request, queryset, view):
        return keyed(queryset, view.sorts[self._sort(request, view).lstrip("-")])

    def get_ordering(self, request, queryset, view) -> tuple[str, str]:
        """What CursorPagination orders and pages by."""
        if self._sort(request, view).startswith("-"):
            return f"-{SORT_KEY}", "-pk"
        return SORT_KEY, "pk"

    def get_schema_operation_parameters(self, view) -> list[dict]:
        sorts: dict[str, Sort] = view.sorts
        keys = [k for k, s in sorts.items() if s.field]
        return [{
            "name": self.param, "required": False, "in": "query",
            "description": "Sort by a column of the list's page (\"-\" first: descending); "
                           f"by default {view.default_sort}.",
            "schema": {"type": "string", "enum": [*keys, *(f"-{k}" for k in keys)]},
        }]


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def exception_handler(exc, context):
    """Every error is JSON: {"detail": summary, "errors": {field: [messages]}} where fields
    apply."""
    if isinstance(exc, DomainError):
        errors = {("non_field_errors" if k == NON_FIELD else k): v for k, v in exc.errors.items()}
        return Response({"detail": exc.message, "errors": errors}, status=exc.status_code)
    if isinstance(exc, DataError):
        return database_refused(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": "Invalid input.", "errors": data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": response.data["detail"]}
    return response


def database_refused(exc: DataError) -> Response:
    """A value the database refuses (too long, out of range, a NUL byte) that validation let
    through: the client's input, so a 400, and the transaction is rolled back."""
    logger.warning("The database refused a value: %s", exc)
    set_rollback()
    return Response({"detail": "Invalid input.",
                     "errors": {"non_field_errors": [DATABASE_REFUSED]}},
                    status=status.HTTP_400_BAD_REQUEST)


# --- Input: strict serializers and one way to parse a request body ----------------------------

if TYPE_CHECKING:
    SerializerMixinBase = serializers.Serializer
else:
    SerializerMixinBase = object


class StrictInput(SerializerMixinBase):
    """Refuses keys it does not know, or cannot set, instead of silently dropping them: a
    client that believes it changed something must hear that it did not."""

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = {key: ["This field cannot be set here."]
                       for key in data if key not in writable}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from exc
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class StrictSerializer(StrictInput, serializers.Serializer):
    pass


class StrictModelSerializer(StrictInput, serializers.ModelSerializer):
    pass


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class RequiredReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=1000)


def validated(serializer_class, request, **kwargs) -> dict:
    """The request body parsed by the serializer, or a 400 with its field errors."""
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def validated_query(serializer_class, request) -> dict:
    """The query string parsed by the serializer, or a 400 with its field errors. Parameters
    it does not name are left to others (`format`, the browsable API's own)."""
    serializer = serializer_class(data=request.query_params, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
