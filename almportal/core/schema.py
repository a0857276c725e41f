"""OpenAPI schema additions (drf-spectacular postprocessing): the error answers every operation
can give, in the one format core.api.exception_handler writes; and the read-only fields as the
API writes them."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework.relations import ManyRelatedField

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error. `errors` maps a field (or `non_field_errors`) to its "
                   "messages; it is present when the request itself was at fault.",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["detail"],
}

ANSWERS = {
    "400": "Invalid input: `errors` names each refused field.",
    "401": "No credentials, or an invalid, expired or revoked token.",
    "403": "Not allowed: the role, the object permission or the token's scopes.",
    "404": "Not found, or not visible to you.",
    "429": "Too many requests from this user or token: retry after the `Retry-After` seconds.",
    "500": "A server error (always JSON).",
    "503": "The database is unreachable; retry after the `Retry-After` seconds.",
}
WRITE_ANSWERS = {
    "409": "The record's state does not allow this now.",
    "413": "The request body is too large.",
}
WRITES = {"post", "put", "patch", "delete"}


def add_error_responses(result: dict, generator, request, public) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            answers = {**ANSWERS, **(WRITE_ANSWERS if method in WRITES else {})}
            responses = operation.setdefault("responses", {})
            for code, description in answers.items():
                responses.setdefault(code, {"description": description, "content": error})
    return result


class AutoSchema(openapi.AutoSchema):
    """Read-only model fields described as the API writes them. DRF drops `allow_blank` from
    read-only fields, and a relation shown by a slug does not say it may be empty, so the
    schema would promise a value where the API answers "" or null."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        model_field = _model_field(field)
        if schema is None or model_field is None or not field.read_only:
            return schema
        if model_field.null and not isinstance(field, ManyRelatedField):
            schema["nullable"] = True
        if model_field.blank and "" not in schema.get("enum", [""]):
            schema["enum"] = [*schema["enum"], ""]
        return schema


def _model_field(field):
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    return model_field if model_field.concrete else None  # reverse relations are lists
