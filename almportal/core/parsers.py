"""Request parsers. Kept apart from core.api, which imports rest_framework.views: the API
settings name these parsers, and loading them must not import the views module back."""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """JSON whose nesting is too deep for the decoder is bad input (400), not a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
