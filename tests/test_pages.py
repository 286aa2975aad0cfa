"""The web page's routes through FastAPI's TestClient on both backends: the session cookie, CSRF, scope, hand-worked figures.

The store holds two documents of 万州区's resident fund for 2012, worked by
hand: a contribution of 1,120.00 (Dr 1002 收入户, Cr 4001.01 tier 1) and a
central subsidy of 26,720.00 (Dr 1003 财政专户, Cr 4101.01 tier 1: 1,336
residents × 20 元). So the glance shows 财政专户 26,720.00, 基金收入
27,840.00, 基金支出 0.00 and 中央 26,720.00; 江津区 gets a contribution of
500.00 that a user of 万州区 must never see. (tests/test_browser.py does the
same in a real browser over the demo.)
"""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from ledger.access import grants, users
from ledger.service import create_app, web_session

WANZHOU, JIANGJIN, CHONGQING = "500101", "500116", "500000"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(store_url):
    made = create_app(store_url)
    engine = made.state.ledger.engine
    for username, role, scope in (("finance", "finance_officer", CHONGQING), ("wz-finance", "finance_officer", WANZHOU),
                                  ("acc", "accountant", CHONGQING), ("checker", "checker", CHONGQING)):
        users.add_user(engine, username, username, PASSWORD, by="test")
        grants.grant(engine, username, role, scope, by="test")
    with TestClient(made) as client:
        token = client.post("/api/login", json={"username": "acc", "password": PASSWORD}).json()["token"]
        for document in (
            {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident", "tier": 1, "amount": "1120.00"},
            {"id": "S-1", "type": "subsidy", "date": "2012-03-15", "region": WANZHOU, "scheme": "resident", "tier": 1, "level": "central",
             "amount": "26720.00", "persons": 1336},
            {"id": "C-J", "type": "contribution", "date": "2012-01-05", "region": JIANGJIN, "scheme": "resident", "tier": 1, "amount": "500.00"},
        ):
            answer = client.post("/api/documents", json=document, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 201, answer.text
    return made


def logged_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/glance"})
    assert answer.status_code == 303 and answer.headers["location"] == "/glance", answer.text
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)


def figures(page: str, region: str, scheme: str = "resident") -> dict[str, str]:
    """The figures of a book's rows on the glance (its line of the main table and of the subsidies), by field or level."""
    rows = re.findall(rf'<tr data-region="{region}" data-scheme="{scheme}">(.*?)</tr>', page, re.S)
    return {name: value for row in rows for name, value in re.findall(r'data-(?:field|level)="([a-z-]+)">([^<]*)<', row)}


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_when_configured(app, monkeypatch):
    answer = TestClient(app, follow_redirects=False).post("/login", data={"username": "finance", "password": PASSWORD})
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("ledger_session=ldg_") and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    monkeypatch.setenv(web_session.SECURE_COOKIES_VARIABLE, "1")
    cookie = TestClient(app, follow_redirects=False).post("/login", data={"username": "finance", "password": PASSWORD}).headers["set-cookie"]
    assert "Secure" in cookie


def test_the_cookie_is_a_session_the_api_accepts_and_logout_ends_it_for_both(app):
    client = logged_in(app, "finance")
    secret = client.cookies["ledger_session"]
    assert TestClient(app).get("/api/me", headers={"Authorization": f"Bearer {secret}"}).json()["username"] == "finance"
    page = client.get("/glance").text
    assert client.post("/logout", data={"csrf": csrf_of(page)}).headers["location"] == "/login"
    assert TestClient(app).get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.get("/glance").status_code == 303


def test_after_login_the_browser_goes_back_only_to_this_site(app):
    for target, expected in (("/charts?year=2012", "/charts?year=2012"), ("//evil.example/x", "/glance"), ("https://evil.example", "/glance")):
        answer = TestClient(app, follow_redirects=False).post("/login", data={"username": "finance", "password": PASSWORD, "next": target})
        assert answer.headers["location"] == expected


def test_a_wrong_password_shows_the_form_again_and_counts_toward_the_limit(app):
    client = TestClient(app, follow_redirects=False)
    for _ in range(5):
        answer = client.post("/login", data={"username": "finance", "password": "wrong password!"})
        assert answer.status_code == 401 and "wrong username or password" in answer.text and "set-cookie" not in answer.headers
    answer = client.post("/login", data={"username": "finance", "password": PASSWORD})
    assert answer.status_code == 429 and "5 failed logins for the username finance" in answer.text
    # The API counts the same attempts: the username stays locked there too.
    assert client.post("/api/login", json={"username": "finance", "password": PASSWORD}).status_code == 429


def test_the_glance_shows_the_hand_worked_figures(app):
    page = logged_in(app, "finance").get("/glance?year=2012").text
    wanzhou = figures(page, WANZHOU)
    assert wanzhou["fiscal"] == "26,720.00"
    assert (wanzhou["income"], wanzhou["income-last"], wanzhou["expense"]) == ("27,840.00", "0.00", "0.00")
    assert (wanzhou["central"], wanzhou["provincial"], wanzhou["county"]) == ("26,720.00", "0.00", "0.00")
    assert figures(page, JIANGJIN)["income"] == "500.00"
    assert '<td class="num" data-field="fiscal">' in page  # figures right-aligned in number cells


def test_a_district_user_sees_their_district_and_is_refused_the_other(app):
    client = logged_in(app, "wz-finance")
    page = client.get("/glance?year=2012").text
    assert f'data-region="{WANZHOU}"' in page and f'data-region="{JIANGJIN}"' not in page and "不在您的管辖范围内" in page
    for path in (f"/statements/02/{JIANGJIN}/resident/2012", f"/statements/02/{JIANGJIN}/resident/2012/xlsx",
                 f"/trial-balance/{JIANGJIN}/2012", f"/charts?region={CHONGQING}&year=2012"):
        answer = client.get(path)
        assert answer.status_code == 403 and "user wz-finance may not" in answer.text, path
    assert "500.00" not in client.get(f"/statements/02/{JIANGJIN}/resident/2012").text
    # Their own charts are their district's (not the municipality's, which they may not read).
    charts = client.get("/charts?year=2012")
    assert charts.status_code == 200 and 'id="months-resident"' in charts.text and "万州区" in charts.text


def test_approving_without_the_csrf_token_is_refused_and_with_it_posts(app):
    acc = logged_in(app, "acc")
    page = acc.get("/documents/C-1").text
    entered = acc.post("/documents/C-1/reverse", data={"csrf": csrf_of(page), "date": "2012-01-06", "memo": "录入错误"})
    assert entered.status_code == 303 and entered.headers["location"] == "/proposals"
    checker = logged_in(app, "checker")
    waiting = checker.get("/proposals").text
    proposal_id = re.search(r'action="/proposals/([0-9a-f-]+)/approve"', waiting).group(1)
    for forged in ({}, {"csrf": "0" * 64}, {"csrf": csrf_of(page)}):  # none, a made-up one, the accountant's
        answer = checker.post(f"/proposals/{proposal_id}/approve", data=forged)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert "C-1-RV" in checker.get("/proposals").text
    approved = checker.post(f"/proposals/{proposal_id}/approve", data={"csrf": csrf_of(waiting)})
    assert approved.headers["location"] == "/documents/C-1-RV"
    signed = checker.get("/documents/C-1-RV").text
    assert re.search(r'id="prepared-by">acc<', signed) and re.search(r'id="checked-by">checker<', signed)
    # Worked by hand: the contribution and its reversal leave 万州's 2012 income at the subsidy alone.
    assert figures(logged_in(app, "finance").get("/glance?year=2012").text, WANZHOU)["income"] == "26,720.00"


def test_who_entered_a_reversal_sees_it_waiting_and_a_bad_date_is_a_message_not_a_traceback(app):
    acc = logged_in(app, "acc")
    csrf = csrf_of(acc.get("/documents/C-1").text)
    refused = acc.post("/documents/C-1/reverse", data={"csrf": csrf, "date": "not a date"})
    assert refused.status_code == 422 and 'id="refusal"' in refused.text and "Traceback" not in refused.text
    acc.post("/documents/C-1/reverse", data={"csrf": csrf, "date": "2012-01-06"})
    assert "本人提交，待他人审核" in acc.get("/proposals").text and "/approve" not in acc.get("/proposals").text


def test_a_page_asked_for_while_logged_out_goes_to_the_login_and_back(app):
    answer = TestClient(app, follow_redirects=False).get("/statements/02/500101/resident/2012?consolidated=false")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/statements/02/500101/resident/2012%3Fconsolidated%3Dfalse"


def test_every_asset_is_served_from_the_package(app):
    client = logged_in(app, "finance")
    page = client.get("/charts?year=2012").text
    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert sources and all(s.startswith("/static/") for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200
    assert client.get("/static/vendor/chartjs/chart.umd.min.js").text.startswith("/*!\n * Chart.js v4.5.1")
