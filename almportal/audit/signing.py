"""Signed checkpoints of the ledger head, with an Ed25519 key kept outside the database.

The key comes from the environment: AUDIT_SIGNING_KEY (a PEM private key, or the base64 of its
32 raw bytes) or AUDIT_SIGNING_KEY_FILE (a PEM file). Without one, a development server
(DEBUG) makes a key file under var/ on first use; a production server signs nothing and the
deploy check says so. The public key is published (audit:signing-key and the API) so an auditor
can check a checkpoint with nothing but the file and that key.

A checkpoint signs the canonical JSON (core.hashing) of
    {"seq": <last entry's number>, "hash": <its hash>, "signed_at": <UTC ISO 8601, Z>,
     "key_id": <first 16 hex digits of the SHA-256 of the raw public key>}
and its signature is the base64 of the 64-byte Ed25519 signature over those bytes. The offline
verifier (audit/offline/alm_verify.py) checks the same.
"""

import base64
import binascii
import hashlib
import logging
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..core.errors import Conflict
from ..core.hashing import canonical_json
from .ledger import parse_utc, utc_iso
from .models import LedgerEntry, LedgerHead, SignedCheckpoint

log = logging.getLogger(__name__)

ALGORITHM = "Ed25519"


class SigningKeyMissing(Exception):
    """No signing key is configured."""


def _from_text(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("The audit signing key is not an Ed25519 key.")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("The audit signing key is neither PEM nor base64.") from exc
    return Ed25519PrivateKey.from_private_bytes(raw)


def _dev_key_file() -> Path:
    path = Path(settings.VAR_DIR) / "audit-signing-key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(private_key_pem(Ed25519PrivateKey.generate()))
        path.chmod(0o600)
    return path


@lru_cache(maxsize=4)
def _load(text: str | None, file: str | None) -> Ed25519PrivateKey:
    if text:
        return _from_text(text)
    assert file is not None  # private_key passes a file whenever it has no text
    return _from_text(Path(file).read_text(encoding="ascii"))


def private_key() -> Ed25519PrivateKey:
    text = getattr(settings, "AUDIT_SIGNING_KEY", "") or None
    file = getattr(settings, "AUDIT_SIGNING_KEY_FILE", "") or None
    if not text and not file:
        if not settings.DEBUG:
            raise SigningKeyMissing("No audit signing key is configured (AUDIT_SIGNING_KEY or "
                                    "AUDIT_SIGNING_KEY_FILE).")
        file = str(_dev_key_file())
    return _load(text, file)


def is_configured() -> bool:
    try:
        private_key()
    except (SigningKeyMissing, OSError, ValueError):
        return False
    return True


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    key = key or public_key()
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_id(key: Ed25519PublicKey | None = None) -> str:
    key = key or public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- Checkpoints --------------------------------------------------------------------------

def payload(checkpoint: SignedCheckpoint) -> dict:
    """What is signed."""
    return {"seq": checkpoint.seq, "hash": checkpoint.entry_hash,
            "signed_at": utc_iso(checkpoint.signed_at), "key_id": checkpoint.key_id}


def as_document(checkpoint: SignedCheckpoint) -> dict:
    """The checkpoint as exports and packs carry it (and checkpoint.json holds it)."""
    return {**payload(checkpoint), "algorithm": ALGORITHM, "signature": checkpoint.signature}


def from_document(document: dict) -> SignedCheckpoint:
    return SignedCheckpoint(seq=int(document["seq"]), entry_hash=document["hash"],
                            signed_at=parse_utc(document["signed_at"]),
                            key_id=document["key_id"], signature=document["signature"])


def signature_ok(checkpoint: SignedCheckpoint) -> bool:
    key = public_key()
    if checkpoint.key_id != key_id(key):
        return False
    try:
        key.verify(base64.b64decode(checkpoint.signature), canonical_json(payload(checkpoint)))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def sign_head() -> SignedCheckpoint | None:
    """Sign the ledger head as it stands now. Without a key, log why and return None: an export
    still goes out, it just carries no new checkpoint."""
    try:
        key = private_key()
    except (SigningKeyMissing, OSError, ValueError) as exc:
        log.error("Ledger head not signed: %s", exc)
        return None
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None or head.seq == 0:
        return None
    broken = broken_checkpoint()
    if broken:  # signing now would bless a ledger rebuilt or cut behind the last signature
        log.error("Ledger head not signed: %s", broken[1])
        return None
    checkpoint = SignedCheckpoint(seq=head.seq, entry_hash=head.hash, key_id=key_id(),
                                  signed_at=timezone.now().replace(microsecond=0))
    checkpoint.signature = base64.b64encode(
        key.sign(canonical_json(payload(checkpoint)))).decode("ascii")
    with transaction.atomic():
        checkpoint.save()
    return checkpoint


def latest_checkpoint() -> SignedCheckpoint | None:
    return SignedCheckpoint.objects.order_by("-seq", "-signed_at", "-pk").first()


def broken_checkpoint() -> tuple[SignedCheckpoint, str] | None:
    """The latest checkpoint, and how, if the ledger no longer reaches or matches it: the
    tail was cut and the head moved back, or the chain was rebuilt behind it."""
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return None
    head = LedgerHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    if head_seq < checkpoint.seq:
        return checkpoint, (f"the ledger head is #{head_seq} but a checkpoint signed at "
                            f"{utc_iso(checkpoint.signed_at)} records #{checkpoint.seq}: "
                            f"entries after #{head_seq} were cut")
    entry_hash = (LedgerEntry.objects.filter(seq=checkpoint.seq)
                  .values_list("hash", flat=True).first())
    if entry_hash != checkpoint.entry_hash:
        return checkpoint, (f"entry #{checkpoint.seq} no longer has the hash signed at "
                            f"{utc_iso(checkpoint.signed_at)}: the chain was rebuilt")
    return None


def refuse_behind_broken_checkpoint(keys: list) -> None:
    """Catch-up must not re-append history rows behind a signed head: when the ledger no
    longer reaches or matches its latest checkpoint, the rows it misses are evidence of that,
    and appending them with new numbers and hashes would hide it."""
    broken = broken_checkpoint()
    if broken and keys:
        raise Conflict(f"The audit ledger does not match its signed checkpoint ({broken[1]}); "
                       f"{len(keys)} history rows were not appended. Verify the ledger and "
                       "investigate before anything is appended.")
