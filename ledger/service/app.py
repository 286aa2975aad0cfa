"""``create_app(url)``: the FastAPI app over one store. Each endpoint parses, requires, calls one task and returns its JSON.

Authentication: ``POST /api/login`` gives a bearer token (a session of
``ledger.access.tokens``, counted by ``ledger.access.throttle``); every other
endpoint takes ``Authorization: Bearer …`` (a session or a named integration
token). The actor of anything posted or proposed is the authenticated user,
never a field of the request. Permissions are those of docs/service.md,
checked over the region an endpoint reads or writes.

A ``Ledger`` (the eventsourcing application and its projector) is never
shared by two threads at once: the app keeps a pool of them and a request
works on the books with one taken from it (``books()``), waiting when all
are taken. On PostgreSQL the pool holds ``DEFAULT_LEDGERS["postgresql"]``
ledgers, so that many requests wait on the database at once; their posts
race like separate processes' and are settled by the books' versions
(docs/reliability.md). On SQLite, which takes one writer at a time and
answers a read in under a millisecond, one ledger measured as fast
(docs/performance.md, "Service under load").
"""



import io
import json
import os
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, Optional

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.access import grants, proposals, tokens, users
from ledger.access.errors import AuthenticationError, ProposalError
from ledger.access.grants import Permissions
from ledger.access.roles import Action, roles_allowing
from ledger.application import REJECTED
from ledger.documents import read_document
from ledger.errors import LedgerError, database_reason
from ledger.reader import FORMATS, Record, read_records
from ledger.service import models, pages
from ledger.service.monitoring import Monitor
from ledger.service.problems import (
    ActorMismatchError, BodyTooLargeError, DocumentNotFoundError, ProposalNotFoundError, from_error, problem, status_of,
)
from ledger.statements.render import to_csv, to_json, write_xlsx
from ledger.store import Ledger
from ledger.tasks import balances, explaining, reading, statements, tracing, verifying, vouchers
from ledger.tasks.reading import read_at_position
from ledger.tasks.arguments import ArgumentError
from ledger.tasks.posting import PostSummary, line_json, post_records

MAXIMUM_BODY_BYTES = 1 << 20  # a JSON request: one document, a login, a reason
MAXIMUM_UPLOAD_BYTES = 32 << 20  # an upload of JSON Lines or CSV
UPLOAD_PATH = "/api/documents/upload"
DEFAULT_PAGE = 100
MAXIMUM_PAGE = 1000
PROBLEMS = {status: {"model": models.Problem, "content": {"application/problem+json": {}}} for status in (401, 403, 404, 409, 413, 422, 429)}

Limit = Annotated[int, Query(ge=1, le=MAXIMUM_PAGE, description="At most this many items")]
Offset = Annotated[int, Query(ge=0, description="Skip this many items")]
# Ledgers per process by database dialect, and the variable that overrides it (``ledger serve --ledgers``).
DEFAULT_LEDGERS = {"postgresql": 4, "sqlite": 1}
LEDGERS_VARIABLE = "LEDGER_SERVICE_LEDGERS"
MAXIMUM_LEDGERS = 16
Region = Annotated[str, Query(pattern=r"^\d{6}$", description="Six-digit region code (GB/T 2260)")]
WaitFor = Annotated[Optional[str], Query(max_length=128, description="A document id or a log position the read must include: wait for it")]
# Every read of the books answers with the log position its figures reflect.
POSITION_HEADER = "X-Ledger-Position"


