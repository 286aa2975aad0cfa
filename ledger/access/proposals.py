"""制单 → 审核 → 记账: documents entered as proposals, approved by another user, then posted.

An accountant enters (``propose``) a document of a type that needs 审核 —
by default a manual journal, a reversal, a period reopening or a year close
(``DEFAULT_PROPOSAL_TYPES``). It is checked as posting would check it, and
kept, unchanged, with who entered it and when. A different user holding
``approve`` over its region approves it, and it is then posted through the
ledger's one posting path (``Ledger.post``), or rejects it with a reason.
Nobody approves or rejects their own entry (会计基础工作规范: 制单 and 审核
by different people); the one who entered it may withdraw it while it waits.

The posted events carry the proposer as their ``actor``: the actor on an
event is always who entered the document (制单), posted directly or not.
The approval (审核: who, when) is recorded here, keyed by the document id,
and ``signatures`` gives a voucher its 制单, 审核 and 记账 from both.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ledger.access.errors import ProposalError, ProposalRequiredError, SelfApprovalError
from ledger.access.grants import Permissions
from ledger.access.roles import Action, province_of
from ledger.access.tables import proposals, timestamp
from ledger import documents
from ledger.documents import DOCUMENT_TYPES, Document, read_document
from ledger.errors import LedgerError, ReversalError
from ledger.regions import RegionCode, municipality_of

if TYPE_CHECKING:
    from ledger.store import Ledger

DEFAULT_PROPOSAL_TYPES = frozenset({"journal", "reversal", "period_reopen", "year_close"})
PROPOSAL_TYPES_VARIABLE = "LEDGER_PROPOSAL_TYPES"
PENDING, APPROVED, POSTED, REJECTED, WITHDRAWN, REFUSED = "pending", "approved", "posted", "rejected", "withdrawn", "refused"
STATUSES = (PENDING, APPROVED, POSTED, REJECTED, WITHDRAWN, REFUSED)
MAXIMUM_REASON_LENGTH = 500
DEFAULT_LIST_LIMIT = 100
MAXIMUM_LIST_LIMIT = 1000


@dataclass(frozen=True)
class ApprovalRules:
    """Which document types are entered as proposals; every other type posts directly.

    Attributes:
      proposal_types: document types (``ledger.documents.DOCUMENT_TYPES``) that need 审核.
    """

    proposal_types: frozenset[str] = DEFAULT_PROPOSAL_TYPES

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "ApprovalRules":
        """The rules named by ``LEDGER_PROPOSAL_TYPES`` (comma-separated types), or the default when it is unset.

        Raises ``ProposalError`` naming the variable for a type the ledger does not have.
        """
        text = environ.get(PROPOSAL_TYPES_VARIABLE)
        if text is None:
            return cls()
        types = frozenset(name.strip() for name in text.split(",") if name.strip())
        unknown = sorted(types - set(DOCUMENT_TYPES))
        if unknown:
            raise ProposalError(
                f"{', '.join(unknown)} {'is not a document type' if len(unknown) == 1 else 'are not document types'}; "
                f"the types are {', '.join(DOCUMENT_TYPES)}",
                field=PROPOSAL_TYPES_VARIABLE,
            )
        return cls(types)

    def requires_proposal(self, document_type: str) -> bool:
        return document_type in self.proposal_types


DEFAULT_RULES = ApprovalRules()


@dataclass(frozen=True)
class Proposal:
    """One document entered for approval, and what became of it.

    Attributes:
      proposal_id: its own id (32 hex digits); document_id, document_type: the document's.
      document: the document as entered (what is posted on approval).
      region: the region it is entered for (a reversal's: that of the document reversed).
      regions: every region whose books it writes, ``region`` first (see ``regions_written``).
      status: one of ``STATUSES``.
      proposed_by, proposed_at: 制单, who and when (UTC ISO).
      decided_by, decided_at: 审核 (or who withdrew it), who and when; empty while pending.
      reason: why it was rejected or withdrawn, or the ledger's refusal when it could not be posted.
      posted_at: 记账, when it was posted.
    """

    proposal_id: str
    document_id: str
    document_type: str
    document: dict[str, Any]
    region: RegionCode
    regions: tuple[RegionCode, ...]
    status: str
    proposed_by: str
    proposed_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None
    posted_at: str | None = None


def _proposal(row: Any) -> Proposal:
    m = row._mapping
    return Proposal(
        m["proposal_id"], m["document_id"], m["document_type"], json.loads(m["document"]), m["region"],
        tuple(json.loads(m["regions"])), m["status"],
        m["proposed_by"], m["proposed_at"], m["decided_by"], m["decided_at"], m["reason"], m["posted_at"],
    )


# ---------------------------------------------------------------- regions


def regions_written(ledger: "Ledger", document: Document) -> list[RegionCode]:
    """Every region whose books ``document`` writes, the region it is entered for first.

    A document is entered for its ``region`` and writes the regions
    ``ledger.documents.regions_written`` names (adjustment books, the other
    district of cross-district care). A
    reversal names no region: it writes the books the document it reverses
    wrote, and is entered for the district among them (else the first).
    Raises ``ReversalError`` when there is no posted document to reverse.
    """
    if document.type != "reversal":
        return documents.regions_written(document)
    reverses = document["reverses"]
    original = ledger.app.registered([reverses]).get(reverses)
    if original is None:
        raise ReversalError(f"there is no posted document {reverses} to reverse", document_id=document.id, field="reverses")
    regions = list(dict.fromkeys(ledger.app.repository.get(UUID(str(book_hex)), version=1).region for book_hex, _ in original.entries))
    districts = [region for region in regions if municipality_of(region) != region]
    first = (districts or regions)[0]
    return [first] + [region for region in regions if region != first]


def _require_everywhere(permissions: Permissions, action: Action, regions: Sequence[RegionCode], document_id: str) -> None:
    for region in regions:
        permissions.require(action, region, document_id=document_id)


# ---------------------------------------------------------------- direct posting


def authorize_post(ledger: "Ledger", permissions: Permissions, document: Document, rules: ApprovalRules = DEFAULT_RULES) -> None:
    """Allow posting ``document`` directly, or refuse.

    Raises ``ProposalRequiredError`` for a type ``rules`` send through
    审核, and ``PermissionDeniedError`` unless the user may
    ``close_period`` (a month close) or ``post_document`` (anything else)
    in every region whose books the document writes (``regions_written``).
    """
    if rules.requires_proposal(document.type):
        raise ProposalRequiredError(
            f"a {document.type.replace('_', ' ')} is entered as a proposal and posted when a checker (审核) approves it",
            document_id=document.id,
            field="type",
        )
    action = Action.CLOSE_PERIOD if document.type == "month_close" else Action.POST_DOCUMENT
    _require_everywhere(permissions, action, regions_written(ledger, document), document.id)


# ---------------------------------------------------------------- 制单


def propose(ledger: "Ledger", raw: Mapping[str, Any], *, by: str, now: datetime | None = None) -> Proposal:
    """Enter a document for approval, as user ``by`` (制单).

    ``raw`` is the document as a JSON object. Its ``actor`` is ``by``; a raw
    ``actor`` naming anyone else is refused (the actor is who logged in).
    The document is read and checked as posting would check it, so a
    proposal that could not be posted today is refused now. Raises
    ``DocumentFormatError`` and the posting rules' errors, ``ProposalError``
    for an actor not ``by``, a document already posted or already waiting,
    and ``PermissionDeniedError`` unless ``by`` may ``propose`` in every region it writes.
    """
    if raw.get("actor") not in (None, "", by):
        raise ProposalError(
            f"the document names actor {raw['actor']!s:.64}, but it is entered by {by}; the actor is who enters it",
            document_id=str(raw.get("id", ""))[:64] or None,
            field="actor",
        )
    document = read_document({**raw, "actor": by}, by)
    regions = regions_written(ledger, document)
    region = regions[0]
    _require_everywhere(Permissions.load(ledger.engine, by), Action.PROPOSE, regions, document.id)
    ((outcome, _events),) = ledger.app.dry_run([document])
    if outcome.error is not None:
        raise outcome.error
    if outcome.status != "posted":
        raise ProposalError("was posted already; a posted document is never entered again", document_id=document.id, field="id")
    row = {
        "proposal_id": uuid.uuid4().hex,
        "document_id": document.id,
        "document_type": document.type,
        "document": json.dumps(_as_entered(raw), ensure_ascii=False, sort_keys=True),
        "region": region,
        "municipality": municipality_of(region),
        "province": province_of(region),
        "regions": json.dumps(regions),
        "status": PENDING,
        "proposed_by": by,
        "proposed_at": timestamp(now),
    }
    try:
        with ledger.engine.begin() as connection:
            connection.execute(insert(proposals), row)
    except IntegrityError:
        raise ProposalError(
            "is already waiting for approval, or approved; withdraw or reject it before entering it again",
            document_id=document.id,
            field="id",
        ) from None
    return get_proposal(ledger.engine, row["proposal_id"])


def _as_entered(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The document's fields as entered (amounts as the yuan text given), without the actor: read again and posted on approval."""
    return {key: value for key, value in raw.items() if key != "actor"}


# ---------------------------------------------------------------- 审核 and 记账


def get_proposal(engine: Engine, proposal_id: str) -> Proposal:
    """One proposal by its id; ``ProposalError`` if there is none."""
    with engine.connect() as connection:
        row = connection.execute(select(proposals).where(proposals.c.proposal_id == str(proposal_id)[:32])).first()
    if row is None:
        raise ProposalError(f"there is no proposal {proposal_id!s:.40}", field="proposal_id")
    return _proposal(row)


def _pending_for_decision(engine: Engine, proposal_id: str, by: str) -> Proposal:
    proposal = get_proposal(engine, proposal_id)
    if proposal.status != PENDING:
        raise ProposalError(
            f"proposal {proposal.proposal_id} is {proposal.status} (by {proposal.decided_by} at {proposal.decided_at}); "
            "only a waiting proposal is approved or rejected",
            document_id=proposal.document_id,
            field="proposal_id",
        )
    if proposal.proposed_by == by:
        raise SelfApprovalError(
            f"{by} entered this document (制单) and so may not approve or reject it (审核); another checker must",
            document_id=proposal.document_id,
        )
    _require_everywhere(Permissions.load(engine, by), Action.APPROVE, proposal.regions, proposal.document_id)
    return proposal


def _decide(engine: Engine, proposal: Proposal, status: str, by: str, reason: str | None, now: datetime | None) -> None:
    """Move a waiting proposal to ``status``; refuse if another user decided it meanwhile."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(proposals)
            .where(proposals.c.proposal_id == proposal.proposal_id, proposals.c.status == PENDING)
            .values(status=status, decided_by=by, decided_at=timestamp(now), reason=reason)
        )
    if changed.rowcount != 1:
        raise ProposalError(
            f"proposal {proposal.proposal_id} was decided by someone else meanwhile", document_id=proposal.document_id, field="proposal_id"
        )


def approve(ledger: "Ledger", proposal_id: str, *, by: str, now: datetime | None = None) -> Proposal:
    """Approve a waiting proposal as user ``by`` (审核) and post it (记账), with the proposer as its actor.

    Raises ``SelfApprovalError`` when ``by`` entered it,
    ``PermissionDeniedError`` unless ``by`` may ``approve`` in its region,
    ``ProposalError`` when it is not waiting (or another checker decided it
    first), and the ledger's own refusal when the books no longer take it
    (a period closed meanwhile, say): then the proposal is marked
    ``refused`` with that reason and nothing is posted.
    """
    proposal = _pending_for_decision(ledger.engine, proposal_id, by)
    _decide(ledger.engine, proposal, APPROVED, by, None, now)
    return post_approved(ledger, proposal.proposal_id, now=now)


def post_approved(ledger: "Ledger", proposal_id: str, *, now: datetime | None = None) -> Proposal:
    """Post an approved proposal and mark it ``posted`` (or ``refused`` with the ledger's reason).

    ``approve`` calls it; called again for a proposal left ``approved`` (the
    process stopped between approval and posting) it finishes the work: the
    document id makes a second posting a duplicate, which counts as posted.
    """
    proposal = get_proposal(ledger.engine, proposal_id)
    if proposal.status != APPROVED:
        raise ProposalError(f"proposal {proposal.proposal_id} is {proposal.status}, not approved", document_id=proposal.document_id, field="proposal_id")
    outcome = ledger.post_one(read_document({**proposal.document, "actor": proposal.proposed_by}, proposal.proposed_by))
    finished = {"status": POSTED, "posted_at": timestamp(now)}
    if outcome.error is not None:
        finished = {"status": REFUSED, "reason": str(outcome.error)[:MAXIMUM_REASON_LENGTH * 2]}
    with ledger.engine.begin() as connection:
        connection.execute(
            update(proposals).where(proposals.c.proposal_id == proposal.proposal_id, proposals.c.status == APPROVED).values(**finished)
        )
    if outcome.error is not None:
        raise outcome.error
    return get_proposal(ledger.engine, proposal.proposal_id)


def _reason(reason: str, proposal: Proposal) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAXIMUM_REASON_LENGTH:
        raise ProposalError(f"a reason of 1 to {MAXIMUM_REASON_LENGTH} characters is required", document_id=proposal.document_id, field="reason")
    return reason.strip()


def reject(engine: Engine, proposal_id: str, reason: str, *, by: str, now: datetime | None = None) -> Proposal:
    """Reject a waiting proposal as user ``by`` (审核), saying why; nothing is posted.

    Raises ``ProposalError`` for a missing reason or a proposal not waiting,
    ``SelfApprovalError`` when ``by`` entered it, and
    ``PermissionDeniedError`` unless ``by`` may ``approve`` in its region.
    """
    proposal = _pending_for_decision(engine, proposal_id, by)
    _decide(engine, proposal, REJECTED, by, _reason(reason, proposal), now)
    return get_proposal(engine, proposal.proposal_id)


def withdraw(engine: Engine, proposal_id: str, reason: str, *, by: str, now: datetime | None = None) -> Proposal:
    """Withdraw one's own waiting proposal, saying why. ``ProposalError`` if it is not ``by``'s or not waiting."""
    proposal = get_proposal(engine, proposal_id)
    if proposal.proposed_by != by or proposal.status != PENDING:
        raise ProposalError(
            f"only {proposal.proposed_by}, who entered it, may withdraw proposal {proposal.proposal_id}, and only while it waits",
            document_id=proposal.document_id,
            field="proposal_id",
        )
    _decide(engine, proposal, WITHDRAWN, by, _reason(reason, proposal), now)
    return get_proposal(engine, proposal.proposal_id)


# ---------------------------------------------------------------- reading


def list_proposals(
    engine: Engine,
    *,
    status: str | None = None,
    scope: RegionCode | None = None,
    proposed_by: str | None = None,
    limit: int = DEFAULT_LIST_LIMIT,
    offset: int = 0,
) -> list[Proposal]:
    """Proposals, oldest first, filtered by status, by a scope covering their region, and by who entered them.

    ``limit`` is 1 to ``MAXIMUM_LIST_LIMIT``; ``offset`` pages on. Raises
    ``ProposalError`` for an unknown status or a limit out of range.
    """
    if status is not None and status not in STATUSES:
        raise ProposalError(f"there is no status {status!s:.20}; the statuses are {', '.join(STATUSES)}", field="status")
    if not 1 <= limit <= MAXIMUM_LIST_LIMIT or offset < 0:
        raise ProposalError(f"the limit must be 1 to {MAXIMUM_LIST_LIMIT} and the offset not negative", field="limit")
    t = proposals
    query = select(t).order_by(t.c.proposed_at, t.c.proposal_id).limit(limit).offset(offset)
    if status is not None:
        query = query.where(t.c.status == status)
    if scope is not None:
        query = query.where(or_(t.c.region == scope, t.c.municipality == scope, t.c.province == scope))
    if proposed_by is not None:
        query = query.where(t.c.proposed_by == proposed_by)
    with engine.connect() as connection:
        return [_proposal(row) for row in connection.execute(query)]


def proposals_for_document(engine: Engine, document_id: str) -> list[Proposal]:
    """Every proposal ever entered under ``document_id``, oldest first (a rejected one may have been entered again)."""
    query = select(proposals).where(proposals.c.document_id == document_id).order_by(proposals.c.proposed_at).limit(MAXIMUM_LIST_LIMIT)
    with engine.connect() as connection:
        return [_proposal(row) for row in connection.execute(query)]


@dataclass(frozen=True)
class Signatures:
    """The people on a voucher (会计基础工作规范: 制单, 审核 and 记账 named on every voucher).

    Attributes:
      document_id: the document.
      prepared_by: 制单, who entered it (the events' actor).
      checked_by, checked_at: 审核, who approved it and when; empty for a document posted directly.
      posted_at: 记账, when its events were recorded (UTC ISO).
      proposal_id: the proposal it was posted from, if any.
    """

    document_id: str
    prepared_by: str
    checked_by: str | None
    checked_at: str | None
    posted_at: str
    proposal_id: str | None = None


def signatures(ledger: "Ledger", document_id: str) -> Signatures:
    """制单, 审核 and 记账 of a posted document: from its first event, and its approved proposal when it had one.

    Raises ``LedgerError`` when no such document has been posted.
    """
    record = ledger.app.registered([document_id]).get(document_id)
    if record is None:
        raise LedgerError("no such document has been posted", document_id=document_id)
    book_hex, version = record.entries[0]
    (event,) = ledger.app.events.get(UUID(str(book_hex)), gt=int(version) - 1, lte=int(version))
    posted = [p for p in proposals_for_document(ledger.engine, document_id) if p.status == POSTED]
    proposal = posted[-1] if posted else None
    return Signatures(
        document_id,
        event.actor,
        proposal.decided_by if proposal else None,
        proposal.decided_at if proposal else None,
        event.timestamp.isoformat(),
        proposal.proposal_id if proposal else None,
    )


__all__: Sequence[str] = (
    "ApprovalRules", "DEFAULT_RULES", "Proposal", "Signatures", "approve", "authorize_post", "regions_written", "get_proposal",
    "list_proposals", "post_approved", "proposals_for_document", "propose", "reject", "signatures", "withdraw",
)
