"""Every API route, read from the URL conf, with one concrete path per route: the tests that
must hold for every endpoint walk this list, so a new endpoint is covered without a new test."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve

# A value each URL parameter accepts; the rest take "1".
PARAMETER_VALUES = {"fmt": "csv", "username": "nobody"}


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    view: type

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _concrete(route: str) -> str:
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: PARAMETER_VALUES.get(m[1], "1"), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: PARAMETER_VALUES.get(m[1], "1"), route)
    return "/" + route


def _methods(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(actions)
    view = callback.cls
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]


def api_routes() -> list[Route]:
    routes = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        path = _concrete(route)
        assert resolve(path).func is pattern.callback, f"{route} resolves elsewhere as {path}"
        routes += [Route(path, method, pattern.callback.cls) for method in _methods(pattern)]
    return routes
