"""The whole verification: the hash chain (audit.verify), the signed checkpoints
(audit.signing) and the content (audit.content). Read-only; the callers record the run.

The chain alone cannot show a chain rebuilt consistently from an entry onward, or a tail cut
with the head moved back: the signed checkpoints do, since nobody with only database access can
sign. Content findings show a history row or a live row edited behind the ledger's back."""

from dataclasses import dataclass, field

from . import signing
from .content import Finding, content_findings
from .ledger import utc_iso
from .models import LedgerEntry, LedgerHead, SignedCheckpoint
from .verify import verify_ledger

CHECKPOINT_MODEL = SignedCheckpoint._meta.label_lower


@dataclass
class Verification:
    ok: bool = True
    checked: int = 0
    head_seq: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    unledgered: int = 0
    findings: list[Finding] = field(default_factory=list)
    checkpoint: SignedCheckpoint | None = None  # the latest one that still matches
    last_seq: int = 0  # the chain's last entry found good, and its hash (a verified checkpoint)
    last_hash: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "head_seq": self.head_seq,
                "first_bad_seq": self.first_bad_seq, "problem": self.problem,
                "unledgered": self.unledgered,
                "findings": [{"seq": f.seq, "model": f.model, "object_pk": f.object_pk,
                              "field": f.field, "problem": f.problem} for f in self.findings],
                "checkpoint": signing.as_document(self.checkpoint) if self.checkpoint else None}


def _checkpoint_finding(checkpoint: SignedCheckpoint, seq: int | None, problem: str) -> Finding:
    return Finding(seq, CHECKPOINT_MODEL, str(checkpoint.pk), "", problem)


def checkpoint_findings() -> tuple[list[Finding], SignedCheckpoint | None]:
    """Each stored checkpoint must carry a good signature, lie within the ledger, and match the
    entry it names. Returns the findings and the latest checkpoint that holds."""
    checkpoints = list(SignedCheckpoint.objects.order_by("seq", "signed_at", "pk"))
    head = LedgerHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    hashes = dict(LedgerEntry.objects.filter(seq__in={c.seq for c in checkpoints})
                  .values_list("seq", "hash"))
    found, good = [], None
    configured = signing.is_configured()
    for checkpoint in checkpoints:
        signed = f"the checkpoint signed at {utc_iso(checkpoint.signed_at)}"
        if configured and not signing.signature_ok(checkpoint):
            found.append(_checkpoint_finding(checkpoint, checkpoint.seq, f"{signed} does not "
                         "verify with the portal's public key (forged, altered, or made with "
                         "another key)"))
        elif checkpoint.seq > head_seq:
            found.append(_checkpoint_finding(checkpoint, head_seq + 1, f"{signed} records "
                         f"entry #{checkpoint.seq}, but the ledger ends at #{head_seq}: the "
                         "tail was cut and the head moved back"))
        elif hashes.get(checkpoint.seq) != checkpoint.entry_hash:
            after = f" after #{good.seq}" if good else ""
            found.append(_checkpoint_finding(checkpoint, checkpoint.seq, f"entry "
                         f"#{checkpoint.seq} is not the one {signed} names: the chain was "
                         f"rebuilt{after}"))
        else:
            good = checkpoint
    return found, good


def verify_all(*, since=None) -> Verification:
    """The chain (from the start, or incrementally from a verified checkpoint), the signed
    checkpoints, and the content of every history row and live row."""
    chain = verify_ledger(since=since)
    checkpoints, good = checkpoint_findings()
    findings = checkpoints + content_findings()
    result = Verification(ok=chain.ok and not findings, checked=chain.checked,
                          head_seq=chain.head_seq, unledgered=chain.unledgered,
                          findings=findings, checkpoint=good, last_seq=chain.last_seq,
                          last_hash=chain.last_hash)
    if result.ok:
        return result
    candidates = [(f.seq, str(f)) for f in findings if f.seq is not None]
    if not chain.ok and chain.first_bad_seq is not None:  # the chain's first
        candidates.insert(0, (chain.first_bad_seq, chain.problem))
    if candidates:
        result.first_bad_seq, result.problem = min(candidates, key=lambda c: c[0])
    else:
        result.problem = str(findings[0])
    return result
