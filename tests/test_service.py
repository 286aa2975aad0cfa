"""The HTTP API (ledger/service) on both backends, through FastAPI's TestClient.

The role matrix here is written out by hand from docs/service.md ("Roles and
the 制单/审核/记账 flow"): which role may call which endpoint, in and out of
its scope. Expected figures are worked by hand: a contribution of 1,120.00
yuan to 万州区's resident book debits 1002 and credits 4001.01 tier 1.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from ledger.access import grants, users
from ledger.service import create_app
from ledger.service import app as service_app

WANZHOU = "500101"  # 万州区, 重庆市
JIANGJIN = "500116"  # 江津区, 重庆市: another district of the same municipality
CHONGQING = "500000"
PASSWORD = "correct horse battery"
ROLES = ("accountant", "checker", "auditor", "finance_officer", "administrator")


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2id with the lightest parameters, so the suite does not spend its time hashing."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def contribution(document_id, region=WANZHOU, amount="1120.00", day="2012-01-05"):
    return {"id": document_id, "type": "contribution", "date": day, "region": region, "scheme": "resident",
            "tier": 1, "amount": amount}


def journal(document_id, region=WANZHOU, amount="120.00"):
    """A manual journal moving a contribution from tier 1 to tier 2 (needs 审核)."""
    return {"id": document_id, "type": "journal", "date": "2012-01-31", "region": region, "scheme": "resident",
            "purpose": "one tier-2 resident recorded as tier 1",
            "postings": [{"account": "4001.01", "tier": 1, "debit": amount}, {"account": "4001.01", "tier": 2, "credit": amount}]}


@pytest.fixture
def client(store_url):
    """The API with one user per role over 万州区, a municipal accountant ``cq-acc``, and a contribution in each district."""
    app = create_app(store_url)
    engine = app.state.ledger.engine
    for role in ROLES:
        users.add_user(engine, role, f"{role} 同志", PASSWORD, by="admin")
        grants.grant(engine, role, role, WANZHOU, by="admin")
    users.add_user(engine, "cq-acc", "重庆会计", PASSWORD, by="admin")
    grants.grant(engine, "cq-acc", "accountant", CHONGQING, by="admin")
    with TestClient(app) as test_client:
        token = login(test_client, "cq-acc")
        for document in (contribution("C-W"), contribution("C-J", JIANGJIN)):
            assert test_client.post("/api/documents", json=document, headers=token).status_code == 201
        yield test_client


def login(client, username, password=PASSWORD):
    answer = client.post("/api/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def assert_problem(answer, status, *, field=None, rule=None, contains=""):
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert set(body) >= {"type", "title", "status", "detail", "document", "field", "rule"}
    assert body["status"] == status and body["type"].startswith(("urn:ledger:problem:", "about:blank"))
    if field is not None:
        assert body["field"] == field
    if rule is not None:
        assert body["rule"] == rule
    assert contains in body["detail"]
    return body


# ------------------------------------------------------------------ login


def test_login_gives_a_token_and_logout_ends_it(client):
    token = login(client, "accountant")
    assert client.get("/api/me", headers=token).json()["grants"] == [{"role": "accountant", "scope": WANZHOU, "scope_kind": "district"}]
    assert client.post("/api/logout", headers=token).status_code == 204
    assert_problem(client.get("/api/me", headers=token), 401, field="token")


def test_a_wrong_password_an_unknown_user_and_no_token_are_401_alike(client):
    wrong = assert_problem(client.post("/api/login", json={"username": "accountant", "password": "not the password"}), 401)
    unknown = assert_problem(client.post("/api/login", json={"username": "nobody", "password": "not the password"}), 401)
    assert wrong["detail"] == unknown["detail"] == "field 'password': wrong username or password [authentication]"
    assert_problem(client.get("/api/books"), 401, field="Authorization")
    assert_problem(client.get("/api/books", headers={"Authorization": "Bearer ldg_forged"}), 401)
    assert_problem(client.get("/api/books", headers={"Authorization": "Basic abc"}), 401)


def test_five_failed_logins_lock_the_username_with_429_and_retry_after(client):
    for _ in range(5):
        assert_problem(client.post("/api/login", json={"username": "checker", "password": "wrong wrong wrong"}), 401)
    locked = client.post("/api/login", json={"username": "checker", "password": PASSWORD})
    body = assert_problem(locked, 429, rule="login rate limit", contains="5 failed logins for the username checker")
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    assert "try again in" in body["detail"]
    login(client, "auditor")  # another username from the same address is not locked by five failures


# ------------------------------------------------------------------ the role matrix

# docs/service.md's matrix, written out by hand: the roles allowed each endpoint's action.
READERS = {"accountant", "checker", "auditor", "finance_officer"}  # read_balances, read_statements
VOUCHER_READERS = {"accountant", "checker", "auditor"}  # read_vouchers, read_proposals
ALLOWED = {
    "balances": READERS,
    "trial_balance": READERS,
    "books": READERS,
    "fiscal": READERS,
    "statement": READERS,
    "vouchers": VOUCHER_READERS,
    "explain": VOUCHER_READERS,
    "proposals": VOUCHER_READERS,
    "trace": {"auditor"},
    "verify": {"auditor"},
    "post": {"accountant"},
    "upload": {"accountant"},
    "propose": {"accountant"},
    "approve": {"checker"},
    "reject": {"checker"},
}


def call(client, endpoint, region, headers, serial):
    """Call ``endpoint`` over ``region``'s books as ``headers``' user."""
    book = f"/api/books/{region}/resident/2012"
    document = "C-W" if region == WANZHOU else "C-J"
    if endpoint == "balances":
        return client.get(f"{book}/balances", headers=headers)
    if endpoint == "trial_balance":
        return client.get(f"/api/trial-balance/{region}/2012", headers=headers)
    if endpoint == "books":
        return client.get("/api/books", params={"region": region}, headers=headers)
    if endpoint == "fiscal":
        return client.get("/api/fiscal-accounts", params={"region": region}, headers=headers)
    if endpoint == "statement":
        return client.get(f"/api/statements/02/{region}/resident/2012", headers=headers)
    if endpoint == "vouchers":
        return client.get(f"{book}/vouchers", headers=headers)
    if endpoint == "explain":
        return client.get(f"/api/documents/{document}", headers=headers)
    if endpoint == "proposals":
        return client.get("/api/proposals", params={"scope": region}, headers=headers)
    if endpoint == "trace":
        return client.get(f"{book}/trace/1002", headers=headers)
    if endpoint == "verify":
        return client.get("/api/verify", params={"region": region}, headers=headers)
    if endpoint == "post":
        return client.post("/api/documents", json=contribution(f"M-{serial}", region, "1.00"), headers=headers)
    if endpoint == "upload":
        line = contribution(f"U-{serial}", region, "1.00")
        return client.post("/api/documents/upload", content=(__import__("json").dumps(line) + "\n").encode(), headers=headers)
    if endpoint == "propose":
        return client.post("/api/proposals", json=journal(f"P-{serial}", region, "1.00"), headers=headers)
    if endpoint in ("approve", "reject"):
        entered = client.post("/api/proposals", json=journal(f"A-{serial}", region, "1.00"), headers=login(client, "cq-acc"))
        assert entered.status_code == 201, entered.text
        return client.post(f"/api/proposals/{entered.json()['proposal_id']}/{endpoint}", json={"reason": "no evidence"}, headers=headers)
    raise AssertionError(endpoint)


def outcome(endpoint, answer):
    """What the matrix compares: ``2xx``, or the refusal's status.

    An upload answers 200 with each line's outcome, so its line's refusal is
    what counts: a ``PermissionDeniedError`` line is the upload's 403.
    """
    if endpoint == "upload" and answer.status_code == 200:
        (line,) = answer.json()["lines"]
        return "2xx" if line["status"] == "posted" else (403 if line["error"] == "PermissionDeniedError" else line["error"])
    return "2xx" if 200 <= answer.status_code < 300 else answer.status_code


def expected_outcome(endpoint, role, in_scope):
    """2xx in scope for a role allowed; else 403 — but a document out of scope is 404, as if never posted, for a role
    that may read vouchers somewhere (docs/service.md: the answer never tells whether another district posted an id)."""
    if role in ALLOWED[endpoint] and in_scope:
        return "2xx"
    if endpoint == "explain" and role in ALLOWED[endpoint]:
        return 404
    return 403


def test_every_role_every_endpoint_in_and_out_of_scope(client):
    tokens = {role: login(client, role) for role in ROLES}
    serial = 0
    outcomes = {}
    for endpoint in ALLOWED:
        for role in ROLES:
            for region, in_scope in ((WANZHOU, True), (JIANGJIN, False)):
                serial += 1
                answer = call(client, endpoint, region, tokens[role], serial)
                outcomes[(endpoint, role, region)] = (outcome(endpoint, answer), expected_outcome(endpoint, role, in_scope), answer.text[:200])
    wrong = {key: value for key, value in outcomes.items() if value[0] != value[1]}
    assert wrong == {}
    # The endpoints of no region: every role may ask who it is and log out.
    for role in ROLES:
        assert client.get("/api/me", headers=tokens[role]).json()["username"] == role
        assert client.post("/api/logout", headers=tokens[role]).status_code == 204
        assert_problem(client.get("/api/me", headers=tokens[role]), 401)


def test_a_document_out_of_scope_is_answered_as_one_never_posted(client):
    token = login(client, "accountant")  # 万州区 only; C-J was posted in 江津区
    out_of_scope = assert_problem(client.get("/api/documents/C-J", headers=token), 404)
    never = assert_problem(client.get("/api/documents/C-NEVER", headers=token), 404)
    assert out_of_scope["detail"] == never["detail"] == "no such document has been posted in the books you may read"
    assert (out_of_scope["document"], never["document"]) == ("C-J", "C-NEVER")
    # A finance officer may read vouchers nowhere: refused before the store is looked at, posted or not.
    finance = login(client, "finance_officer")
    posted = assert_problem(client.get("/api/documents/C-W", headers=finance), 403)
    unknown = assert_problem(client.get("/api/documents/C-NEVER", headers=finance), 403)
    assert "may not read vouchers in region 500101" in posted["detail"] and "may not read vouchers" in unknown["detail"]


def test_a_district_accountant_neither_reads_nor_posts_another_districts_books(client):
    token = login(client, "accountant")
    listed = client.get("/api/books", headers=token).json()
    assert [(b["region"], b["scheme"], b["year"]) for b in listed["items"]] == [(WANZHOU, "resident", 2012)]
    assert listed["total"] == 1
    fiscal = client.get("/api/fiscal-accounts", headers=token).json()["items"]
    assert {row["region"] for row in fiscal} <= {WANZHOU}
    body = assert_problem(client.get(f"/api/books/{JIANGJIN}/resident/2012/balances", headers=token), 403, rule="roles and scopes")
    assert "user accountant may not read balances in region 500116" in body["detail"]
    refused = client.post("/api/documents", json=contribution("X-1", JIANGJIN), headers=token)
    body = assert_problem(refused, 403, contains="may not post document in region 500116")
    assert body["document"] == "X-1"
    upload = client.post("/api/documents/upload", content=(
        '{"id":"U-1","type":"contribution","date":"2012-01-06","region":"500116","scheme":"resident","tier":1,"amount":"5.00"}\n'
    ).encode(), headers=token)
    assert upload.json()["summary"] == {"posted": 0, "postings": 0, "duplicates": 0, "rejected": 1, "dry_run": False}
    assert upload.json()["lines"][0]["error"] == "PermissionDeniedError"
    cq = login(client, "cq-acc")
    assert client.post("/api/proposals", json=journal("J-J", JIANGJIN), headers=cq).status_code == 201
    assert client.post("/api/proposals", json=journal("J-W", WANZHOU), headers=cq).status_code == 201
    assert [p["document_id"] for p in client.get("/api/proposals", headers=token).json()["items"]] == ["J-W"]
    assert [p["document_id"] for p in client.get("/api/proposals", headers=cq).json()["items"]] == ["J-J", "J-W"]
    assert_problem(client.get("/api/proposals", params={"scope": JIANGJIN}, headers=token), 403)
    # The municipal accountant's books, a page at a time: 500101 then 500116 (region order).
    first = client.get("/api/books", params={"limit": 1}, headers=cq).json()
    second = client.get("/api/books", params={"limit": 1, "offset": 1}, headers=cq).json()
    assert [b["region"] for b in first["items"] + second["items"]] == [WANZHOU, JIANGJIN] and first["total"] == 2
    # 江津's balances are as the municipal accountant posted them: 1,120.00 on 1002, nothing more.
    rows = client.get(f"/api/books/{JIANGJIN}/resident/2012/balances", headers=cq).json()["rows"]
    assert {(r["account"], r["tier"]): r["balance"] for r in rows if r["balance"] != "0.00"} == {("1002", 0): "1120.00", ("4001.01", 1): "-1120.00"}


# ------------------------------------------------------------------ posting


def test_a_resent_document_is_a_duplicate_and_a_changed_one_a_conflict(client):
    token = login(client, "accountant")
    first = client.post("/api/documents", json=contribution("C-2", amount="10.00"), headers=token)
    assert (first.status_code, first.json()["status"], first.json()["postings"]) == (201, "posted", 2)
    again = client.post("/api/documents", json=contribution("C-2", amount="10.00"), headers=token)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    changed = client.post("/api/documents", json=contribution("C-2", amount="11.00"), headers=token)
    body = assert_problem(changed, 409, field="id", contains="was posted before with different content")
    assert body["document"] == "C-2" and body["type"] == "urn:ledger:problem:duplicate-conflict"
    rows = client.get(f"/api/books/{WANZHOU}/resident/2012/balances", params={"account": "1002"}, headers=token).json()["rows"]
    assert [r["balance"] for r in rows] == ["1130.00"]  # 1,120.00 + 10.00, once


def test_the_actor_is_the_logged_in_user_never_a_field(client):
    token = login(client, "accountant")
    refused = client.post("/api/documents", json={**contribution("C-3"), "actor": "checker"}, headers=token)
    assert_problem(refused, 422, field="actor", contains="the actor is who is logged in (accountant)")
    assert client.post("/api/documents", json={**contribution("C-3"), "actor": "accountant"}, headers=token).status_code == 201
    assert_problem(client.post("/api/proposals", json={**journal("J-9"), "actor": "checker"}, headers=token), 422, field="actor",
                   rule="the actor is the logged-in user")
    entries = client.get("/api/documents/C-3", headers=token).json()["entries"]
    assert {entry["actor"] for entry in entries} == {"accountant"}
    upload = client.post("/api/documents/upload", params={"format": "csv"}, headers=token, content=(
        "id,type,date,region,scheme,tier,amount,actor\n"
        "C-4,contribution,2012-01-07,500101,resident,1,3.00,\n"
        "C-5,contribution,2012-01-07,500101,resident,1,4.00,checker\n").encode())
    lines = upload.json()["lines"]
    assert [(line["id"], line["status"], line["field"]) for line in lines] == [("C-4", "posted", None), ("C-5", "rejected", "actor")]
    assert {e["actor"] for e in client.get("/api/documents/C-4", headers=token).json()["entries"]} == {"accountant"}


def test_a_refused_document_is_a_problem_with_the_clis_message(client):
    token = login(client, "accountant")
    body = assert_problem(client.post("/api/documents", json=contribution("C-6", amount="-5.00"), headers=token), 422)
    assert body["document"] == "C-6" and body["field"] == "amount" and body["detail"].startswith("document C-6, field 'amount': ")
    body = assert_problem(client.post("/api/documents", json=journal("J-0"), headers=token), 422, field="type")
    assert "POST /api/proposals" in body["detail"] and body["rule"] == "制单 → 审核 → 记账"
    assert_problem(client.get(f"/api/books/{WANZHOU}/nonsense/2012/balances", headers=token), 422, rule="request arguments",
                   contains="scheme must be one of")
    assert_problem(client.get(f"/api/books/{WANZHOU}/resident/2031/balances", headers=token), 404)
    assert_problem(client.get("/api/documents/NEVER", headers=token), 404)
    assert_problem(client.post("/api/proposals/0123/approve", headers=login(client, "checker")), 404)
    assert_problem(client.get("/api/books", params={"limit": 0}, headers=token), 422, field="limit")


def test_a_body_over_the_limit_is_413(client):
    token = login(client, "accountant")
    big = {**contribution("C-7"), "purpose": "x" * (service_app.MAXIMUM_BODY_BYTES + 1)}
    assert_problem(client.post("/api/documents", json=big, headers=token), 413, rule="bounded request size")


def test_a_statement_downloads_as_json_csv_and_xlsx(client):
    token = login(client, "finance_officer")
    path = f"/api/statements/01/{WANZHOU}/resident/2012"
    assert client.get(path, headers=token).headers["content-type"].startswith("application/json")
    csv = client.get(path, params={"format": "csv"}, headers=token)
    assert csv.headers["content-type"].startswith("text/csv") and csv.content.startswith("\ufeff".encode())
    xlsx = client.get(path, params={"format": "xlsx"}, headers=token)
    assert xlsx.content[:2] == b"PK" and "attachment" in xlsx.headers["content-disposition"]


# ------------------------------------------------------------------ 制单 → 审核 → 记账


def test_a_checker_approves_a_reversal_an_accountant_proposed_and_it_posts_with_both_named(client):
    accountant, checker = login(client, "accountant"), login(client, "checker")
    entered = client.post("/api/proposals", json={"id": "R-1", "type": "reversal", "date": "2012-02-01", "reverses": "C-W"},
                          headers=accountant)
    assert entered.status_code == 201 and entered.json()["status"] == "pending"
    proposal_id = entered.json()["proposal_id"]
    waiting = client.get("/api/proposals", params={"status": "pending"}, headers=checker).json()["items"]
    assert [p["document_id"] for p in waiting] == ["R-1"]
    assert_problem(client.post(f"/api/proposals/{proposal_id}/approve", headers=accountant), 403)
    approved = client.post(f"/api/proposals/{proposal_id}/approve", headers=checker)
    assert (approved.status_code, approved.json()["status"], approved.json()["decided_by"]) == (200, "posted", "checker")
    signed = client.get("/api/documents/R-1", headers=checker).json()["signatures"]
    assert (signed["prepared_by"], signed["checked_by"]) == ("accountant", "checker")
    # The reversal undoes C-W: 万州's book has nothing left on 1002.
    rows = client.get(f"/api/books/{WANZHOU}/resident/2012/balances", params={"account": "1002"}, headers=checker).json()["rows"]
    assert [r["balance"] for r in rows] == ["0.00"]
    assert_problem(client.post(f"/api/proposals/{proposal_id}/approve", headers=checker), 409)


def test_a_rejected_proposal_keeps_the_reason_and_posts_nothing(client):
    accountant, checker = login(client, "accountant"), login(client, "checker")
    entered = client.post("/api/proposals", json=journal("J-1"), headers=accountant).json()
    rejected = client.post(f"/api/proposals/{entered['proposal_id']}/reject", json={"reason": "no evidence"}, headers=checker).json()
    assert (rejected["status"], rejected["reason"], rejected["decided_by"]) == ("rejected", "no evidence", "checker")
    assert_problem(client.get("/api/documents/J-1", headers=checker), 404)


# ------------------------------------------------------------------ OpenAPI


def test_openapi_names_every_schema(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"Problem", "LoginRequest", "LoginResponse", "Document", "DocumentOutcome", "BookBalances", "TrialBalance",
            "ProposalShown", "Statement", "UploadResult"} <= set(schemas)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                assert "$ref" in body, (method, path)
            ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
            assert "$ref" in schema or "$ref" in schema.get("items", {}) or not schema, (method, path, schema)


def test_the_demo_users_log_in_with_the_documented_password_one_per_role(store_url):
    from ledger.service.demo_users import add_demo_users

    app = create_app(store_url)
    assert add_demo_users(app.state.ledger.engine) == ["accountant", "checker", "auditor", "finance", "admin"]
    assert add_demo_users(app.state.ledger.engine) == []  # a second demo run adds no one
    with TestClient(app) as test_client:
        # The README's account and password (README.md, "make serve").
        for username, role in (("accountant", "accountant"), ("checker", "checker"), ("auditor", "auditor"),
                               ("finance", "finance_officer"), ("admin", "administrator")):
            token = login(test_client, username, "demo-password-2013")
            assert test_client.get("/api/me", headers=token).json()["grants"] == [
                {"role": role, "scope": "500000", "scope_kind": "province"}]


def test_a_streamed_body_over_the_limit_is_413_and_posts_nothing(client):
    token = login(client, "accountant")

    def chunks():  # no Content-Length: the limit is counted as the body streams in
        line = b'{"id":"S-%d","type":"contribution","date":"2012-01-08","region":"500101","scheme":"resident","tier":1,"amount":"1.00"}\n'
        for number in range(service_app.MAXIMUM_UPLOAD_BYTES // len(line) + 10):
            yield line % number

    answer = client.post("/api/documents/upload", content=chunks(), headers=token)
    assert_problem(answer, 413, rule="bounded request size")
    assert_problem(client.get("/api/documents/S-1", headers=token), 404)


# ------------------------------------------------------------------ ledger user


def test_user_commands_add_grant_list_revoke_disable_and_never_echo_the_password(store_url):
    from typer.testing import CliRunner

    from ledger.cli import app as cli

    runner = CliRunner()
    secret = "a secret of twenty chars"
    added = runner.invoke(cli, ["user", "add", "zhang", "--name", "张会计", "--password-stdin", "--db", store_url], input=secret + "\n")
    assert added.exit_code == 0 and "added zhang" in added.output and secret not in added.output
    assert runner.invoke(cli, ["user", "grant", "zhang", "accountant", WANZHOU, "--by", "root", "--db", store_url]).exit_code == 0
    listed = runner.invoke(cli, ["user", "list", "--db", store_url], env={"COLUMNS": "200"})
    assert "accountant@500101" in listed.output and secret not in listed.output
    refused = runner.invoke(cli, ["user", "grant", "zhang", "bogus", WANZHOU, "--db", store_url])
    assert refused.exit_code == 1 and "there is no role bogus" in refused.output
    with TestClient(create_app(store_url)) as test_client:
        token = login(test_client, "zhang", secret)
        assert test_client.get(f"/api/books/{WANZHOU}/resident/2012/balances", headers=token).status_code == 404  # allowed; no book yet
        assert runner.invoke(cli, ["user", "revoke", "zhang", "accountant", WANZHOU, "--db", store_url]).exit_code == 0
        assert_problem(test_client.get(f"/api/books/{WANZHOU}/resident/2012/balances", headers=token), 403)
        assert runner.invoke(cli, ["user", "disable", "zhang", "--db", store_url]).exit_code == 0
        assert_problem(test_client.get("/api/me", headers=token), 401)
    again = runner.invoke(cli, ["user", "revoke", "zhang", "accountant", WANZHOU, "--db", store_url])
    assert again.exit_code == 1 and "holds no accountant over 500101" in again.output
