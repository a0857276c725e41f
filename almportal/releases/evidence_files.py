"""Evidence files as the pages and the API serve them: found for the user (or 404) and sent
as an attachment that no browser renders in place."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from ..accounts.models import User
from . import selectors
from .choices import EvidenceKind
from .models import Evidence
from .services import EVIDENCE_TYPES

FALLBACK_TYPE = "application/octet-stream"
# What a download can answer: the types uploads are accepted as, or the fallback.
MEDIA_TYPES = sorted({*EVIDENCE_TYPES.values(), FALLBACK_TYPE})


def evidence_file_for(user: User, pk: int) -> Evidence:
    """File evidence the user may see, with its file stored; 404 otherwise."""
    evidence = get_object_or_404(selectors.evidence_visible_to(user), pk=pk,
                                 kind=EvidenceKind.FILE)
    if not evidence.file:
        raise Http404("No file.")
    return evidence


def evidence_file_response(evidence: Evidence) -> FileResponse:
    response = FileResponse(evidence.file.open("rb"), as_attachment=True,
                            filename=evidence.original_name or "evidence",
                            content_type=evidence.content_type or FALLBACK_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
