"""The web page: server-rendered screens for the finance officer, the auditor, the checker and the accountant.

Each route parses its arguments, requires the same permission the API's
endpoint requires (``Permissions.require`` of ``ledger.access.grants``),
calls the same task function and renders one template (``templates/``).
A refusal is shown as a page with the ledger's own message and the HTTP
status the API would give; no page ever shows a traceback. Who is looking
is the web session of ``web_session`` (a cookie); a page asked for without
one sends the browser to the login page.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ledger.access import proposals
from ledger.access.errors import AuthenticationError, LoginThrottledError
from ledger.access.roles import Action
from ledger.agency_time import local_time
from ledger.errors import LedgerError
from ledger.money import format_yuan_grouped, parse_yuan
from ledger.projections import queries
from ledger.regions import municipality_of, region_name
from ledger.service import web_session
from ledger.service.problems import DocumentNotFoundError, status_of
from ledger.statements.forms import FUND_NAMES
from ledger.statements.render import write_xlsx
from ledger.store import Ledger
from ledger.tasks import balances, explaining, overview, statements, tracing, verifying, vouchers
from ledger.tasks.reading import current

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
PROPOSALS_SHOWN = 200  # the waiting list shows at most this many, oldest first
VOUCHERS_SHOWN = 500
TRACE_LINES_SHOWN = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Books = Callable[[], AbstractContextManager[Ledger]]


def yuan(amount: int | str | None) -> str:
    """Fen (``int``) or yuan text (``"1234.5"``) as ``1,234.50`` for the screen; blank for None."""
    if amount is None or amount == "":
        return ""
    return format_yuan_grouped(amount if isinstance(amount, int) else parse_yuan(amount))


TEMPLATES.env.filters["yuan"] = yuan
TEMPLATES.env.filters["region_name"] = region_name
TEMPLATES.env.filters["when"] = lambda moment: local_time(moment) if moment else ""
TEMPLATES.env.filters["fund_name"] = lambda scheme: FUND_NAMES.get(scheme, scheme)
TEMPLATES.env.globals["LEVELS"] = overview.SUBSIDY_LEVEL_NAMES
# The document types as docs/documents.md names them in Chinese; the API and the files keep the English word.
DOCUMENT_TYPE_NAMES = {
    "contribution": "参保缴费", "subsidy": "财政补贴", "transfer": "账户划转", "claim": "待遇支付", "assistance": "医疗救助",
    "sponsorship": "资助参保", "remittance": "上解", "grant": "补助", "gap_cover": "缺口弥补", "merger": "基金整合",
    "worker_settlement": "职工医保目标考核结算", "interest": "利息", "refund": "退费", "recovery": "追回", "reversal": "冲销",
    "journal": "手工记账凭证", "opening_balances": "期初余额", "cross_district_care": "异地就医垫付",
    "cross_district_settlement": "异地就医清算", "year_close": "年终结账", "month_close": "月结", "period_reopen": "反结账",
}
TEMPLATES.env.filters["document_type"] = lambda kind: DOCUMENT_TYPE_NAMES.get(kind, kind)
# A proposal's status as the 审核 register says it (ledger.access.proposals keeps the English words).
TEMPLATES.env.globals["PROPOSAL_STATUS"] = {"pending": "待审核", "approved": "已审核", "posted": "已记账", "rejected": "已退回",
                                            "withdrawn": "已撤回", "refused": "记账被拒"}


def create_router(ledger: Ledger, books: Books) -> APIRouter:
    """The page routes over the app's ledgers; ``books()`` lends one from the app's pool for a request."""
    router = APIRouter(include_in_schema=False)
    engine = ledger.engine

    def page(request: Request, template: str, build: Callable[[web_session.Viewer], dict[str, Any] | Response]) -> Response:
        """Render ``template`` with what ``build`` gives for the logged-in viewer, or the refusal as a page."""
        try:
            viewer = web_session.viewer(engine, request.cookies.get(web_session.COOKIE_NAME))
        except AuthenticationError:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={_quoted(target)}", status_code=303)
        try:
            built = build(viewer)
        except LedgerError as error:
            status = 403 if isinstance(error, web_session.CsrfError) else status_of(error)
            return TEMPLATES.TemplateResponse(request, "error.html", {"viewer": viewer, "error": error, "status": status},
                                              status_code=status)
        if isinstance(built, Response):
            return built
        return TEMPLATES.TemplateResponse(request, template, {"viewer": viewer, **built})

    # ------------------------------------------------------------ login

    @router.get("/", response_class=RedirectResponse)
    def home() -> RedirectResponse:
        return RedirectResponse("/glance", status_code=303)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: Optional[str] = None) -> Response:
        return TEMPLATES.TemplateResponse(request, "login.html", {"next": web_session.safe_next(next), "error": None})

    @router.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/glance")) -> Response:
        address = request.client.host if request.client else "unknown"
        try:
            secret = web_session.log_in(engine, username.strip(), password, address)
        except AuthenticationError as error:
            status = 429 if isinstance(error, LoginThrottledError) else 401
            return TEMPLATES.TemplateResponse(request, "login.html", {"next": web_session.safe_next(next), "error": error.message,
                                                                     "username": username[:64]}, status_code=status)
        answer = RedirectResponse(web_session.safe_next(next), status_code=303)
        answer.set_cookie(web_session.COOKIE_NAME, secret, httponly=True, samesite="strict", secure=web_session.secure_cookies(),
                          max_age=web_session.COOKIE_MAX_AGE_SECONDS, path="/")
        return answer

    @router.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        def out(viewer: web_session.Viewer) -> Response:
            viewer.check_csrf(csrf)
            web_session.log_out(engine, request.cookies.get(web_session.COOKIE_NAME))
            answer = RedirectResponse("/login", status_code=303)
            answer.delete_cookie(web_session.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=web_session.secure_cookies())
            return answer

        return page(request, "error.html", out)

    # ------------------------------------------------------------ the funds at a glance, charts

    def municipality_in_view(viewer: web_session.Viewer, region: str | None) -> str:
        """The municipality asked for, else that of the viewer's first grant that reads balances (refused if none does)."""
        if region:
            return municipality_of(region)
        for _, scope in viewer.permissions.grants:
            if viewer.permissions.permits(Action.READ_BALANCES, scope):
                return municipality_of(scope)
        viewer.permissions.require(Action.READ_BALANCES, first_scope(viewer))
        raise AssertionError("unreachable: require refused")  # pragma: no cover

    def readable(viewer: web_session.Viewer) -> Callable[[str], bool]:
        return lambda region: (viewer.permissions.permits(Action.READ_BALANCES, region)
                               and viewer.permissions.permits(Action.READ_STATEMENTS, region))

    @router.get("/glance", response_class=HTMLResponse)
    def glance(request: Request, region: Optional[str] = Query(None, pattern=r"^\d{6}$"), year: Optional[int] = None) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            municipality = municipality_in_view(viewer, region)
            with books() as opened:
                chosen = year or overview.default_year(opened, municipality)
                shown = overview.glance(opened, municipality, chosen, readable(viewer))
            if not shown.funds:
                viewer.permissions.require(Action.READ_BALANCES, municipality)
            return {"glance": shown, "title": f"{shown.municipality_name} 基金总览 {shown.year}年"}

        return page(request, "glance.html", build)

    @router.get("/charts", response_class=HTMLResponse)
    def charts(request: Request, region: Optional[str] = Query(None, pattern=r"^\d{6}$"), year: Optional[int] = None) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            where = region or next((scope for _, scope in viewer.permissions.grants
                                    if viewer.permissions.permits(Action.READ_STATEMENTS, scope)), first_scope(viewer))
            viewer.permissions.require(Action.READ_STATEMENTS, where)
            consolidated = municipality_of(where) == where
            with books() as opened:
                chosen = year or overview.default_year(opened, where)
                schemes = sorted({b.scheme for b in queries.list_books(current(opened).engine, where, None, chosen)
                                  if b.region == where or consolidated and b.scheme != "adjustment"})
                funds = [(scheme, overview.months(opened, where, scheme, chosen, consolidated)) for scheme in schemes]
            series = {scheme: {"income": [m.income_fen / 100 for m in months], "expense": [m.expense_fen / 100 for m in months],
                               "balance": [m.fund_balance_fen / 100 for m in months]} for scheme, months in funds}
            # Chart.js draws numbers; the tables under the charts show the exact fen.
            return {"funds": funds, "series": json.dumps(series), "region": where, "year": chosen, "consolidated": consolidated,
                    "title": f"{region_name(where)} 基金月度走势 {chosen}年"}

        return page(request, "charts.html", build)

    # ------------------------------------------------------------ statements, trial balance, vouchers

    @router.get("/statements", response_class=HTMLResponse)
    def statement_index(request: Request, region: Optional[str] = Query(None, pattern=r"^\d{6}$"), year: Optional[int] = None) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            municipality = municipality_in_view(viewer, region)
            with books() as opened:
                chosen = year or overview.default_year(opened, municipality)
                found = [b for b in balances.books(opened, municipality, chosen)
                         if viewer.permissions.permits(Action.READ_STATEMENTS, b.region)]
            schemes = sorted({b.scheme for b in found if b.scheme != "adjustment"})
            whole = viewer.permissions.permits(Action.READ_STATEMENTS, municipality)
            return {"books": found, "schemes": schemes if whole else [], "municipality": municipality, "year": chosen,
                    "title": f"{region_name(municipality)} 会计报表 {chosen}年"}

        return page(request, "statement_index.html", build)

    def statement_request(form: str, region: str, scheme: str, year: int, month: Optional[int], consolidated: bool,
                          viewer: web_session.Viewer) -> statements.StatementRequest:
        viewer.permissions.require(Action.READ_STATEMENTS, region)
        return statements.StatementRequest(form, region, scheme, year, month, consolidated)

    @router.get("/statements/{form}/{region}/{scheme}/{year}", response_class=HTMLResponse)
    def statement(request: Request, form: str, region: str, scheme: str, year: int,
                  month: Optional[int] = Query(None, ge=1, le=12), consolidated: bool = False) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            asked = statement_request(form, region, scheme, year, month, consolidated, viewer)
            with books() as opened:
                shown = statements.show(opened, asked)
            query = f"?{request.url.query}" if request.url.query else ""
            return {"statement": shown, "traceable": viewer.permissions.permits(Action.READ_AUDIT, region), "query": query,
                    "path": request.url.path, "title": f"{shown.form.number} {shown.form.title}"}

        return page(request, "statement.html", build)

    @router.get("/statements/{form}/{region}/{scheme}/{year}/xlsx")
    def statement_xlsx(request: Request, form: str, region: str, scheme: str, year: int,
                       month: Optional[int] = Query(None, ge=1, le=12), consolidated: bool = False) -> Response:
        def build(viewer: web_session.Viewer) -> Response:
            asked = statement_request(form, region, scheme, year, month, consolidated, viewer)
            with books() as opened:
                shown = statements.show(opened, asked)
            buffer = io.BytesIO()
            write_xlsx(shown, buffer)
            name = f"{form}-{region}-{scheme}-{year}{f'-{month:02d}' if month else ''}{'-consolidated' if consolidated else ''}.xlsx"
            return Response(buffer.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

        return page(request, "error.html", build)

    @router.get("/statements/{form}/{region}/{scheme}/{year}/trace", response_class=HTMLResponse)
    def statement_trace(request: Request, form: str, region: str, scheme: str, year: int, row: int = Query(..., ge=1, le=99),
                        column: Optional[str] = Query(None, pattern="^(month|year_to_date|this_year|last_year|opening|closing)$"),
                        month: Optional[int] = Query(None, ge=1, le=12), consolidated: bool = False) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            asked = statement_request(form, region, scheme, year, month, consolidated, viewer)
            viewer.permissions.require(Action.READ_AUDIT, region)
            with books() as opened:
                traced = statements.figure_trace_json(statements.trace_figure(opened, asked, row, column, TRACE_LINES_SHOWN))
            back = f"/statements/{form}/{region}/{scheme}/{year}" + (f"?{request.url.query}" if request.url.query else "")
            return {"traced": traced, "back": back, "title": f"报表数字溯源：{traced['statement']}"}

        return page(request, "trace.html", build)

    @router.get("/trial-balance/{region}/{year}", response_class=HTMLResponse)
    def trial_balance(request: Request, region: str, year: int, scheme: Optional[str] = None) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            viewer.permissions.require(Action.READ_BALANCES, region)
            with books() as opened:
                shown = balances.trial_balances(opened, balances.TrialBalanceQuery(region, year, scheme or None))
            return {"trial_balances": shown, "region": region, "year": year, "scheme": scheme,
                    "title": f"{region_name(region)} 试算平衡表 {year}年"}

        return page(request, "trial_balance.html", build)

    @router.get("/vouchers/{region}/{scheme}/{year}", response_class=HTMLResponse)
    def voucher_register(request: Request, region: str, scheme: str, year: int, month: Optional[int] = Query(None, ge=1, le=12)) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            viewer.permissions.require(Action.READ_VOUCHERS, region)
            with books() as opened:
                shown = vouchers.register_json(vouchers.register(opened, vouchers.VoucherQuery(region, scheme, year, month, VOUCHERS_SHOWN)))
            return {"register": shown, "region": region, "scheme": scheme, "year": year, "month": month,
                    "title": f"{region_name(region)} {FUND_NAMES.get(scheme, scheme)} 记账凭证 {year}年" + (f"{month}月" if month else "")}

        return page(request, "vouchers.html", build)

    # ------------------------------------------------------------ a document

    @router.get("/documents/{document_id}", response_class=HTMLResponse)
    def document(request: Request, document_id: str) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            with books() as opened:
                if document_id not in opened.app.registered([document_id]):
                    raise DocumentNotFoundError("no such document has been posted", document_id=document_id)
                shown = explaining.explain(opened, document_id)
                regions = list(dict.fromkeys(entry["book"].split("/")[0] for entry in shown["entries"]))
                for region in regions:
                    viewer.permissions.require(Action.READ_VOUCHERS, region, document_id=document_id)
                signed = proposals.signatures(opened, document_id)
                audit = all(viewer.permissions.permits(Action.READ_AUDIT, r) for r in regions)
                traced = tracing.document_json(tracing.document(opened, document_id)) if audit else None
            decided = proposals.proposals_for_document(engine, document_id)
            may_reverse = (not shown["reversed_by"] and shown["type"] != "reversal"
                           and all(viewer.permissions.permits(Action.PROPOSE, r) for r in regions))
            return {"doc": shown, "signed": signed, "traced": traced, "decided": decided, "may_reverse": may_reverse,
                    "title": f"单据 {document_id}"}

        return page(request, "document.html", build)

    @router.post("/documents/{document_id}/reverse", response_class=HTMLResponse)
    def propose_reversal(request: Request, document_id: str, csrf: str = Form(""), date: str = Form(""), memo: str = Form("")) -> Response:
        def build(viewer: web_session.Viewer) -> Response:
            viewer.check_csrf(csrf)
            raw = {"id": f"{document_id[:80]}-RV", "type": "reversal", "date": date.strip(), "reverses": document_id,
                   "memo": memo.strip()[:500] or None}
            with books() as opened:
                proposals.propose(opened, {k: v for k, v in raw.items() if v is not None}, by=viewer.username)
            return RedirectResponse("/proposals", status_code=303)

        return page(request, "error.html", build)

    # ------------------------------------------------------------ 审核: proposals waiting

    @router.get("/proposals", response_class=HTMLResponse)
    def waiting(request: Request) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            scopes = list(dict.fromkeys(s for _, s in viewer.permissions.grants if viewer.permissions.permits(Action.READ_PROPOSALS, s)))
            if not scopes:
                viewer.permissions.require(Action.READ_PROPOSALS, first_scope(viewer))
            found: dict[str, proposals.Proposal] = {}
            for scope in scopes:
                for p in proposals.list_proposals(engine, status="pending", scope=scope, limit=PROPOSALS_SHOWN):
                    found[p.proposal_id] = p
            rows = sorted(found.values(), key=lambda p: (p.proposed_at, p.proposal_id))[:PROPOSALS_SHOWN]
            decidable = {p.proposal_id for p in rows if p.proposed_by != viewer.username
                         and all(viewer.permissions.permits(Action.APPROVE, r) for r in p.regions)}
            return {"proposals": rows, "decidable": decidable, "title": "待审核"}

        return page(request, "proposals.html", build)

    @router.post("/proposals/{proposal_id}/approve", response_class=HTMLResponse)
    def approve(request: Request, proposal_id: str, csrf: str = Form("")) -> Response:
        def build(viewer: web_session.Viewer) -> Response:
            viewer.check_csrf(csrf)
            with books() as opened:
                decided = proposals.approve(opened, proposal_id, by=viewer.username)
            return RedirectResponse(f"/documents/{_quoted(decided.document_id)}", status_code=303)

        return page(request, "error.html", build)

    @router.post("/proposals/{proposal_id}/reject", response_class=HTMLResponse)
    def reject(request: Request, proposal_id: str, csrf: str = Form(""), reason: str = Form("")) -> Response:
        def build(viewer: web_session.Viewer) -> Response:
            viewer.check_csrf(csrf)
            proposals.reject(engine, proposal_id, reason, by=viewer.username)
            return RedirectResponse("/proposals", status_code=303)

        return page(request, "error.html", build)

    # ------------------------------------------------------------ verify

    @router.get("/verify", response_class=HTMLResponse)
    def verify(request: Request, region: Optional[str] = Query(None, pattern=r"^\d{6}$")) -> Response:
        def build(viewer: web_session.Viewer) -> dict[str, Any]:
            scope = region or next((s for _, s in viewer.permissions.grants if viewer.permissions.permits(Action.VERIFY, s)), "")
            viewer.permissions.require(Action.VERIFY, scope or first_scope(viewer))
            with books() as opened:
                report, logged = verifying.verify_region(opened, scope, verified_by=viewer.username, channel="web")
                logged_rows = verifying.region_history(opened, scope, HISTORY_ROWS)
            history = [{**row, "verified_at": local_time(str(row["verified_at"]))} for row in logged_rows]
            return {"report": report, "findings": report["findings"], "agrees": report["agrees"], "scope": scope,
                    "history": history, "log_error": logged.error, "title": f"账簿校验 {region_name(scope)}"}

        return page(request, "verify.html", build)

    return router


# Rows of the verification log the 账簿校验 page shows under its findings.
HISTORY_ROWS = 10


def first_scope(viewer: web_session.Viewer) -> str:
    """The scope of the viewer's first grant (``000000``, no region, when they hold none): what a refusal names."""
    return viewer.permissions.grants[0][1] if viewer.permissions.grants else "000000"


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


__all__ = ["create_router", "STATIC", "yuan"]