@dataclass(frozen=True)
class ServiceSettings:
    """How the service projects and where it reads (docs/operations.md).

    Attributes:
      follower: True when a ``ledger project --follow`` process keeps the projections (``LEDGER_FOLLOWER=yes``).
      read_url: the store reads go to (``LEDGER_READ_DB``), e.g. a hot standby; None reads the primary.
      wait_seconds: how long a read with ``wait_for`` waits (``LEDGER_READ_WAIT_SECONDS``, default 10).
    """

    follower: bool = False
    read_url: str | None = None
    wait_seconds: float = 10.0

    @classmethod
    def from_environment(cls, follower: bool | None = None, read_url: str | None = None) -> "ServiceSettings":
        """The settings given, else from the environment; ``ArgumentError`` for a value that is not understood."""
        if follower is None:
            flag = os.environ.get("LEDGER_FOLLOWER", "no").strip().lower()
            if flag not in ("yes", "no", "true", "false", "1", "0", ""):
                raise ArgumentError(f"LEDGER_FOLLOWER must be yes or no, not {flag!r}")
            follower = flag in ("yes", "true", "1")
        wait = os.environ.get("LEDGER_READ_WAIT_SECONDS", "10")
        try:
            wait_seconds = float(wait)
        except ValueError:
            raise ArgumentError(f"LEDGER_READ_WAIT_SECONDS must be a number of seconds, not {wait!r}") from None
        return cls(follower, read_url or os.environ.get("LEDGER_READ_DB") or None, wait_seconds)


