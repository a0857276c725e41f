"""Fetching a document from a URL: http(s) only, a short timeout, a size cap, and ETag."""

import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from ..core.errors import DomainError


@dataclass
class Fetched:
    status: int  # 200, or 304 when the ETag still matches
    body: bytes = b""
    etag: str = ""


def _no_redirects() -> urllib.request.OpenerDirector:
    class Refuse(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(Refuse)


def check_url(url: str, field: str = "url") -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("Give an http or https URL.", field=field)
    if not settings.STANDARDS_FETCH_ALLOW_PRIVATE and _names_a_private_address(parts.hostname):
        raise DomainError("The URL names a private, loopback or link-local address.",
                          field=field)


def _names_a_private_address(host: str) -> bool:
    """Whether any address the host resolves to is not a public one. A name that does not
    resolve is left to the fetch, which then says it could not reach it."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return any(not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global
               for info in infos)


def fetch(url: str, *, etag: str = "", field: str = "url") -> Fetched:
    """The document at `url`, or a DomainError on `field` saying why not."""
    check_url(url, field)
    limit = settings.STANDARDS_FETCH_MAX_BYTES
    request = urllib.request.Request(url, headers={
        "Accept": "application/json", "User-Agent": "almportal",
        **({"If-None-Match": etag} if etag else {})})
    try:
        with _no_redirects().open(request, timeout=settings.STANDARDS_FETCH_TIMEOUT) as response:
            body = response.read(limit + 1)
            status, new_etag = response.status, response.headers.get("ETag", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(304, etag=etag)
        raise DomainError(f"The server answered {exc.code}.", field=field) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DomainError(f"Could not fetch the document: {exc}", field=field) from exc
    if len(body) > limit:
        raise DomainError(f"The document is larger than {limit // 1024} KiB.", field=field)
    return Fetched(status, body, new_etag)
