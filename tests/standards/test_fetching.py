"""Fetching connects to the address it checked: a name is resolved once, so a name that answers
a public address to the check and a private one afterwards (DNS rebinding) cannot make the
portal read its own network."""

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from almportal.core.errors import DomainError
from almportal.standards import fetching

PUBLIC = "93.184.216.34"


class Resolver:
    """The tests' own names: each answers its addresses in turn (the last one for good); a
    name with no address does not resolve. Other names go to the real resolver."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []
        self.connected: list[tuple] = []


@pytest.fixture
def resolver(monkeypatch):
    names, real = Resolver(), socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names.answers:
            return real(host, port, *args, **kwargs)
        names.asked.append(host)
        queue = names.answers[host]
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def port_of(served) -> int:
    return int(served.base.rsplit(":", 1)[1])


def test_a_name_that_rebinds_to_loopback_is_never_connected_to_it(served, settings, resolver,
                                                                  monkeypatch):
    def refuse(address, *args, **kwargs):
        resolver.connected.append(address)
        raise ConnectionRefusedError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    settings.STANDARDS_FETCH_ALLOW_PRIVATE = False
    served.put("/card.json", {"name": "inside"})
    resolver.answers["rebind.test"] = [PUBLIC, "127.0.0.1"]
    with pytest.raises(DomainError) as caught:
        fetching.fetch(f"http://rebind.test:{port_of(served)}/card.json")
    assert "Could not fetch" in caught.value.errors["url"][0]
    assert resolver.connected == [(PUBLIC, port_of(served))]
    assert resolver.asked == ["rebind.test"] and served.hits == []


def test_a_name_is_fetched_from_the_one_address_it_resolved_to(served, resolver):
    served.put("/card.json", {"name": "travel"})
    resolver.answers["docs.test"] = ["127.0.0.1"]
    fetched = fetching.fetch(f"http://docs.test:{port_of(served)}/card.json")
    assert fetched.status == 200 and b"travel" in fetched.body
    assert resolver.asked == ["docs.test"] and served.hits == ["/card.json"]


def test_a_private_answer_among_several_is_refused_before_connecting(served, settings,
                                                                     resolver):
    settings.STANDARDS_FETCH_ALLOW_PRIVATE = False
    resolver.answers["mixed.test"] = ["10.0.0.8"]
    with pytest.raises(DomainError) as caught:
        fetching.fetch(f"http://mixed.test:{port_of(served)}/card.json")
    assert "private, loopback or link-local" in caught.value.errors["url"][0]
    assert served.hits == []


def test_a_name_that_does_not_resolve_is_a_field_error(resolver):
    resolver.answers["nowhere.test"] = []
    with pytest.raises(DomainError) as caught:
        fetching.fetch("https://nowhere.test/card.json")
    assert "does not resolve" in caught.value.errors["url"][0]


def self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """An HTTPS server on loopback whose certificate names docs.test, trusted by the fetch."""
    certificate, key = self_signed("docs.test")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    monkeypatch.setattr(ssl, "_create_default_https_context",
                        lambda: ssl.create_default_context(cafile=str(tmp_path / "cert.pem")))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            body = b'{"name": "over tls"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_against_the_name_not_the_address(tls_server, settings,
                                                                      resolver):
    settings.STANDARDS_FETCH_ALLOW_PRIVATE = True  # the server listens on loopback
    resolver.answers["docs.test"] = ["127.0.0.1"]
    fetched = fetching.fetch(f"https://docs.test:{tls_server}/card.json")
    assert fetched.status == 200 and b"over tls" in fetched.body
    resolver.answers["other.test"] = ["127.0.0.1"]
    with pytest.raises(DomainError) as caught:
        fetching.fetch(f"https://other.test:{tls_server}/card.json")
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.errors["url"][0]