class _Limited:
    """ASGI middleware: refuse a body over its path's limit with 413, by ``Content-Length`` or as it streams in."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAXIMUM_UPLOAD_BYTES if scope["path"] == UPLOAD_PATH else MAXIMUM_BODY_BYTES
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError(f"the request body is over {limit:,} bytes; split it")
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> Any:
    return from_error(BodyTooLargeError(f"the request body is over {limit:,} bytes; split it"))


def create_app(url: str | None = None, ledgers: int | None = None, follower: bool | None = None, read_url: str | None = None) -> FastAPI:
    """The API on the store at ``url`` (``sqlite:///…`` or ``postgresql+psycopg2://…``; default ./ledger.db).

    ``ledgers``: how many requests work on the books at once in this process
    (each with a ``Ledger`` of its own); default ``LEDGER_SERVICE_LEDGERS``,
    else ``DEFAULT_LEDGERS`` for the store's dialect. ``follower`` True posts
    without projecting: a ``ledger project --follow`` process keeps the
    projections, and reads show its position (default: ``LEDGER_FOLLOWER``,
    else False, the projections kept in process). ``read_url`` (default
    ``LEDGER_READ_DB``) sends the reads of balances, trial balances,
    statements, traces, books and the fiscal account to another store, e.g. a
    PostgreSQL hot standby (docs/operations.md), through as many read-only
    ledgers as there are ledgers. Every such read answers with the
    ``X-Ledger-Position`` header: the log position its figures reflect.
    Opens the stores (creating the primary's tables) now; the app closes them
    on shutdown. ``ArgumentError`` for a count outside 1..``MAXIMUM_LEDGERS``
    or a setting that is not understood.
    """
    settings = ServiceSettings.from_environment(follower, read_url)
    chosen = ledgers or _ledgers_from_environment()
    if chosen is not None and not 1 <= chosen <= MAXIMUM_LEDGERS:
        raise ArgumentError(f"{chosen} ledgers per process: choose 1 to {MAXIMUM_LEDGERS} ({LEDGERS_VARIABLE}, ledger serve --ledgers)")
    ledger = Ledger(url, project=not settings.follower)
    count = chosen or DEFAULT_LEDGERS.get(ledger.engine.dialect.name, 1)
    opened_ledgers = [ledger] + [Ledger(url, project=not settings.follower) for _ in range(count - 1)]
    pool: queue.Queue[Ledger] = queue.Queue()
    for each in opened_ledgers:
        pool.put(each)
    opened_readers = [Ledger(settings.read_url, read_only=True) for _ in range(count)] if settings.read_url else []
    reader_pool: queue.Queue[Ledger] = queue.Queue()
    for each in opened_readers:
        reader_pool.put(each)
    rules = proposals.ApprovalRules.from_environment()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        close()

    def close() -> None:
        for each in [*opened_ledgers, *opened_readers]:
            each.close()

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # FastAPI's interactive pages load their scripts from a CDN; the service serves nothing from one
        redoc_url=None,
        title="ledger",
        version="0.1.0",
        summary="An event-sourced fund ledger for China's public medical-insurance funds (docs/service.md).",
        responses=PROBLEMS,  # type: ignore[arg-type]
    )
    app.state.ledger = ledger  # for what needs only the store's engine (users, tokens, grants, proposals)
    app.state.ledgers = count
    app.state.settings = settings  # what ``ledger serve --workers`` hands to each worker (ledger.service.serving)
    app.state.close = close
    app.add_middleware(_Limited)

    @contextmanager
    def books() -> Iterator[Ledger]:
        """A ledger of the pool for this request alone; back in the pool when the request is done with the books."""
        opened = pool.get()
        try:
            yield opened
        finally:
            pool.put(opened)

    @contextmanager
    def readers() -> Iterator[Ledger]:
        """A ledger for this request's reads: a read-only one on the read store if there is one, else one of the pool."""
        if not opened_readers:
            with books() as opened:
                yield opened
            return
        opened = reader_pool.get()
        try:
            yield opened
        finally:
            reader_pool.put(opened)

    def read(response: Response, wait_for: Optional[str], work: Callable[[Ledger], Any]) -> Any:
        """Run a read on the store reads go to, after waiting for ``wait_for``; tell its position in the header."""
        wanted = wanted_position(wait_for) if wait_for else None
        with readers() as opened:
            if wanted is not None:
                reading.wait_for_position(opened, wanted[0], settings.wait_seconds, wanted[1])
            result, position = read_at_position(opened, lambda: work(opened))
        if isinstance(result, Response):
            result.headers[POSITION_HEADER] = str(position)
        response.headers[POSITION_HEADER] = str(position)
        return result

    def wanted_position(wanted: str) -> tuple[int, str]:
        """The log position a read must reach: given, or a document's (looked up on the primary); and how to name it."""
        if wanted.isdigit():
            return int(wanted), f"position {wanted}"
        with books() as opened:
            return reading.document_position(opened, wanted), f"document {wanted}"

    monitor = Monitor(ledger, opened_readers[0] if opened_readers else ledger, "follower" if settings.follower else "inline")
    app.include_router(monitor.router())

    # ------------------------------------------------------------ errors

    @app.exception_handler(LedgerError)
    async def _refused(request: Request, error: LedgerError) -> Response:
        return from_error(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
        field = ".".join(where) or None
        detail = f"field '{field}': {first.get('msg', 'is not valid')} [request arguments]" if field else f"the request body: {first.get('msg', 'is not valid')} [request arguments]"
        return problem(422, detail, type_name="argument", field=field, rule="request arguments")

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, error: DBAPIError) -> Response:
        return problem(503, f"the database failed: {database_reason(error)}. Whatever was saved before "
                       "stays saved whole; send the request again when the database answers (a document sent again is a "
                       "duplicate, never posted twice)", type_name="database-failed", rule="database", headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        return problem(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    # ------------------------------------------------------------ who is asking

    def principal(authorization: Annotated[Optional[str], Header(description="Bearer ldg_…")] = None) -> tokens.Principal:
        scheme, _, secret = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError("log in first: send Authorization: Bearer <token> (POST /api/login gives one)", field="Authorization")
        return tokens.resolve(ledger.engine, secret.strip())

    def permissions(who: Annotated[tokens.Principal, Depends(principal)]) -> Permissions:
        return Permissions.load(ledger.engine, who.username)

    User = Annotated[Permissions, Depends(permissions)]

    # ------------------------------------------------------------ login

    @app.post("/api/login", response_model=models.LoginResponse, tags=["auth"])
    def login(body: models.LoginRequest, request: Request) -> dict:
        """A username and password for a bearer token (a session of 8 hours). Failures are counted: 429 past the limit."""
        address = request.client.host if request.client else "unknown"
        user = users.authenticate(ledger.engine, body.username, body.password, address)
        secret, info = tokens.create_session(ledger.engine, user.username)
        return {"token": secret, "token_type": "bearer", "username": user.username, "expires_at": info.expires_at}

    @app.post("/api/logout", status_code=204, tags=["auth"])
    def logout(who: Annotated[tokens.Principal, Depends(principal)],
               authorization: Annotated[Optional[str], Header()] = None) -> Response:
        """End the session or token this request was made with."""
        tokens.revoke_secret(ledger.engine, (authorization or "").partition(" ")[2].strip())
        return Response(status_code=204)

    @app.get("/api/me", response_model=models.Me, tags=["auth"])
    def me(user: User) -> dict:
        """Who is logged in, and their live grants."""
        shown = users.get_user(ledger.engine, user.username)
        return {"username": shown.username, "display_name": shown.display_name,
                "grants": [{"role": g.role.value, "scope": g.scope, "scope_kind": g.scope_kind}
                           for g in grants.list_grants(ledger.engine, user.username)]}

    # ------------------------------------------------------------ reading the books

    @app.get("/api/books", response_model=models.BookPage, tags=["books"])
    def list_books(user: User, response: Response, region: Optional[str] = None, year: Optional[int] = None,
                   limit: Limit = DEFAULT_PAGE, offset: Offset = 0, wait_for: WaitFor = None) -> dict:
        """The books the user may read the balances of (a district, or a municipality with its districts)."""
        if region:
            user.require(Action.READ_BALANCES, region)
        rows = [r for r in read(response, wait_for, lambda opened: balances.books(opened, region, year))
                if user.permits(Action.READ_BALANCES, r.region)]
        return _page(rows, limit, offset, lambda r: dict(r.__dict__))

    @app.get("/api/books/{region}/{scheme}/{year}/balances", response_model=models.BookBalances, tags=["books"])
    def book_balances(user: User, response: Response, region: str, scheme: str, year: int, account: Optional[str] = None,
                      as_of: Optional[str] = None, known_on: Optional[str] = None, wait_for: WaitFor = None) -> dict:
        """One book's balances, now or ``as_of`` a date and as ``known_on`` a time."""
        user.require(Action.READ_BALANCES, region)
        query = balances.BalanceQuery(region, scheme, year, account, as_of, known_on)
        return read(response, wait_for, lambda opened: balances.balance_json(balances.balance(opened, query)))

    @app.get("/api/trial-balance/{region}/{year}", response_model=list[models.TrialBalance], tags=["books"])
    def trial_balance(user: User, response: Response, region: str, year: int, scheme: Optional[str] = None,
                      as_of: Optional[str] = None, known_on: Optional[str] = None, wait_for: WaitFor = None) -> list:
        """The trial balance (试算平衡表) of a district's books, or one summed over a municipality's."""
        user.require(Action.READ_BALANCES, region)
        query = balances.TrialBalanceQuery(region, year, scheme, as_of, known_on)
        return read(response, wait_for, lambda opened: [balances.trial_balance_json(tb) for tb in balances.trial_balances(opened, query)])

    @app.get("/api/fiscal-accounts", response_model=models.FiscalAccountPage, tags=["books"])
    def fiscal_accounts(user: User, response: Response, region: Optional[str] = None, year: Optional[int] = None,
                        limit: Limit = DEFAULT_PAGE, offset: Offset = 0, wait_for: WaitFor = None) -> dict:
        """The 财政专户 per region and fund, of the regions the user may read."""
        if region:
            user.require(Action.READ_BALANCES, region)
        rows = [r for r in read(response, wait_for, lambda opened: balances.fiscal_accounts(opened, region, year))
                if user.permits(Action.READ_BALANCES, r.region)]
        return _page(rows, limit, offset, balances.fiscal_account_json)

    @app.get("/api/statements/{form}/{region}/{scheme}/{year}", response_model=models.Statement, tags=["statements"],
             responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
    def statement(user: User, response: Response, form: str, region: str, scheme: str, year: int, month: Optional[int] = Query(None, ge=1, le=12),
                  consolidated: bool = False, with_adjustment: bool = False, as_of: Optional[str] = None,
                  known_on: Optional[str] = None, format: str = Query("json", pattern="^(json|csv|xlsx)$"), wait_for: WaitFor = None) -> Any:
        """A statement (01 资产负债表, 02 收支表), its invariants checked; ``?format=csv|xlsx`` to download it."""
        user.require(Action.READ_STATEMENTS, region)
        request = statements.StatementRequest(form, region, scheme, year, month, consolidated, with_adjustment, as_of, known_on)
        shown = read(response, wait_for, lambda opened: statements.show(opened, request))
        headers = {POSITION_HEADER: response.headers[POSITION_HEADER]}
        name = f"{form}-{region}-{scheme}-{year}{f'-{month:02d}' if month else ''}"
        if format == "csv":
            return Response(("\ufeff" + to_csv(shown)).encode("utf-8"), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **headers})
        if format == "xlsx":
            buffer = io.BytesIO()
            write_xlsx(shown, buffer)
            return Response(buffer.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', **headers})
        return to_json(shown)

    @app.get("/api/books/{region}/{scheme}/{year}/vouchers", response_model=models.VoucherRegister, tags=["books"])
    def voucher_register(user: User, region: str, scheme: str, year: int, month: Optional[int] = Query(None, ge=1, le=12),
                         limit: Limit = DEFAULT_PAGE) -> dict:
        """A book's voucher register (记账凭证), at most ``limit`` vouchers; the proof of numbering covers all."""
        user.require(Action.READ_VOUCHERS, region)
        with books() as opened:
            return vouchers.register_json(vouchers.register(opened, vouchers.VoucherQuery(region, scheme, year, month, limit)))

    @app.get("/api/books/{region}/{scheme}/{year}/trace/{account}", response_model=models.AccountTrace, tags=["audit"])
    def trace(user: User, response: Response, region: str, scheme: str, year: int, account: str, tier: Optional[int] = None,
              since: Optional[str] = None, through: Optional[str] = None, known_on: Optional[str] = None,
              limit: Limit = DEFAULT_PAGE, wait_for: WaitFor = None) -> dict:
        """The posting lines, documents and events behind an account's figure (auditor)."""
        user.require(Action.READ_AUDIT, region)
        query = tracing.TraceQuery(region, scheme, year, account, tier, since, through, known_on, limit)
        return read(response, wait_for, lambda opened: tracing.trace_json(tracing.trace(opened, query)))

    @app.get("/api/documents/{document_id}", response_model=models.Explanation, tags=["documents"])
    def explain(user: User, document_id: str) -> dict:
        """A posted document: its entries, its computation, and 制单/审核/记账 (needs ``read_vouchers`` over every book it wrote).

        A document that wrote a book outside the user's scope is answered as one never posted (404, the same
        message), so the answer never tells whether another district posted an id. A user whose roles allow
        reading vouchers nowhere is refused (403) before the store is looked at.
        """
        voucher_roles = roles_allowing(Action.READ_VOUCHERS)
        if user.grants and not any(role in voucher_roles for role, _ in user.grants):
            user.require(Action.READ_VOUCHERS, user.grants[0][1], document_id=document_id)
        missing = DocumentNotFoundError("no such document has been posted in the books you may read", document_id=document_id)
        with books() as opened:
            if document_id not in opened.app.registered([document_id]):
                raise missing
            shown = explaining.explain(opened, document_id)
            if not all(user.permits(Action.READ_VOUCHERS, region)
                       for region in dict.fromkeys(entry["book"].split("/")[0] for entry in shown["entries"])):
                raise missing
            signed = proposals.signatures(opened, document_id)
        return {**shown, "signatures": dict(signed.__dict__)}

    @app.get("/api/verify", response_model=models.VerifyReport, tags=["audit"])
    def verify(user: User, region: Region) -> dict:
        """Replay every book and prove it; the findings shown are those of the books in ``region``'s scope (auditor).

        The verification is written to the store's verification log (``verification_id``); a log that could not be
        written is said in ``log_error`` and changes nothing else.
        """
        user.require(Action.VERIFY, region)
        with books() as opened:
            report, logged = verifying.verify_region(opened, region, verified_by=user.username, channel="api")
        return {**report, "verification_id": logged.verification_id, "log_error": logged.error}

    @app.get("/api/verifications", response_model=models.VerificationPage, tags=["audit"])
    def verifications(user: User, region: Region, limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> dict:
        """The store's verification log, newest first: who verified when, through what, the verdict and what it covered (auditor).

        Rows of ``region`` and the regions it covers, and the whole-store rows of ``ledger verify``; a first finding
        naming a book outside ``region`` is withheld (null), its counts are not.
        """
        user.require(Action.VERIFY, region)
        with books() as opened:
            rows = verifying.region_history(opened, region, limit + offset)
        return _page(rows, limit, offset, lambda r: r)

    # ------------------------------------------------------------ posting

    def checked(raw: dict[str, Any], who: str) -> Any:
        checked_actor(raw, who)
        return read_document({**raw, "actor": who}, who)

    def checked_actor(raw: dict[str, Any], who: str) -> None:
        if raw.get("actor") not in (None, "", who):
            raise ActorMismatchError(f"names actor {str(raw['actor'])[:64]!r}; the actor is who is logged in ({who}): leave it out",
                              document_id=str(raw.get("id", ""))[:64] or None, field="actor")

    def authorized(opened: Ledger, user: Permissions, document: Any) -> None:
        try:
            proposals.authorize_post(opened, user, document, rules)
        except proposals.ProposalRequiredError as error:
            error.message += "; enter it with POST /api/proposals"
            error.args = (error.describe(),)
            raise

    @app.post("/api/documents", response_model=models.DocumentOutcome, tags=["documents"],
              responses={201: {"model": models.DocumentOutcome}})
    def post_document(user: User, body: models.Document) -> Response:
        """Post one document. 201 posted; 200 ``duplicate`` when the same id and content were posted before;
        409 when the id was posted with other content; 422 when refused."""
        raw = body.model_dump()
        with books() as opened:
            document = checked(raw, user.username)
            authorized(opened, user, document)
            summary = PostSummary()
            events_before = opened.events_written
            (outcome,) = list(post_records(opened, [Record(1, 0, document=document)], summary))
            monitor.counted([outcome.status], opened.events_written - events_before)
            written = opened.written_position
        if outcome.status == REJECTED and outcome.error is not None:
            return from_error(outcome.error)
        answer = _json(line_json(outcome), 201 if outcome.status == "posted" else 200)
        if outcome.status == "posted":
            answer.headers[POSITION_HEADER] = str(written)  # what a read with ?wait_for= must reach
        return answer

    @app.post(UPLOAD_PATH, response_model=models.UploadResult, tags=["documents"],
              openapi_extra={"requestBody": {"content": {"application/x-ndjson": {}, "text/csv": {}}, "required": True}})
    async def upload(user: User, request: Request, format: str = Query("jsonl", pattern="^(jsonl|csv)$")) -> Response:
        """Post a JSON Lines or CSV file sent as the body (``--data-binary @file``); every line's outcome, in order.

        Each document is checked as ``POST /api/documents`` checks it; a refused line does not stop the others.
        """
        body = await request.body()
        return await _run(lambda: _post_upload(user, body, format))

    def _post_upload(user: Permissions, body: bytes, file_format: str) -> Response:
        summary = PostSummary()
        with books() as opened:
            def allowed(records: Iterator[Record]) -> Iterator[Record]:
                for record in records:
                    if record.document is not None:
                        try:
                            if record.document.actor != user.username:
                                raise ActorMismatchError(f"names actor {record.document.actor[:64]!r}; the actor is who is logged in "
                                                  f"({user.username}): leave it out", document_id=record.document.id, field="actor")
                            authorized(opened, user, record.document)
                        except LedgerError as error:
                            record = Record(record.line, record.size_bytes, error=error.for_document(record.document.id))
                    yield record

            records = read_records(io.BytesIO(body), file_format, default_actor=user.username)
            events_before = opened.events_written
            lines = sorted((line_json(line) for line in post_records(opened, allowed(records), summary)), key=lambda line: line["line"])
            monitor.counted([str(line["status"]) for line in lines], opened.events_written - events_before)
            written = opened.written_position if opened.events_written > events_before else 0
        answer = _json({"summary": summary.to_json(), "lines": lines}, 200)
        if written:
            answer.headers[POSITION_HEADER] = str(written)
        return answer

    # ------------------------------------------------------------ 制单 → 审核 → 记账

    @app.post("/api/proposals", response_model=models.ProposalShown, status_code=201, tags=["proposals"])
    def propose(user: User, body: models.Document) -> dict:
        """Enter a document for 审核 (a journal, a reversal, a period reopening, a year close) as the logged-in user."""
        raw = body.model_dump()
        checked_actor(raw, user.username)
        with books() as opened:
            return _proposal(proposals.propose(opened, raw, by=user.username))

    @app.get("/api/proposals", response_model=models.ProposalPage, tags=["proposals"])
    def list_proposals(user: User, status: Optional[str] = None, scope: Optional[str] = None,
                       limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> dict:
        """Proposals in the user's scope (or in ``scope``, which they must be allowed to read), oldest first."""
        if scope:
            user.require(Action.READ_PROPOSALS, scope)
            scopes = [scope]
        else:
            scopes = list(dict.fromkeys(s for role, s in user.grants if user.permits(Action.READ_PROPOSALS, s)))
        found: dict[str, proposals.Proposal] = {}
        for each in scopes:
            for p in proposals.list_proposals(ledger.engine, status=status, scope=each, limit=min(offset + limit, MAXIMUM_PAGE)):
                found[p.proposal_id] = p
        ordered = sorted(found.values(), key=lambda p: (p.proposed_at, p.proposal_id))[offset:offset + limit]
        return {"items": [_proposal(p) for p in ordered], "limit": limit, "offset": offset}

    def pending(proposal_id: str) -> proposals.Proposal:
        try:
            return proposals.get_proposal(ledger.engine, proposal_id)
        except ProposalError:
            raise ProposalNotFoundError(f"there is no proposal {proposal_id[:40]}") from None

    @app.post("/api/proposals/{proposal_id}/approve", response_model=models.ProposalShown, tags=["proposals"])
    def approve(user: User, proposal_id: str) -> dict:
        """Approve (审核) another user's proposal; it is then posted (记账). 409 if it was decided already."""
        pending(proposal_id)
        with books() as opened:
            return _proposal(proposals.approve(opened, proposal_id, by=user.username))

    @app.post("/api/proposals/{proposal_id}/reject", response_model=models.ProposalShown, tags=["proposals"])
    def reject(user: User, proposal_id: str, body: models.Rejection) -> dict:
        """Reject another user's proposal with a reason; nothing is posted."""
        pending(proposal_id)
        return _proposal(proposals.reject(ledger.engine, proposal_id, body.reason, by=user.username))

    # ------------------------------------------------------------ the web page (ledger/service/pages.py)

    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.include_router(pages.create_router(ledger, books))
    return app


def _ledgers_from_environment() -> int | None:
    value = os.environ.get(LEDGERS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ArgumentError(f"{LEDGERS_VARIABLE}={value[:20]!r}: give a whole number of ledgers, 1 to {MAXIMUM_LEDGERS}")
    return int(value)


def _page(rows: list[Any], limit: int, offset: int, shown: Callable[[Any], dict]) -> dict:
    """One page of ``rows`` (``limit`` of them from ``offset``), each as ``shown`` gives it, with the total."""
    return {"items": [shown(r) for r in rows[offset:offset + limit]], "limit": limit, "offset": offset, "total": len(rows)}


def _proposal(p: proposals.Proposal) -> dict:
    shown = dict(p.__dict__)
    shown["regions"] = list(p.regions)
    return shown


def _json(payload: object, status: int) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status, media_type="application/json")


async def _run(work: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work)


__all__ = ["create_app", "MAXIMUM_BODY_BYTES", "MAXIMUM_UPLOAD_BYTES", "FORMATS", "ArgumentError", "status_of"]
