"""The web page in a real browser: Debian's headless Chromium driven by Selenium, over a demo store on each backend.

The service runs on uvicorn in a thread on a free port, over a store filled
by the demo (``ledger.tasks.demo.run``, a small municipality of 重庆市) with
its demo users. Each test logs in through the login page as a person would,
reads the figures off the page and compares them with what the HTTP API
answers for the same user; the reversal test's figures are worked by hand
(a contribution of 1,120.00 to 万州区 and its reversal leave 4001.01 with
1,120.00 on each side and nothing in balance). Screenshots are kept in the
test's temporary folder, and copied to ``LEDGER_SCREENSHOTS`` when it is set.

Without Chromium the tests skip, unless ``LEDGER_REQUIRE_POSTGRES=1`` (CI),
where a missing browser fails the run: CI installs it (.ci/run).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx2
import openpyxl
import pytest
import uvicorn

from conftest import POSTGRES_URL, REQUIRE_POSTGRES, _empty_postgres, require_backend
from ledger.access import grants, users
from ledger.service import create_app
from ledger.service.demo_users import DEMO_PASSWORD, add_demo_users
from ledger.store import Ledger
from ledger.tasks import demo

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WANZHOU, JIANGJIN, CHONGQING = "500101", "500116", "500000"
YEAR = 2013  # the demo's year of business; 2014 holds only what its close carried forward
DEMO_SIZE = 2
WINDOW = (1440, 1000)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Iterator[object]:
    """One headless Chromium for the module, with a fresh profile; Selenium Manager is never asked to download anything."""
    missing = _browser_missing()
    if missing:
        if REQUIRE_POSTGRES:
            pytest.fail(f"the browser tests must run here: {missing}")
        pytest.skip(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """The service over a demo store: its base URL, its store URL, and the API used to fetch the figures to compare."""

    def __init__(self, base: str, store_url: str, shots: Path) -> None:
        self.base, self.store_url, self.shots = base, store_url, shots

    def api(self, username: str) -> httpx2.Client:
        client = httpx2.Client(base_url=self.base, timeout=60)
        answer = client.post("/api/login", json={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        return client


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def served(request, tmp_path_factory) -> Iterator[Served]:
    """The demo municipality (size 2) with its demo users and a finance officer of 万州区 only, served on a free port."""
    backend = request.param
    folder = tmp_path_factory.mktemp(f"web-{backend}")
    if backend == "postgres":
        require_backend("postgres")
        _empty_postgres()
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{folder / 'ledger.db'}"
    with Ledger(url) as ledger:
        demo.run(ledger, size=DEMO_SIZE, year=YEAR)
        add_demo_users(ledger.engine)
        users.add_user(ledger.engine, "wz-finance", "万州财政", DEMO_PASSWORD, by="test")
        grants.grant(ledger.engine, "wz-finance", "finance_officer", WANZHOU, by="test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", url, folder / "screens")
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# ------------------------------------------------------------ helpers: what a person does and sees


def log_in(driver, served: Served, username: str, password: str = DEMO_PASSWORD, then: str = "/glance") -> None:
    driver.delete_all_cookies()
    driver.get(f"{served.base}/login?next={then}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url or d.find_elements(By.ID, "login-error"))


def open_page(driver, served: Served, path: str) -> None:
    driver.get(served.base + path)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")


def screenshot(driver, served: Served, name: str) -> Path:
    """The whole page as a PNG (the window grown to the page's height), kept with the test and copied for review."""
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(WINDOW[0], min(max(height + 40, WINDOW[1]), 6000))
    served.shots.mkdir(parents=True, exist_ok=True)
    backend = "postgres" if served.store_url.startswith("postgresql") else "sqlite"
    path = served.shots / f"{backend}-{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(*WINDOW)
    review = os.environ.get("LEDGER_SCREENSHOTS")
    if review:
        Path(review).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(review) / path.name)
    return path


def shown_yuan(text: str) -> Decimal:
    """A figure as the page prints it (``1,234.56``) as a Decimal."""
    return Decimal(text.strip().replace(",", ""))


def cell(row, field: str) -> Decimal:
    return shown_yuan(row.find_element(By.CSS_SELECTOR, f'[data-field="{field}"]').text)


