"""The named schemas of the API (Pydantic): what requests carry and what responses give.

Money is decimal yuan text (``"1234.56"``), dates ISO ``YYYY-MM-DD``, times
ISO 8601. The shapes are the ``*_json`` shapes of ``ledger.tasks`` (which the
command line's ``--json`` prints too); a response with a deep shape of its own
(a statement, a register, a trace) is named here and lets its fields through.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """A named shape whose fields are those of its task's ``*_json`` function."""

    model_config = ConfigDict(extra="allow")


class Problem(BaseModel):
    """RFC 9457 problem details: every error the service gives."""

    type: str = Field(description="urn:ledger:problem:<kind> (the refusal's class), or about:blank")
    title: str = Field(description="The HTTP status phrase")
    status: int
    detail: str = Field(description="The message the command line gives for the same refusal")
    document: Optional[str] = Field(None, description="The document refused, if any")
    field: Optional[str] = Field(None, description="The field at fault, if any")
    rule: Optional[str] = Field(None, description="The rule broken")


class LoginRequest(BaseModel):
    """A username and password."""

    username: str = Field(max_length=200)
    password: str = Field(max_length=2048)


class LoginResponse(BaseModel):
    """A bearer token for ``Authorization: Bearer …`` (shown once; the store keeps only its SHA-256)."""

    token: str
    token_type: str = "bearer"
    username: str
    expires_at: str


class GrantShown(BaseModel):
    """One role over one scope."""

    role: str
    scope: str
    scope_kind: str


class Me(BaseModel):
    """The logged-in user and their live grants."""

    username: str
    display_name: str
    grants: list[GrantShown]


class Document(Open):
    """A business document as docs/documents.md gives it (``id``, ``type``, ``date``, the type's fields).

    ``actor`` may be left out: it is the logged-in user; a different one is refused.
    """


class DocumentOutcome(BaseModel):
    """What happened to one document: ``posted``, ``duplicate`` or ``rejected`` (with the refusal)."""

    line: int
    id: str
    status: str
    postings: int
    error: Optional[str] = None
    field: Optional[str] = None
    rule: Optional[str] = None
    message: Optional[str] = None


class PostSummary(BaseModel):
    """Counts over an upload."""

    posted: int
    postings: int
    duplicates: int
    rejected: int
    dry_run: bool


class UploadResult(BaseModel):
    """An upload's summary and every line's outcome, in input order."""

    summary: PostSummary
    lines: list[DocumentOutcome]


class BalanceRow(BaseModel):
    """One account's line: debit and credit turnover, the signed balance and its side, yuan text."""

    account: str
    name: str
    tier: int
    debit: str
    credit: str
    balance: str
    side: str


class BookBalances(BaseModel):
    """One book's balances (``as_of``/``known_on`` when the query was dated)."""

    book: str
    as_of: Optional[str] = None
    known_on: Optional[str] = None
    rows: list[BalanceRow]


class TrialBalance(BaseModel):
    """A trial balance (试算平衡表): rows, the four totals, and whether it balances."""

    title: str
    rows: list[BalanceRow]
    debit_turnover_total: str
    credit_turnover_total: str
    debit_total: str
    credit_total: str
    balanced: bool


class Book(BaseModel):
    """A book: region, scheme, fiscal year, closed or not, how many events."""

    model_config = ConfigDict(extra="allow")
    region: str
    scheme: str
    year: int
    closed: bool
    events: int


class BookPage(BaseModel):
    """A page of books."""

    items: list[Book]
    limit: int
    offset: int
    total: int


class FiscalAccount(BaseModel):
    """One region's and fund's 财政专户: opening, receipts, payments, closing (yuan text)."""

    region: str
    scheme: str
    year: int
    opening: str
    receipts: str
    payments: str
    closing: str


class FiscalAccountPage(BaseModel):
    """A page of 财政专户 rows."""

    items: list[FiscalAccount]
    limit: int
    offset: int
    total: int


class Statement(Open):
    """A statement (会社保01表/02表) in its canonical machine form (``ledger.statements.render.to_json``)."""


class VoucherRegister(Open):
    """A book's voucher register (记账凭证) and the proof its numbers run 1–N (``ledger.vouchers.register_to_json``)."""


class AccountTrace(Open):
    """The posting lines behind an account's figure, with their totals (``ledger.tasks.tracing.trace_json``)."""


class Explanation(Open):
    """A posted document's entries and computation (``ledger.tasks.explaining.explain``), with its 制单/审核/记账 signatures."""


class VerifyReport(Open):
    """``verify``'s verdict, its counts and the findings of the books in the asked scope."""


class Verification(BaseModel):
    """One row of the store's verification log (``ledger verify --history``)."""

    verification_id: int = Field(description="The row's number, in the order verifications finished")
    verified_at: str = Field(description="When it finished, UTC ISO 8601")
    verified_by: str = Field(description="The service's user, or the operating-system user who ran ledger verify")
    channel: str = Field(description="cli, api or web")
    scope: str = Field(description="all (the command line), or the region whose findings were shown")
    agrees: bool = Field(description="No finding in the scope")
    findings: int = Field(description="Findings in the scope")
    store_findings: int = Field(description="Findings in the whole store (every verification replays every book)")
    first_finding: Optional[str] = Field(description="BOOK: message of the scope's first finding; null when none, or when it is a book outside yours")
    first_finding_book: Optional[str] = Field(description="The book that finding names; null as first_finding")
    position: int = Field(description="Highest notification id of the log the verification covered")
    chain_heads: int = Field(description="Books (hash chains) proven")
    events: int = Field(description="Book events replayed")


class VerificationPage(BaseModel):
    """A page of the verification log, newest first."""

    items: list[Verification]
    limit: int
    offset: int
    total: int = Field(description="Rows shown to you among the latest limit + offset")


class ProposalShown(BaseModel):
    """A proposal and what became of it (制单 who/when, 审核 who/when/why, 记账 when)."""

    proposal_id: str
    document_id: str
    document_type: str
    document: dict
    region: str
    regions: list[str]
    status: str
    proposed_by: str
    proposed_at: str
    decided_by: Optional[str] = None
    decided_at: Optional[str] = None
    reason: Optional[str] = None
    posted_at: Optional[str] = None


class ProposalPage(BaseModel):
    """A page of proposals, oldest first."""

    items: list[ProposalShown]
    limit: int
    offset: int


class Rejection(BaseModel):
    """Why a proposal is rejected (shown with the voucher)."""

    reason: str = Field(max_length=500)
