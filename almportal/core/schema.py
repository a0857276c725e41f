"""OpenAPI schema additions (drf-spectacular postprocessing): the error answers every operation
can give, in the one format core.api.exception_handler writes."""

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