def statement_json(api: httpx2.Client, form: str, region: str, scheme: str, year: int = YEAR, **query) -> dict:
    answer = api.get(f"/api/statements/{form}/{region}/{scheme}/{year}", params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()


def line_value(statement: dict, code: str, column: str) -> Decimal:
    for line in statement["lines"]:
        if line["code"] == code:
            value = line["values"][column]
            return Decimal(value["yuan"]) if value else Decimal(0)
    return Decimal(0)


# ------------------------------------------------------------ the tests


def test_a_wrong_password_is_refused_on_the_page_and_the_login_limit_applies(driver, served):
    for attempt in range(5):
        log_in(driver, served, "ghost", "not-the-password")
        assert "wrong username or password" in driver.find_element(By.ID, "login-error").text
    log_in(driver, served, "ghost", "not-the-password")
    refused = driver.find_element(By.ID, "login-error").text
    assert "5 failed logins for the username ghost" in refused and "try again in" in refused
    assert driver.get_cookie("ledger_session") is None
    screenshot(driver, served, "login-throttled")


@pytest.mark.parametrize("username,allowed,refused", [
    ("finance", ["/glance", "/charts", "/statements"], ["/verify", "/proposals", f"/vouchers/{WANZHOU}/resident/{YEAR}"]),
    ("auditor", ["/glance", "/verify", f"/vouchers/{WANZHOU}/resident/{YEAR}", "/proposals"], []),
    ("accountant", ["/glance", "/proposals", f"/vouchers/{WANZHOU}/resident/{YEAR}"], ["/verify"]),
    ("checker", ["/glance", "/proposals"], ["/verify"]),
    ("admin", [], ["/glance", "/statements", "/verify"]),
])
def test_each_role_logs_in_and_sees_what_its_post_allows(driver, served, username, allowed, refused):
    log_in(driver, served, username)
    for path in allowed:
        open_page(driver, served, path)
        assert not driver.find_elements(By.ID, "refusal"), (path, driver.find_element(By.ID, "refusal").text)
        assert username in driver.find_element(By.ID, "who").text
    for path in refused:
        open_page(driver, served, path)
        assert f"user {username} may not" in driver.find_element(By.ID, "refusal").text, path
    screenshot(driver, served, f"role-{username}")


def test_the_glance_shows_the_apis_fiscal_accounts_statements_and_subsidies(driver, served):
    log_in(driver, served, "finance")
    assert driver.current_url.endswith("/glance")
    api = served.api("finance")
    fiscal = {(r["region"], r["scheme"]): Decimal(r["closing"])
              for r in api.get("/api/fiscal-accounts", params={"region": CHONGQING, "year": YEAR}).json()["items"]}
    rows = driver.find_elements(By.CSS_SELECTOR, "#glance tbody tr")
    assert len(rows) == len(fiscal) and len(rows) >= 5  # 万州区 and 江津区 at least, each resident and assistance, and the adjustment fund
    for row in rows:
        region, scheme = row.get_attribute("data-region"), row.get_attribute("data-scheme")
        statement = statement_json(api, "02", region, scheme)
        assert cell(row, "fiscal") == fiscal[(region, scheme)]
        assert cell(row, "income") == line_value(statement, "income_total", "this_year")
        assert cell(row, "income-last") == line_value(statement, "income_total", "last_year")
        assert cell(row, "expense") == line_value(statement, "expense_total", "this_year")
        assert cell(row, "expense-last") == line_value(statement, "expense_total", "last_year")
    assert shown_yuan(driver.find_element(By.ID, "fiscal-total").text) == sum(fiscal.values())
    subsidised = driver.find_elements(By.CSS_SELECTOR, "#subsidies tbody tr[data-region]")
    assert subsidised, "the demo's districts receive subsidies"
    for row in subsidised:
        statement = statement_json(api, "02", row.get_attribute("data-region"), row.get_attribute("data-scheme"))
        for level, account in (("central", "4101.01"), ("provincial", "4101.02"), ("prefecture", "4101.03"), ("county", "4101.04")):
            shown = shown_yuan(row.find_element(By.CSS_SELECTOR, f'[data-level="{level}"]').text)
            assert shown == line_value(statement, account, "this_year"), (level, row.text)
    screenshot(driver, served, "glance")


def test_the_chart_page_draws_each_funds_months_from_the_monthly_statements(driver, served):
    log_in(driver, served, "finance", then="/charts")
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "var c = document.getElementById('balance-resident'); return !!(c && window.Chart && Chart.getChart(c));"))
    api = served.api("finance")
    for month in (3, 11):
        monthly = statement_json(api, "02", CHONGQING, "resident", month=month, consolidated="true")
        row = driver.find_element(By.CSS_SELECTOR, f'#months-resident tr[data-month="{month}"]')
        assert cell(row, "income") == line_value(monthly, "income_total", "month")
        assert cell(row, "expense") == line_value(monthly, "expense_total", "month")
        assert cell(row, "balance") == line_value(monthly, "closing_fund", "year_to_date")
    annual = statement_json(api, "02", CHONGQING, "resident", consolidated="true")
    december = driver.find_element(By.CSS_SELECTOR, '#months-resident tr[data-month="12"]')
    assert cell(december, "balance") == line_value(annual, "closing_fund", "this_year")
    # The twelve months' income add up to the year's.
    incomes = [cell(r, "income") for r in driver.find_elements(By.CSS_SELECTOR, "#months-resident tbody tr")]
    assert len(incomes) == 12 and sum(incomes) == line_value(annual, "income_total", "this_year")
    drawn = driver.execute_script("return Chart.getChart(document.getElementById('balance-resident')).data.datasets[0].data;")
    assert [Decimal(str(v)).quantize(Decimal("0.01")) for v in drawn] == [
        cell(r, "balance") for r in driver.find_elements(By.CSS_SELECTOR, "#months-resident tbody tr")]
    screenshot(driver, served, "charts")


