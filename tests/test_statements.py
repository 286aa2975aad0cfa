"""The official statements (资产负债表 会社保01表, 收支表 会社保02表), from worked examples.

Every expected figure below was worked out by hand from the standard entries
of DOMAIN.md §2 (the comments show the sums), never read back from the code.
A statement is shown as {line code: (figure per column)} listing only the
lines with a figure other than zero, so a line that is missing shows zero in
every column; None is a cell the form leaves blank (a month's fund balances).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text

from ledger.documents import read_document
from ledger.statements import Period, Scope, StatementInvariantError, StatementRequestError, compute
from ledger.statements.render import to_json

WANZHOU = "500101"  # 万州区, a general district of Chongqing
JIANGJIN = "500116"  # 江津区
CHONGQING = "500000"  # the municipality, holder of the adjustment fund
RESIDENT = {"region": WANZHOU, "scheme": "resident"}


def post(ledger, *documents, actor="accountant"):
    outcomes = [ledger.post_one(read_document(document, actor)) for document in documents]
    assert [o.status for o in outcomes] == ["posted"] * len(documents), [str(o.error) for o in outcomes]


def yuan(amount_fen):
    if amount_fen is None:
        return None
    sign = "-" if amount_fen < 0 else ""
    return f"{sign}{abs(amount_fen) // 100}.{abs(amount_fen) % 100:02d}"


def shown(statement):
    """{code: (yuan per column)} for every line with a non-zero figure."""
    return {
        line.spec.code: tuple(yuan(v) for v in line.values)
        for line in statement.lines
        if any(v for v in line.values)
    }


def statement(ledger, form, year, month=None, region=WANZHOU, scheme="resident", **more):
    as_of = more.pop("as_of", None)
    known_on = more.pop("known_on", None)
    scope = Scope(region, scheme, **more)
    return compute(ledger, form, scope, Period(year, month, as_of), known_on=known_on)


# ------------------------------------------------------------------ a district's year 2012

YEAR_2012 = [
    # 100 tier-1 residents pay 10.00 each into the income account; 5 tier-2 residents 120.00 each.
    {**RESIDENT, "id": "C-1", "type": "contribution", "date": "2012-01-05", "tier": 1, "amount": "1000.00"},
    {**RESIDENT, "id": "C-2", "type": "contribution", "date": "2012-01-05", "tier": 2, "amount": "600.00"},
    {**RESIDENT, "id": "S-1", "type": "subsidy", "date": "2012-01-20", "level": "central", "tier": 1, "amount": "2000.00"},
    {**RESIDENT, "id": "T-1", "type": "transfer", "date": "2012-01-31", "from": "income", "to": "fiscal", "amount": "1600.00"},
    {**RESIDENT, "id": "T-2", "type": "transfer", "date": "2012-02-01", "from": "fiscal", "to": "payment", "amount": "1500.00"},
    {**RESIDENT, "id": "CL-1", "type": "claim", "date": "2012-03-10", "category": "inpatient", "tier": 1, "amount": "500.00"},
    {"id": "R-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "240.00"},
    {"id": "G-1", "type": "grant", "date": "2012-11-30", "region": WANZHOU, "tier": 1, "amount": "100.00"},
]
CLOSE_2012 = {**RESIDENT, "id": "YC-2012", "type": "year_close", "year": 2012}

# By hand, for 万州's resident book at the end of 2012:
#   1002: 1000.00 + 600.00 − 1600.00 swept = 0
#   1003: 2000.00 subsidy + 1600.00 swept − 1500.00 funded − 240.00 remitted + 100.00 granted = 1960.00
#   1004: 1500.00 funded − 500.00 claim = 1000.00              assets 2960.00
#   income: 4001.01 1000.00 (tier 1) + 600.00 (tier 2) = 1600.00; 4101.01 2000.00; 4401 100.00 → 3700.00
#   expense: 5001.01 500.00; 5301 240.00 → 740.00                surplus 2960.00
#   fund tier 1: 1000.00 + 2000.00 + 100.00 − 500.00 − 240.00 = 2360.00; tier 2: 600.00 → 2960.00 = assets
BALANCE_SHEET_2012 = {  # (年初余额, 期末余额)
    "1003": ("0.00", "1960.00"),
    "1004": ("0.00", "1000.00"),
    "assets_total": ("0.00", "2960.00"),
    "3001": ("0.00", "2960.00"),
    "3001:1": ("0.00", "2360.00"),
    "3001:2": ("0.00", "600.00"),
    "fund_total": ("0.00", "2960.00"),
    "liabilities_and_fund_total": ("0.00", "2960.00"),
}
INCOME_2012 = {  # 本年数 of 2012
    "income_total": "3700.00",
    "4001": "1600.00",
    "4001.01": "1600.00",
    "4101": "2000.00",
    "4101.01": "2000.00",
    "4401": "100.00",
    "expense_total": "740.00",
    "5001": "500.00",
    "5001.01": "500.00",
    "5301": "240.00",
    "surplus": "2960.00",  # 3700.00 − 740.00
    "closing_fund": "2960.00",  # 年初 0 + 2960.00 + 0
}


def test_balance_sheet_of_one_book_before_and_after_the_year_close(ledger):
    post(ledger, *YEAR_2012)
    before = statement(ledger, "01", 2012)
    # Before the close 3001 holds nothing yet: 一般基金结余 is the year's income less expense so far.
    assert shown(before) == BALANCE_SHEET_2012
    assert [c.name for c in before.columns] == ["年初余额", "期末余额"]
    # 18 is our 其中 line of 暂收款 (money held for hardship residents), printed under row 9.
    assert [line.spec.row for line in before.lines] == [*range(1, 10), 18, *range(10, 18)]
    post(ledger, CLOSE_2012)
    # The close moves income and expense into 3001 tier by tier: the balance sheet does not change.
    assert shown(statement(ledger, "01", 2012)) == BALANCE_SHEET_2012


def test_annual_income_statement_still_shows_the_years_income_and_expense_after_the_close(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012)
    annual = statement(ledger, "02", 2012)
    assert [c.name for c in annual.columns] == ["本年数", "上年数"]
    # No 2011 book: 上年数 is zero throughout.
    assert shown(annual) == {code: (value, "0.00") for code, value in INCOME_2012.items()}
    # A resident fund shows none of the assistance fund's own expense lines, and does show 城乡医疗救助资助收入.
    codes = {line.spec.code for line in annual.lines}
    assert "5501" not in codes and "5502.01" not in codes and "4001.02" in codes


def test_monthly_statements_of_june_2012(ledger):
    post(ledger, *YEAR_2012)
    # June: only the remittance of 240.00. To 30 June: income 1600.00 + 2000.00 = 3600.00, expense 500.00 + 240.00.
    june = statement(ledger, "02", 2012, month=6)
    assert [c.name for c in june.columns] == ["本月数", "本年累计数"]
    assert shown(june) == {
        "income_total": ("0.00", "3600.00"),
        "4001": ("0.00", "1600.00"),
        "4001.01": ("0.00", "1600.00"),
        "4101": ("0.00", "2000.00"),
        "4101.01": ("0.00", "2000.00"),
        "expense_total": ("240.00", "740.00"),
        "5001": ("0.00", "500.00"),
        "5001.01": ("0.00", "500.00"),
        "5301": ("240.00", "240.00"),
        "surplus": ("-240.00", "2860.00"),
        # A month's column leaves the fund balances blank; the year's shows 年初 0 + 2860.00 + 0.
        "closing_fund": (None, "2860.00"),
    }
    assert (june.value("opening_fund", "month"), june.value("opening_fund", "year_to_date")) == (None, 0)
    # 30 June: 1003 = 2000.00 + 1600.00 − 1500.00 − 240.00 = 1860.00; tier 1 = 1000 + 2000 − 500 − 240.
    assert shown(statement(ledger, "01", 2012, month=6)) == {
        "1003": ("0.00", "1860.00"),
        "1004": ("0.00", "1000.00"),
        "assets_total": ("0.00", "2860.00"),
        "3001": ("0.00", "2860.00"),
        "3001:1": ("0.00", "2260.00"),
        "3001:2": ("0.00", "600.00"),
        "fund_total": ("0.00", "2860.00"),
        "liabilities_and_fund_total": ("0.00", "2860.00"),
    }


def test_the_december_statement_of_a_closed_year(ledger):
    # A December claim of 100.00 (1004 holds 1000.00), then the close. The month's column is
    # December's flows alone, the close not among them; the year's column is the whole year.
    december_claim = {**RESIDENT, "id": "CL-DEC", "type": "claim", "date": "2012-12-20", "category": "inpatient", "tier": 1, "amount": "100.00"}
    post(ledger, *YEAR_2012, december_claim, CLOSE_2012)
    december = statement(ledger, "02", 2012, month=12)
    assert [c.name for c in december.columns] == ["本月数", "本年累计数"]
    # By hand: 本年累计 income 3700.00 as for the year; expense 740.00 + 100.00 = 840.00; surplus 2860.00.
    assert shown(december) == {
        "income_total": ("0.00", "3700.00"),
        "4001": ("0.00", "1600.00"),
        "4001.01": ("0.00", "1600.00"),
        "4101": ("0.00", "2000.00"),
        "4101.01": ("0.00", "2000.00"),
        "4401": ("0.00", "100.00"),
        "expense_total": ("100.00", "840.00"),
        "5001": ("100.00", "600.00"),
        "5001.01": ("100.00", "600.00"),
        "5301": ("0.00", "240.00"),
        "surplus": ("-100.00", "2860.00"),
        "closing_fund": (None, "2860.00"),
    }


# ------------------------------------------------------------------ the next year: 年初余额 and 上年数

YEAR_2013 = [
    {**RESIDENT, "id": "S-2", "type": "subsidy", "date": "2013-01-20", "level": "central", "tier": 1, "amount": "2000.00"},
    {**RESIDENT, "id": "CL-2", "type": "claim", "date": "2013-03-15", "category": "outpatient", "tier": 2, "amount": "300.00"},
    {**RESIDENT, "id": "I-1", "type": "interest", "date": "2013-06-21", "tier": 1, "amount": "12.34"},
]


def test_the_next_year_opens_with_the_carried_balances_and_compares_with_the_last(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    # 年初 = what the 2012 close carried. 期末: 1003 1960.00 + 2000.00 + 12.34 = 3972.34; 1004 1000.00 − 300.00.
    # Fund: tier 1 2360.00 + 2000.00 + 12.34 = 4372.34; tier 2 600.00 − 300.00 = 300.00.
    assert shown(statement(ledger, "01", 2013)) == {
        "1003": ("1960.00", "3972.34"),
        "1004": ("1000.00", "700.00"),
        "assets_total": ("2960.00", "4672.34"),
        "3001": ("2960.00", "4672.34"),
        "3001:1": ("2360.00", "4372.34"),
        "3001:2": ("600.00", "300.00"),
        "fund_total": ("2960.00", "4672.34"),
        "liabilities_and_fund_total": ("2960.00", "4672.34"),
    }
    # 本年数: income 2000.00 + 12.34, expense 300.00; 期末 = 2960.00 + 1712.34. 上年数: 2012's year.
    last_year = dict(INCOME_2012)
    assert shown(statement(ledger, "02", 2013)) == {
        "income_total": ("2012.34", last_year["income_total"]),
        "4001": ("0.00", "1600.00"),
        "4001.01": ("0.00", "1600.00"),
        "4101": ("2000.00", "2000.00"),
        "4101.01": ("2000.00", "2000.00"),
        "4201": ("12.34", "0.00"),
        "4401": ("0.00", "100.00"),
        "expense_total": ("300.00", "740.00"),
        "5001": ("300.00", "500.00"),
        "5001.01": ("0.00", "500.00"),
        "5001.02": ("300.00", "0.00"),
        "5301": ("0.00", "240.00"),
        "surplus": ("1712.34", "2960.00"),
        "opening_fund": ("2960.00", "0.00"),
        "closing_fund": ("4672.34", "2960.00"),
    }


def test_as_of_a_past_date_takes_the_figures_at_that_date(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    # 28 February 2013: only the subsidy of 20 January has happened: 1003 1960.00 + 2000.00.
    february = statement(ledger, "01", 2013, as_of=date(2013, 2, 28))
    assert february.value("1003", "closing") == 396000
    assert february.value("1004", "closing") == 100000
    assert february.value("fund_total", "closing") == 496000
    # June to the 20th: the interest of the 21st is not in it.
    june = statement(ledger, "02", 2013, month=6, as_of=date(2013, 6, 20))
    assert june.value("4201", "month") == 0
    assert june.value("income_total", "year_to_date") == 200000
    with pytest.raises(StatementRequestError, match="after the period"):
        statement(ledger, "02", 2013, month=6, as_of=date(2013, 7, 1))


def test_known_on_shows_the_statement_as_it_stood_before_a_back_dated_claim(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    issued_then = datetime.now(timezone.utc)
    # A March claim that arrives later: 200.00 inpatient, tier 1, dated back into March.
    post(ledger, {**RESIDENT, "id": "CL-3", "type": "claim", "date": "2013-03-20", "category": "inpatient", "tier": 1, "amount": "200.00"})
    now = statement(ledger, "02", 2013, month=3)
    then = statement(ledger, "02", 2013, month=3, known_on=issued_then)
    # March as known now: 300.00 + 200.00 of claims; as known then: 300.00.
    assert now.value("expense_total", "month") == 50000
    assert then.value("expense_total", "month") == 30000
    # To 31 March: fund 2960.00 + 2000.00 − 300.00 = 4660.00 then, 200.00 less now.
    assert then.value("closing_fund", "year_to_date") == 466000
    assert now.value("closing_fund", "year_to_date") == 446000
    assert then.known_on is not None and any("As known on" in note for note in then.notes)


# ------------------------------------------------------------------ reopening a closed year


def test_a_reopened_year_is_listed_and_its_second_close_carries_the_difference(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    post(
        ledger,
        {**RESIDENT, "id": "RO-2012", "type": "period_reopen", "year": 2012, "reason": "a December outpatient claim came late"},
        {**RESIDENT, "id": "CL-9", "type": "claim", "date": "2012-12-20", "category": "outpatient", "tier": 1, "amount": "50.00"},
        actor="chief accountant",
    )
    # Reopened, not closed again: the year's income and expense need not be zero, and the claim shows.
    reopened = statement(ledger, "02", 2012)
    assert reopened.value("expense_total", "this_year") == 79000  # 740.00 + 50.00
    post(ledger, {**CLOSE_2012, "id": "YC-2012-again"})
    closed = statement(ledger, "01", 2012)
    # 1004 1000.00 − 50.00 = 950.00; fund tier 1 2360.00 − 50.00 = 2310.00.
    assert closed.value("1004", "closing") == 95000
    assert closed.value("3001:1", "closing") == 231000
    (reopening,) = closed.reopenings
    assert (reopening.book, reopening.period, reopening.actor, reopening.reason) == (
        "500101/resident/2012", "2012", "chief accountant", "a December outpatient claim came late"
    )
    # 2013 opens with the first carry (2960.00) plus the second (−50.00 on 1004 and on tier 1), and lists the reopening.
    next_year = statement(ledger, "01", 2013)
    assert next_year.value("1004", "opening") == 95000
    assert next_year.value("3001:1", "opening") == 231000
    assert next_year.value("assets_total", "opening") == 291000
    assert [r.document_id for r in next_year.reopenings] == ["RO-2012"]


# ------------------------------------------------------------------ a municipality, consolidated

MUNICIPALITY_2012 = [
    {"id": "WS-1", "type": "subsidy", "date": "2012-01-20", "region": WANZHOU, "scheme": "resident", "level": "central", "tier": 1, "amount": "1000.00"},
    {"id": "JS-1", "type": "subsidy", "date": "2012-01-20", "region": JIANGJIN, "scheme": "resident", "level": "central", "tier": 1, "amount": "2000.00"},
    {"id": "JR-1", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"},
    {"id": "WR-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "100.00"},
    # A remittance sent by mistake and reversed: it must cancel in both books and in the eliminations.
    {"id": "WR-2", "type": "remittance", "date": "2012-07-10", "region": WANZHOU, "tier": 1, "amount": "50.00"},
    {"id": "WR-2-REV", "type": "reversal", "date": "2012-07-11", "reverses": "WR-2"},
    {"id": "G-1", "type": "grant", "date": "2012-11-30", "region": WANZHOU, "tier": 1, "amount": "300.00"},
]
# By hand: 万州 1003 1000.00 − 100.00 − 50.00 + 50.00 + 300.00 = 1200.00; 江津 2000.00 − 400.00 = 1600.00;
# the adjustment book 400.00 + 100.00 + 50.00 − 50.00 − 300.00 = 200.00.


def test_consolidation_with_the_adjustment_fund_eliminates_remittances_and_grants_between_its_books(ledger):
    post(ledger, *MUNICIPALITY_2012)
    consolidated = statement(ledger, "02", 2012, region=CHONGQING, consolidated=True, with_adjustment=True)
    # Summed, before eliminating: income 3000.00 subsidies + 300.00 grant received (4401) + 500.00 remitted in
    # (4402: 400 + 100 + 50 − 50); expense 500.00 remitted out (5301) + 300.00 granted (5302). Every one of those
    # documents posted to two books of the scope, so all four lines go: income 3000.00, expense 0.
    assert shown(consolidated) == {
        "income_total": ("3000.00", "0.00"),
        "4101": ("3000.00", "0.00"),
        "4101.01": ("3000.00", "0.00"),
        "surplus": ("3000.00", "0.00"),
        "closing_fund": ("3000.00", "0.00"),
    }
    # Eliminated as much income (300.00 + 500.00) as expense (500.00 + 300.00): 本期基金结余 is unchanged.
    assert {line.spec.code: yuan(line.values[0]) for line in consolidated.eliminations} == {
        "4401": "300.00",
        "4402": "500.00",
        "5301": "500.00",
        "5302": "300.00",
    }
    assert sorted((d.document_id, yuan(d.amount_fen)) for d in consolidated.eliminated_documents) == [
        ("G-1", "300.00"), ("JR-1", "400.00"), ("WR-1", "100.00"), ("WR-2", "50.00"), ("WR-2-REV", "50.00"),
    ]
    # The balance sheet needs no elimination: remittances are settled in cash, so nothing is owed between books.
    # 1003 1200.00 + 1600.00 + 200.00; the tier lines leave out the adjustment fund's untiered 200.00.
    assert shown(statement(ledger, "01", 2012, region=CHONGQING, consolidated=True, with_adjustment=True)) == {
        "1003": ("0.00", "3000.00"),
        "assets_total": ("0.00", "3000.00"),
        "3001": ("0.00", "3000.00"),
        "3001:1": ("0.00", "2800.00"),
        "fund_total": ("0.00", "3000.00"),
        "liabilities_and_fund_total": ("0.00", "3000.00"),
    }


def test_consolidation_without_the_adjustment_fund_keeps_its_remittances_and_grants(ledger):
    post(ledger, *MUNICIPALITY_2012)
    districts = statement(ledger, "02", 2012, region=CHONGQING, consolidated=True)
    # The other side of each remittance and grant is the adjustment book, outside this scope: nothing is eliminated.
    # Income 3000.00 + 300.00 granted; expense 100.00 + 50.00 − 50.00 + 400.00 = 500.00; surplus 2800.00 = 1200 + 1600.
    assert shown(districts) == {
        "income_total": ("3300.00", "0.00"),
        "4101": ("3000.00", "0.00"),
        "4101.01": ("3000.00", "0.00"),
        "4401": ("300.00", "0.00"),
        "expense_total": ("500.00", "0.00"),
        "5301": ("500.00", "0.00"),
        "surplus": ("2800.00", "0.00"),
        "closing_fund": ("2800.00", "0.00"),
    }
    assert districts.eliminated_documents == ()
    assert {b.key for b in districts.books} == {"500101/resident/2012", "500116/resident/2012"}


def test_a_consolidated_month_eliminates_only_what_falls_in_each_column(ledger):
    post(ledger, *MUNICIPALITY_2012)
    november = statement(ledger, "02", 2012, month=11, region=CHONGQING, consolidated=True, with_adjustment=True)
    # November holds only the grant: eliminated in 本月数; the year to date eliminates everything as above.
    assert [(d.column, d.document_id) for d in november.eliminated_documents if d.column == "month"] == [("month", "G-1")]
    assert november.value("expense_total", "month") == 0
    assert november.value("income_total", "year_to_date") == 300000


def test_a_remittance_known_only_in_part_is_not_eliminated(ledger):
    post(ledger, *MUNICIPALITY_2012)
    with ledger.engine.connect() as connection:
        district_time, city_time = connection.execute(
            text("SELECT recorded_at FROM proj_lines WHERE document_id = 'WR-1' AND account IN ('5301', '4402') ORDER BY account DESC")
        ).scalars()
    if district_time >= city_time:
        pytest.skip("the two events of the remittance were recorded in the same microsecond")
    # Known on the moment the district's side was recorded but not yet the adjustment book's: the district has paid
    # 100.00 (5301) that nobody has received yet. Removing it from expense alone would overstate the result, so it
    # stays; JR-1, known in full, goes. Income 3000.00, expense 100.00, surplus 2900.00 =
    # 万州 1000.00 − 100.00 + 江津 1600.00 + the adjustment book's 400.00.
    partial = statement(ledger, "02", 2012, region=CHONGQING, consolidated=True, with_adjustment=True, known_on=district_time)
    assert [d.document_id for d in partial.eliminated_documents] == ["JR-1"]
    assert partial.value("expense_total", "this_year") == 10000
    assert partial.value("surplus", "this_year") == 290000
    assert partial.value("closing_fund", "this_year") == 290000


def test_a_consolidated_statement_needs_a_municipality_and_the_adjustment_flag_needs_consolidation(ledger):
    post(ledger, *MUNICIPALITY_2012)
    with pytest.raises(StatementRequestError, match="not a municipality"):
        statement(ledger, "02", 2012, region=WANZHOU, consolidated=True)
    with pytest.raises(StatementRequestError, match="--consolidated"):
        statement(ledger, "02", 2012, with_adjustment=True)
    with pytest.raises(StatementRequestError, match="no resident book of 500101 for 2011"):
        statement(ledger, "01", 2011)


# ------------------------------------------------------------------ other funds


def test_the_assistance_fund_shows_its_own_expense_lines(ledger):
    post(
        ledger,
        {"id": "AS-1", "type": "subsidy", "date": "2012-01-15", "region": WANZHOU, "scheme": "assistance", "level": "central", "amount": "10000.00"},
        {"id": "AT-1", "type": "transfer", "date": "2012-01-16", "region": WANZHOU, "scheme": "assistance", "from": "fiscal", "to": "payment", "amount": "3000.00"},
        {"id": "SP-1", "type": "sponsorship", "date": "2012-01-20", "region": WANZHOU, "tier": 2, "persons": 10, "amount": "600.00"},
        {"id": "A-1", "type": "assistance", "date": "2012-04-01", "region": WANZHOU, "category": "inpatient", "amount": "1200.00"},
    )
    assistance = statement(ledger, "02", 2012, scheme="assistance")
    # Income 10000.00; expense 600.00 资助参保支出 + 1200.00 住院救助; surplus 8200.00.
    assert shown(assistance) == {
        "income_total": ("10000.00", "0.00"),
        "4101": ("10000.00", "0.00"),
        "4101.01": ("10000.00", "0.00"),
        "expense_total": ("1800.00", "0.00"),
        "5501": ("600.00", "0.00"),
        "5502": ("1200.00", "0.00"),
        "5502.02": ("1200.00", "0.00"),
        "surplus": ("8200.00", "0.00"),
        "closing_fund": ("8200.00", "0.00"),
    }
    codes = {line.spec.code for line in assistance.lines}
    assert "5001" not in codes and "4001.02" not in codes  # insurance benefits are not the assistance fund's
    # The resident book received the sponsorship as 城乡医疗救助资助收入, tier 2.
    assert statement(ledger, "02", 2012).value("4001.02", "this_year") == 60000
    assert statement(ledger, "01", 2012).value("3001:2", "closing") == 60000


def test_the_worker_fund_shows_its_pooled_fund_and_individual_accounts(ledger):
    worker = {"region": WANZHOU, "scheme": "worker"}
    post(
        ledger,
        {**worker, "id": "WC-1", "type": "contribution", "date": "2012-02-01", "amount": "800.00"},
        {**worker, "id": "WJ-1", "type": "journal", "date": "2012-02-02", "purpose": "individual accounts' share",
         "postings": [{"account": "3001.01", "debit": "300.00"}, {"account": "3001.02", "credit": "300.00"}]},
    )
    # Income 800.00 closes into 统筹基金 (3001.01); the journal moved 300.00 of it to 个人账户: 500.00 and 300.00.
    assert shown(statement(ledger, "01", 2012, scheme="worker")) == {
        "1002": ("0.00", "800.00"),
        "assets_total": ("0.00", "800.00"),
        "3001": ("0.00", "800.00"),
        "3001.01": ("0.00", "500.00"),
        "3001.02": ("0.00", "300.00"),
        "fund_total": ("0.00", "800.00"),
        "liabilities_and_fund_total": ("0.00", "800.00"),
    }
    # The journal moves the fund between its parts: 其他基金变动 is +300.00 − 300.00 = 0.
    assert statement(ledger, "02", 2012, scheme="worker").value("other_fund", "this_year") == 0


# ------------------------------------------------------------------ invariants


def test_a_tampered_line_makes_the_statement_refuse_naming_the_invariant_and_both_figures(ledger):
    post(ledger, *YEAR_2012)
    with ledger.engine.begin() as connection:
        connection.execute(text("UPDATE proj_lines SET amount_fen = amount_fen + 1 WHERE document_id = 'C-1' AND account = '1002'"))
    with pytest.raises(StatementInvariantError) as refused:
        statement(ledger, "01", 2012)
    message = str(refused.value)
    # 1002 now shows 0.01: assets 2960.01 against liabilities and fund 2960.00.
    assert "会社保01表 资产负债表 500101/resident 2012" in message
    assert "资产合计 = 负债和基金合计 fails in 期末余额: 资产合计 2960.01 ≠ 负债和基金合计 2960.00" in message
    # The income statement refuses too: the balance sheet its closing fund stands on does not balance.
    with pytest.raises(StatementInvariantError, match="资产合计 2960.01 ≠ 负债和基金合计 2960.00"):
        statement(ledger, "02", 2012)


def test_a_close_that_left_income_behind_is_refused(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012)
    # Make the close take 1.00 less out of 4001.01 tier 1 and put 1.00 less into 3001: still balanced,
    # but 4001.01 tier 1 keeps −1.00 after the close.
    with ledger.engine.begin() as connection:
        connection.execute(text(
            "UPDATE proj_lines SET amount_fen = amount_fen - 100 WHERE kind = 'YearClosed' AND account = '4001.01' AND tier = 1"
        ))
        connection.execute(text(
            "UPDATE proj_lines SET amount_fen = amount_fen + 100 WHERE kind = 'YearClosed' AND account = '3001' AND tier = 1"
        ))
    with pytest.raises(StatementInvariantError) as refused:
        statement(ledger, "02", 2012)
    assert "after the year-end close every income and expense account is zero fails in 500101/resident/2012: 4001.01 tier 1 balance -1.00 ≠ zero 0.00" in str(refused.value)


def test_every_statement_says_which_invariants_held_and_what_it_was_computed_from(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012)
    computed = to_json(statement(ledger, "01", 2012))
    assert "资产合计 = 负债和基金合计" in computed["checks"]
    assert computed["position"] > 0 and len(computed["source_hash"]) == 64
    # The books: 2012 (and none for 2011), at their version at that position, with their chain heads.
    assert [b["book"] for b in computed["books"]] == ["500101/resident/2012"]
    assert computed["lines"][2] == {
        "row": 3, "code": "1003", "name": "财政专户存款", "accounts": ["1003"], "level": 1, "total": False,
        "values": {"opening": {"yuan": "0.00", "fen": 0}, "closing": {"yuan": "1960.00", "fen": 196000}},
        "side": "assets",
    }
