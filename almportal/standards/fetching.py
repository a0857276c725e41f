"""Fetching a document from a URL: http(s) only, a short timeout, a size cap, and ETag.

The host's name is resolved once: every address it gives is checked, and the connection goes to
the first of them. Resolving again to connect would let a name answer a public address to the
check and a private one to the fetch (DNS rebinding). Through a proxy (the standard
`https_proxy` and `http_proxy` settings), the proxy connects, and the check is of the name."""

import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from ..core.errors import DomainError


@dataclass
class Fetched:
    status: int  # 200, or 304 when the ETag still matches
    body: bytes = b""
    etag: str = ""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _connecting_to(connection_class, address: str):
    """A connection class of http.client's that connects to `address`, whatever its host is
    (which still names the server in the Host header, TLS's SNI and certificate check)."""
    def connection(host, **kwargs):
        made = connection_class(host, **kwargs)
        made._create_connection = (lambda target, *args: socket.create_connection(
            (address, target[1]), *args))
        return made

    return connection


class _PinnedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Opens http and https connections to one address (in place of urllib's own handlers)."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(_connecting_to(http.client.HTTPConnection, self.address), req)

    def https_open(self, req):
        return self.do_open(_connecting_to(http.client.HTTPSConnection, self.address), req)


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%")[0]).is_global


def _http_url(url: str, field: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("Give an http or https URL.", field=field)
    return parts


def _refuse_private(field: str) -> DomainError:
    return DomainError("The URL names a private, loopback or link-local address.", field=field)


def check_url(url: str, field: str = "url") -> None:
    _check_name(_http_url(url, field).hostname or "", field)


def _check_name(host: str, field: str) -> None:
    if not settings.STANDARDS_FETCH_ALLOW_PRIVATE and _names_a_private_address(host):
        raise _refuse_private(field)


def _resolved(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def _names_a_private_address(host: str) -> bool:
    """Whether any address the host resolves to is not a public one. A name that does not
    resolve is left to the fetch, which then says it could not reach it."""
    try:
        return not all(_is_public(address) for address in _resolved(host))
    except (socket.gaierror, UnicodeError):
        return False


def _address_to_connect(parts: SplitResult, field: str) -> str:
    """The checked address the fetch connects to."""
    host = parts.hostname or ""
    try:
        addresses = _resolved(host)
    except (socket.gaierror, UnicodeError) as exc:
        raise DomainError(f"Could not fetch the document: {host} does not resolve.",
                          field=field) from exc
    if not settings.STANDARDS_FETCH_ALLOW_PRIVATE and not all(map(_is_public, addresses)):
        raise _refuse_private(field)
    return addresses[0]


def _opener(parts: SplitResult, field: str) -> urllib.request.OpenerDirector:
    host = parts.hostname or ""
    if parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host):
        _check_name(host, field)
        return urllib.request.build_opener(_RefuseRedirects)
    address = _address_to_connect(parts, field)
    return urllib.request.build_opener(_RefuseRedirects, _PinnedHandler(address))


def fetch(url: str, *, etag: str = "", field: str = "url") -> Fetched:
    """The document at `url`, or a DomainError on `field` saying why not."""
    opener = _opener(_http_url(url, field), field)
    limit = settings.STANDARDS_FETCH_MAX_BYTES
    request = urllib.request.Request(url, headers={
        "Accept": "application/json", "User-Agent": "almportal",
        **({"If-None-Match": etag} if etag else {})})
    try:
        with opener.open(request, timeout=settings.STANDARDS_FETCH_TIMEOUT) as response:
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