def test_a_statement_shows_the_apis_figures_traces_a_figure_and_downloads_as_xlsx(driver, served):
    log_in(driver, served, "auditor", then=f"/statements/01/{WANZHOU}/resident/{YEAR}")
    api = served.api("auditor")
    expected = statement_json(api, "01", WANZHOU, "resident")
    cells = driver.find_elements(By.CSS_SELECTOR, "#statement td[data-code]")
    assert len(cells) >= 20
    for shown in cells:
        if shown.text.strip():
            assert shown_yuan(shown.text) == line_value(expected, shown.get_attribute("data-code"), shown.get_attribute("data-column"))
    assert "资产负债表" in driver.find_element(By.CLASS_NAME, "form-title").text
    screenshot(driver, served, "statement-01")

    open_page(driver, served, f"/statements/02/{WANZHOU}/resident/{YEAR}")
    income = statement_json(api, "02", WANZHOU, "resident")
    central = driver.find_element(By.CSS_SELECTOR, 'td[data-code="4101.01"][data-column="this_year"] a')
    assert shown_yuan(central.text) == line_value(income, "4101.01", "this_year") > 0
    screenshot(driver, served, "statement-02")
    central.click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "figure"))
    assert shown_yuan(driver.find_element(By.ID, "figure").text) == line_value(income, "4101.01", "this_year")
    assert driver.find_element(By.ID, "agrees").text == "相符"
    documents = driver.find_elements(By.CSS_SELECTOR, "#lines a")
    assert documents and all("subsidy" in d.text or "close" in d.text for d in documents)
    screenshot(driver, served, "trace")

    documents[0].click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "signatures"))
    assert driver.find_element(By.ID, "prepared-by").text == "demo"
    assert all(link.text == "完好" for link in driver.find_elements(By.CSS_SELECTOR, "#events td.ok"))
    screenshot(driver, served, "document")

    cookie = {"ledger_session": driver.get_cookie("ledger_session")["value"]}
    xlsx = httpx2.get(f"{served.base}/statements/02/{WANZHOU}/resident/{YEAR}/xlsx", cookies=cookie, timeout=60)
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    figures = [row for row in sheet.iter_rows(values_only=True) if "其中：中央" in [str(v).strip() for v in row if v is not None]]
    assert figures and Decimal(str([v for v in figures[0] if isinstance(v, (int, float, Decimal))][-2])).quantize(Decimal("0.01")) \
        == line_value(income, "4101.01", "this_year")


def test_trial_balance_and_voucher_register_show_the_apis_figures(driver, served):
    log_in(driver, served, "auditor", then=f"/trial-balance/{WANZHOU}/{YEAR}?scheme=resident")
    api = served.api("auditor")
    (expected,) = api.get(f"/api/trial-balance/{WANZHOU}/{YEAR}", params={"scheme": "resident"}).json()
    by_account = {(r["account"], str(r["tier"])): r for r in expected["rows"]}
    rows = driver.find_elements(By.CSS_SELECTOR, ".trial-balance tr[data-account]")
    assert len(rows) == len(by_account)
    for row in rows:
        wanted = by_account[(row.get_attribute("data-account"), row.get_attribute("data-tier"))]
        assert cell(row, "debit") == Decimal(wanted["debit"]) and cell(row, "credit") == Decimal(wanted["credit"])
    screenshot(driver, served, "trial-balance")

    open_page(driver, served, f"/vouchers/{WANZHOU}/resident/{YEAR}?month=6")
    register = api.get(f"/api/books/{WANZHOU}/resident/{YEAR}/vouchers", params={"month": 6}).json()
    shown = [r.find_elements(By.TAG_NAME, "td")[0].text for r in driver.find_elements(By.CSS_SELECTOR, "#vouchers tbody tr")]
    assert shown == [v["voucher"] for v in register["vouchers"]]
    assert "consecutive, none missing" in driver.find_element(By.ID, "proofs").text
    screenshot(driver, served, "vouchers")


