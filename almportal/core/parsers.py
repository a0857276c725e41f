"""Request parsers. Kept apart from core.api, which imports rest_framework.views: the API
settings name these parsers, and loading them must not import the views module back."""

from rest_framework import exceptions, parsers

NUL_REFUSED = "Null characters are not allowed."


class JSONParser(parsers.JSONParser):
    """JSON whose nesting is too deep for the decoder is bad input (400), not a server error;
    so is a NUL character anywhere in it, which PostgreSQL refuses to store in text or JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        refused = {path: [NUL_REFUSED] for path in nul_paths(data)}
        if refused:
            raise exceptions.ValidationError(refused)
        return data


def nul_paths(value, path: str = "") -> list[str]:
    """Where NUL characters hide in parsed JSON, as field paths ("samples.0.metric")."""
    if isinstance(value, str):
        return [path or "non_field_errors"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found += [inner] if "\x00" in str(key) else nul_paths(item, inner)
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in nul_paths(item, f"{path}.{i}" if path
                                                                       else str(i))]
    return []
