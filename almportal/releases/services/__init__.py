"""Every change to releases, their readiness checklists, evidence, evaluations and sign-offs,
and the release gate. Pages, API, admin, tasks and the receivers call these functions; nothing
else writes releases rows, and a release moves only through common.release_set_state."""

from .checklist import (
    ALLOWED_TYPES_TEXT,
    EVIDENCE_TYPES,
    checklist_item_assign,
    checklist_item_set_status,
    checklist_sync,
    evidence_add,
    inspect_upload,
    item_states,
)
from .checklist_bulk import BULK_ACTIONS, BulkRefused, checklist_bulk
from .common import (
    SUBMISSION_SIGNOFF,
    may_manage,
    may_record_runs,
    policy_for,
    release_set_state,
    release_states,
)
from .drafting import (
    carry_over,
    release_create,
    release_on_submitted,
    release_submit,
    release_update,
)
from .evaluations import clean_metrics, evaluation_run_record, evaluation_suite_create
from .gate import (
    Condition,
    Gate,
    judge_metrics,
    pending_releases,
    production_baseline,
    quorum_counts,
    release_gate,
    release_reopen,
    release_standing,
    release_void,
    releases_check_assessment,
    releases_on_component_added,
    releases_uphold,
    valid_approvals,
)
from .signoffs import signoff_record

__all__ = [
    "ALLOWED_TYPES_TEXT", "BULK_ACTIONS", "EVIDENCE_TYPES", "SUBMISSION_SIGNOFF", "BulkRefused",
    "Condition", "Gate", "checklist_bulk",
    "carry_over", "checklist_item_assign", "checklist_item_set_status", "checklist_sync",
    "clean_metrics", "evaluation_run_record", "evaluation_suite_create", "evidence_add",
    "inspect_upload", "item_states", "judge_metrics", "may_manage", "may_record_runs",
    "pending_releases", "policy_for", "production_baseline", "quorum_counts",
    "release_create", "release_gate", "release_on_submitted", "release_reopen",
    "release_set_state", "release_standing", "release_states", "release_submit",
    "release_update", "release_void", "releases_check_assessment",
    "releases_on_component_added", "releases_uphold", "signoff_record", "valid_approvals",
]