def test_a_checker_approves_on_the_page_a_reversal_the_accountant_entered_on_the_page(driver, served):
    accountant = served.api("accountant")
    contribution = {"id": "WEB-C-1", "type": "contribution", "date": "2014-02-10", "region": WANZHOU, "scheme": "resident",
                    "tier": 1, "amount": "1120.00"}
    assert accountant.post("/api/documents", json=contribution).status_code == 201

    log_in(driver, served, "accountant", then="/documents/WEB-C-1")
    form = driver.find_element(By.ID, "reverse-form")
    driver.execute_script("arguments[0].value = '2014-02-11';", form.find_element(By.NAME, "date"))
    form.find_element(By.NAME, "memo").send_keys("金额录入错误，冲销后重新录入")
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/proposals"))
    row = driver.find_element(By.CSS_SELECTOR, '#proposals tr[data-document="WEB-C-1-RV"]')
    assert "本人提交，待他人审核" in row.text and not row.find_elements(By.CSS_SELECTOR, "button.approve")
    screenshot(driver, served, "proposal-entered")

    log_in(driver, served, "checker", then="/proposals")
    row = driver.find_element(By.CSS_SELECTOR, '#proposals tr[data-document="WEB-C-1-RV"]')
    screenshot(driver, served, "proposals-waiting")
    row.find_element(By.CSS_SELECTOR, "button.approve").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "signatures"))
    assert driver.find_element(By.ID, "prepared-by").text == "accountant"
    assert driver.find_element(By.ID, "checked-by").text == "checker"
    screenshot(driver, served, "reversal-approved")

    # Worked by hand: 1,120.00 credited to 4001.01 tier 1 and debited back by the reversal; nothing left.
    balances = accountant.get(f"/api/books/{WANZHOU}/resident/2014/balances", params={"account": "4001.01"}).json()["rows"]
    (tier_1,) = [r for r in balances if r["tier"] == 1]
    assert (tier_1["debit"], tier_1["credit"], tier_1["balance"]) == ("1120.00", "1120.00", "0.00")


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(driver, served):
    accountant = served.api("accountant")
    assert accountant.post("/api/documents", json={"id": "WEB-C-2", "type": "contribution", "date": "2014-02-12", "region": WANZHOU,
                                                   "scheme": "resident", "tier": 1, "amount": "50.00"}).status_code == 201
    entered = accountant.post("/api/proposals", json={"id": "WEB-C-2-RV", "type": "reversal", "date": "2014-02-13", "reverses": "WEB-C-2"})
    assert entered.status_code == 201, entered.text
    log_in(driver, served, "checker", then="/proposals")
    cookie = {"ledger_session": driver.get_cookie("ledger_session")["value"]}
    forged = httpx2.post(f"{served.base}/proposals/{entered.json()['proposal_id']}/approve", data={"csrf": "0" * 64},
                        cookies=cookie, timeout=60, follow_redirects=False)
    assert forged.status_code == 403 and "reload the page" in forged.text
    waiting = accountant.get("/api/proposals", params={"status": "pending"}).json()["items"]
    assert "WEB-C-2-RV" in [p["document_id"] for p in waiting]


def test_a_district_finance_officer_sees_only_their_district(driver, served):
    log_in(driver, served, "wz-finance")
    regions = {row.get_attribute("data-region") for row in driver.find_elements(By.CSS_SELECTOR, "#glance tbody tr")}
    assert regions == {WANZHOU}
    assert "不在您的管辖范围内" in driver.find_element(By.ID, "hidden-books").text
    screenshot(driver, served, "district-glance")
    for path in (f"/statements/02/{JIANGJIN}/resident/{YEAR}", f"/charts?region={CHONGQING}",
                 f"/statements/02/{CHONGQING}/resident/{YEAR}?consolidated=true", f"/trial-balance/{JIANGJIN}/{YEAR}"):
        open_page(driver, served, path)
        refusal = driver.find_element(By.ID, "refusal").text
        assert "user wz-finance may not" in refusal and ("500116" in refusal or "500000" in refusal), path
    screenshot(driver, served, "district-refused")


def test_logging_out_ends_the_session(driver, served):
    log_in(driver, served, "auditor")
    secret = driver.get_cookie("ledger_session")["value"]
    driver.find_element(By.ID, "logout").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" in d.current_url)
    again = httpx2.get(f"{served.base}/glance", cookies={"ledger_session": secret}, timeout=60, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    try:
        WebDriverWait(driver, 1).until(lambda d: d.get_cookie("ledger_session"))
        pytest.fail("the cookie outlived the logout")
    except TimeoutException:
        pass
