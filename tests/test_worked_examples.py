"""Worked examples: short histories in the ledger's own input format, figures computed by hand.

Every expected figure below was worked out from the standard entries of
DOMAIN.md §2 and the Chongqing figures of §3.1 (tier 1 = 50 元: individual 10,
central 20, municipal 15, district 5 for a general district such as 万州区
500101), never read back from the code. Balances are shown in yuan, debit
positive and credit negative; a book's dict lists every non-zero balance, so an
account that is missing is an account whose balance is zero.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.projections import queries
from ledger.verify import verify

WANZHOU = "500101"  # 万州区, a general district of Chongqing
JIANGJIN = "500116"  # 江津区, another general district
CHONGQING = "500000"  # the municipality, holder of the adjustment fund
BEIHU = "431002"  # 北湖区 of 郴州市 (Hunan), a city with a prefecture level


def post(ledger, *lines):
    """Post raw documents in order; every one must be posted."""
    outcomes = list(ledger.post([read_document(line) for line in lines]))
    assert [o.status for o in outcomes] == ["posted"] * len(lines), [str(o.error) for o in outcomes]
    return outcomes


def yuan(amount_fen):
    return str(Decimal(amount_fen).scaleb(-2))


def balances(ledger, region, scheme, year):
    """Non-zero balances of one book: {"1003": "20.00", "4101.01:1": "-20.00"} (tier after the colon)."""
    rows = queries.book_balances(ledger.engine, book_id(BookKey(region, scheme, year)).hex)
    return {_key(r): yuan(r.balance_fen) for r in rows if r.balance_fen}


def municipality(ledger, code, year):
    rows = queries.municipality_balances(ledger.engine, code, None, year)
    return {_key(r): yuan(r.balance_fen) for r in rows if r.balance_fen}


def _key(row):
    return f"{row.account}:{row.tier}" if row.tier else row.account


def fiscal(ledger, region, scheme, year):
    """The fiscal special account (1003) as the finance bureau sees it: opening, receipts, payments, closing."""
    (row,) = [r for r in queries.fiscal_accounts(ledger.engine, region, year) if (r.region, r.scheme) == (region, scheme)]
    return tuple(yuan(f) for f in (row.opening_fen, row.receipts_fen, row.payments_fen, row.closing_fen))


def tier1_subsidies(year, region=WANZHOU, persons=100):
    """The fiscal subsidy for `persons` tier-1 urban residents of a general district: 20 + 15 + 5 = 40 元 each."""
    return [
        {"id": f"S-{region}-{year}-central", "type": "subsidy", "date": f"{year}-01-20", "region": region,
         "scheme": "resident", "level": "central", "tier": 1, "amount": f"{20 * persons}.00"},
        {"id": f"S-{region}-{year}-municipal", "type": "subsidy", "date": f"{year}-01-20", "region": region,
         "scheme": "resident", "level": "provincial", "tier": 1, "amount": f"{15 * persons}.00"},
        {"id": f"S-{region}-{year}-district", "type": "subsidy", "date": f"{year}-01-20", "region": region,
         "scheme": "resident", "level": "county", "tier": 1, "amount": f"{5 * persons}.00"},
    ]


# What tier1_subsidies(...) leaves on the income side for 100 persons.
SUBSIDY_INCOME_100 = {
    "4101.01:1": "-2000.00",  # central 20 × 100
    "4101.02:1": "-1500.00",  # municipal 15 × 100
    "4101.04:1": "-500.00",  # district 5 × 100
}


# ------------------------------------------------------------------ income


def test_contributions_go_to_the_account_they_were_paid_into_under_the_payers_income_line(ledger):
    post(
        ledger,
        # 100 tier-1 residents pay their own 10 元 into the income account.
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "persons": 100, "amount": "1000.00"},
        # 10 tier-2 residents pay 160 − 40 subsidy = 120 元 each.
        {"id": "C-2", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 2, "persons": 10, "amount": "1200.00"},
        # Finance pays 10 元 for each of 5 hardship residents straight into the fiscal account.
        {"id": "C-3", "type": "contribution", "date": "2012-01-06", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "payer": "finance", "into": "fiscal", "persons": 5, "amount": "50.00"},
        # 3 residents pay through the tax bureau's treasury account.
        {"id": "C-4", "type": "contribution", "date": "2012-01-07", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "into": "treasury", "persons": 3, "amount": "30.00"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1002": "2200.00",  # 1000.00 + 1200.00
        "1003": "50.00",  # finance's 5 × 10.00
        "1005": "30.00",  # 3 × 10.00
        "4001.01:1": "-1030.00",  # 1000.00 + 30.00, tier 1
        "4001.01:2": "-1200.00",  # tier 2 kept apart
        "4001.03:1": "-50.00",  # 财政代缴
    }
    # Fiscal account: nothing brought forward, 50.00 in, nothing out.
    assert fiscal(ledger, WANZHOU, "resident", 2012) == ("0.00", "50.00", "0.00", "50.00")


def test_each_subsidy_level_credits_its_own_income_line(ledger):
    post(ledger, *tier1_subsidies(2012))
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "4000.00",  # 2000.00 + 1500.00 + 500.00 = 100 persons × 40 元
        **SUBSIDY_INCOME_100,
    }
    assert fiscal(ledger, WANZHOU, "resident", 2012) == ("0.00", "4000.00", "0.00", "4000.00")


def test_a_prefecture_level_subsidy_credits_4101_03(ledger):
    # Chenzhou 2017: 570 元 funding, individual 150, so 420 元 subsidy per person.
    # The split below (central 252, provincial 84, prefecture 42, county 42) is illustrative.
    subsidy = {"type": "subsidy", "date": "2017-03-01", "region": BEIHU, "scheme": "resident", "tier": 1}
    post(
        ledger,
        {**subsidy, "id": "CZ-1", "level": "central", "amount": "2520.00"},
        {**subsidy, "id": "CZ-2", "level": "provincial", "amount": "840.00"},
        {**subsidy, "id": "CZ-3", "level": "prefecture", "amount": "420.00"},
        {**subsidy, "id": "CZ-4", "level": "county", "amount": "420.00"},
    )
    assert balances(ledger, BEIHU, "resident", 2017) == {
        "1003": "4200.00",  # 2520 + 840 + 420 + 420 = 10 persons × 420
        "4101.01:1": "-2520.00",
        "4101.02:1": "-840.00",
        "4101.03:1": "-420.00",
        "4101.04:1": "-420.00",
    }


# ------------------------------------------------------------------ moving money


def test_sweep_to_the_fiscal_account_and_funding_of_the_payment_account(ledger):
    post(
        ledger,
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "1000.00"},
        *tier1_subsidies(2012),
        {"id": "T-1", "type": "transfer", "date": "2012-01-31", "region": WANZHOU, "scheme": "resident",
         "from": "1002", "to": "1003", "amount": "1000.00"},
        {"id": "T-2", "type": "transfer", "date": "2012-02-01", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "3000.00"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        # 1002: 1000.00 collected − 1000.00 swept = 0, so absent.
        "1003": "2000.00",  # 4000.00 subsidy + 1000.00 swept − 3000.00 funded
        "1004": "3000.00",  # funded
        "4001.01:1": "-1000.00",
        **SUBSIDY_INCOME_100,
    }
    # Receipts 4000.00 subsidy + 1000.00 sweep; payments 3000.00 to 1004.
    assert fiscal(ledger, WANZHOU, "resident", 2012) == ("0.00", "5000.00", "3000.00", "2000.00")
    assert verify(ledger).agrees


# ------------------------------------------------------------------ paying out


def test_claims_are_paid_from_the_payment_account_under_their_category(ledger):
    post(
        ledger,
        *tier1_subsidies(2012),
        {"id": "T-1", "type": "transfer", "date": "2012-02-01", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "3000.00"},
        # 80% of 1500.00 in-policy cost at a level-1 hospital, tier 1.
        {"id": "CL-1", "type": "claim", "date": "2012-03-10", "region": WANZHOU, "scheme": "resident",
         "category": "inpatient", "tier": 1, "amount": "1200.00"},
        {"id": "CL-2", "type": "claim", "date": "2012-03-11", "region": WANZHOU, "scheme": "resident",
         "category": "outpatient", "tier": 1, "amount": "300.00"},
        # Maternity: 100 元 prenatal + 400 元 delivery.
        {"id": "CL-3", "type": "claim", "date": "2012-03-12", "region": WANZHOU, "scheme": "resident",
         "category": "other", "tier": 1, "amount": "500.00"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "1000.00",  # 4000.00 − 3000.00 funded
        "1004": "1000.00",  # 3000.00 − 1200.00 − 300.00 − 500.00
        "5001.01:1": "1200.00",
        "5001.02:1": "300.00",
        "5001.03:1": "500.00",
        **SUBSIDY_INCOME_100,
    }
    assert verify(ledger).agrees


def test_assistance_is_paid_from_the_assistance_books_own_payment_account(ledger):
    post(
        ledger,
        {"id": "AS-1", "type": "subsidy", "date": "2012-01-15", "region": WANZHOU, "scheme": "assistance",
         "level": "central", "amount": "10000.00"},
        {"id": "AT-1", "type": "transfer", "date": "2012-01-16", "region": WANZHOU, "scheme": "assistance",
         "from": "fiscal", "to": "payment", "amount": "3000.00"},
        # 低保 (category 1): 60% of 2000.00 in-policy out-of-pocket after insurance.
        {"id": "A-1", "type": "assistance", "date": "2012-04-01", "region": WANZHOU,
         "category": "inpatient", "amount": "1200.00"},
        # 三无: the 200 元 outpatient quota.
        {"id": "A-2", "type": "assistance", "date": "2012-04-02", "region": WANZHOU,
         "category": "outpatient", "amount": "200.00"},
    )
    assert balances(ledger, WANZHOU, "assistance", 2012) == {
        "1003": "7000.00",  # 10000.00 − 3000.00
        "1004": "1600.00",  # 3000.00 − 1200.00 − 200.00
        "4101.01": "-10000.00",  # no tiers outside the resident book
        "5502.01": "200.00",  # 门诊救助
        "5502.02": "1200.00",  # 住院救助
    }
    assert queries.list_books(ledger.engine, WANZHOU, "resident") == []  # the insurance fund is untouched


def test_sponsorship_posts_to_the_assistance_book_and_the_resident_book_together(ledger):
    post(
        ledger,
        {"id": "AS-1", "type": "subsidy", "date": "2012-01-05", "region": WANZHOU, "scheme": "assistance",
         "level": "central", "amount": "10000.00"},
        # Tier 2: 60 元 flat for each of 10 recipients.
        {"id": "SP-1", "type": "sponsorship", "date": "2012-01-10", "region": WANZHOU, "tier": 2,
         "persons": 10, "amount": "600.00"},
    )
    assert balances(ledger, WANZHOU, "assistance", 2012) == {
        "1003": "9400.00",  # 10000.00 − 600.00
        "4101.01": "-10000.00",
        "5501": "600.00",  # 资助参保支出, not an insurance benefit
    }
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "600.00",  # paid straight into the resident fiscal account
        "4001.02:2": "-600.00",  # 城乡医疗救助资助收入, tier 2
    }
    assert fiscal(ledger, WANZHOU, "assistance", 2012) == ("0.00", "10000.00", "600.00", "9400.00")
    assert fiscal(ledger, WANZHOU, "resident", 2012) == ("0.00", "600.00", "0.00", "600.00")
    assert verify(ledger).agrees


# ------------------------------------------------------------------ the adjustment fund


def test_remittance_moves_8_percent_of_fundraising_to_the_municipal_adjustment_book(ledger):
    post(
        ledger,
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "1000.00"},
        *tier1_subsidies(2012),
        {"id": "T-1", "type": "transfer", "date": "2012-01-31", "region": WANZHOU, "scheme": "resident",
         "from": "income", "to": "fiscal", "amount": "1000.00"},
        # Fundraising 100 persons × 50 元 = 5000.00; 8% = 400.00.
        {"id": "R-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "400.00"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "4600.00",  # 4000.00 subsidy + 1000.00 swept − 400.00 remitted
        "4001.01:1": "-1000.00",
        **SUBSIDY_INCOME_100,
        "5301:1": "400.00",  # 上解上级支出
    }
    assert balances(ledger, CHONGQING, "adjustment", 2012) == {
        "1003": "400.00",
        "4402": "-400.00",  # 下级上解收入
    }
    # The municipality's view adds both books: 4600.00 + 400.00 in 1003.
    assert municipality(ledger, CHONGQING, 2012) == {
        "1003": "5000.00",
        "4001.01:1": "-1000.00",
        **SUBSIDY_INCOME_100,
        "4402": "-400.00",
        "5301:1": "400.00",
    }
    books = queries.list_books(ledger.engine, CHONGQING)
    assert [(b.region, b.scheme, b.year) for b in books] == [
        (CHONGQING, "adjustment", 2012),
        (WANZHOU, "resident", 2012),
    ]
    assert verify(ledger).agrees


def test_grant_from_the_adjustment_book_to_a_district(ledger):
    # Seed 004 居民办法 六(三): a district that did not remit gets no grant, so 万州 remits first.
    post(
        ledger,
        {"id": "JS-1", "type": "subsidy", "date": "2012-01-20", "region": JIANGJIN, "scheme": "resident",
         "level": "central", "tier": 1, "amount": "2000.00"},
        {"id": "WS-1", "type": "subsidy", "date": "2012-01-20", "region": WANZHOU, "scheme": "resident",
         "level": "central", "tier": 1, "amount": "1000.00"},
        {"id": "JR-1", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"},
        {"id": "WR-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "100.00"},
        {"id": "G-1", "type": "grant", "date": "2012-11-30", "region": WANZHOU, "tier": 1, "amount": "300.00"},
    )
    assert balances(ledger, CHONGQING, "adjustment", 2012) == {
        "1003": "200.00",  # 400.00 from 江津 + 100.00 from 万州 − 300.00 to 万州
        "4402": "-500.00",
        "5302": "300.00",  # 补助下级支出
    }
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "1200.00",  # 1000.00 − 100.00 remitted + 300.00 granted
        "4101.01:1": "-1000.00",
        "5301:1": "100.00",
        "4401:1": "-300.00",  # 上级补助收入
    }
    assert balances(ledger, JIANGJIN, "resident", 2012) == {
        "1003": "1600.00",  # 2000.00 − 400.00
        "4101.01:1": "-2000.00",
        "5301:1": "400.00",
    }
    assert verify(ledger).agrees


# ------------------------------------------------------------------ interest, refunds, recoveries


def test_interest_is_credited_to_4201_and_debited_to_the_account_that_earned_it(ledger):
    post(
        ledger,
        *tier1_subsidies(2012),
        {"id": "T-1", "type": "transfer", "date": "2012-02-01", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "1000.00"},
        {"id": "I-1", "type": "interest", "date": "2012-06-21", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "12.34"},
        {"id": "I-2", "type": "interest", "date": "2012-06-21", "region": WANZHOU, "scheme": "resident",
         "account": "payment", "tier": 1, "amount": "0.56"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "3012.34",  # 4000.00 − 1000.00 + 12.34 (the fiscal account is the default)
        "1004": "1000.56",  # 1000.00 + 0.56
        **SUBSIDY_INCOME_100,
        "4201:1": "-12.90",  # 12.34 + 0.56
    }


def test_refund_of_this_years_contribution_reduces_income_and_an_earlier_years_is_other_expense(ledger):
    post(
        ledger,
        {"id": "C-1", "type": "contribution", "date": "2013-01-10", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "1000.00"},
        {"id": "RF-1", "type": "refund", "date": "2013-02-01", "region": WANZHOU, "scheme": "resident",
         "original_year": 2013, "tier": 1, "amount": "10.00"},
        {"id": "RF-2", "type": "refund", "date": "2013-02-01", "region": WANZHOU, "scheme": "resident",
         "original_year": 2012, "tier": 1, "amount": "10.00"},
    )
    assert balances(ledger, WANZHOU, "resident", 2013) == {
        "1002": "980.00",  # 1000.00 − 10.00 − 10.00, refunded by the original channel
        "4001.01:1": "-990.00",  # this year's refund: Dr 4001.01, −1000.00 + 10.00
        "5401:1": "10.00",  # earlier year's refund: Dr 5401 其他支出
    }
    assert verify(ledger).agrees


def test_recovery_of_this_years_benefit_reduces_expense_and_an_earlier_years_is_other_income(ledger):
    post(
        ledger,
        *tier1_subsidies(2013),
        {"id": "T-1", "type": "transfer", "date": "2013-02-01", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "2000.00"},
        {"id": "CL-1", "type": "claim", "date": "2013-03-01", "region": WANZHOU, "scheme": "resident",
         "category": "inpatient", "tier": 1, "amount": "1200.00"},
        {"id": "RC-1", "type": "recovery", "date": "2013-05-01", "region": WANZHOU, "scheme": "resident",
         "original_year": 2013, "category": "inpatient", "tier": 1, "amount": "200.00"},
        {"id": "RC-2", "type": "recovery", "date": "2013-05-02", "region": WANZHOU, "scheme": "resident",
         "original_year": 2012, "category": "outpatient", "tier": 1, "amount": "50.00"},
    )
    assert balances(ledger, WANZHOU, "resident", 2013) == {
        "1003": "2050.00",  # 4000.00 − 2000.00 funded + 50.00 earlier year's recovery (Dr 1003)
        "1004": "1000.00",  # 2000.00 − 1200.00 claim + 200.00 this year's recovery (Dr 1004)
        **SUBSIDY_INCOME_100,
        "4501:1": "-50.00",  # 其他收入
        "5001.01:1": "1000.00",  # 1200.00 − 200.00; 5001.02 is untouched
    }
    assert verify(ledger).agrees


# ------------------------------------------------------------------ corrections


def test_reversal_mirrors_the_original_so_its_effect_cancels(ledger):
    post(
        ledger,
        *tier1_subsidies(2012),
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "1000.00"},
        {"id": "REV-1", "type": "reversal", "date": "2012-03-01", "reverses": "C-1"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003": "4000.00",
        **SUBSIDY_INCOME_100,
        # 1002 and 4001.01:1: 1000.00 − 1000.00 = 0.
    }
    (row,) = queries.book_balances(ledger.engine, book_id(BookKey(WANZHOU, "resident", 2012)).hex, "1002")
    # The reversal is a mirrored posting, not a deletion: 1000.00 in, 1000.00 out.
    assert (yuan(row.debit_fen), yuan(row.credit_fen)) == ("1000.00", "1000.00")
    assert verify(ledger).agrees


def test_reversal_of_a_remittance_cancels_it_in_both_books(ledger):
    post(
        ledger,
        *tier1_subsidies(2012),
        {"id": "R-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "400.00"},
        {"id": "REV-1", "type": "reversal", "date": "2012-07-01", "reverses": "R-1"},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {"1003": "4000.00", **SUBSIDY_INCOME_100}  # 4000 − 400 + 400
    assert balances(ledger, CHONGQING, "adjustment", 2012) == {}  # 1003 and 4402: 400.00 − 400.00 = 0
    city_rows = queries.book_balances(ledger.engine, book_id(BookKey(CHONGQING, "adjustment", 2012)).hex)
    assert {(r.account, yuan(r.debit_fen), yuan(r.credit_fen)) for r in city_rows} == {
        ("1003", "400.00", "400.00"),  # remitted in, reversed out
        ("4402", "400.00", "400.00"),
    }
    assert verify(ledger).agrees


def test_journal_reclassifies_a_contribution_between_tiers_and_records_an_advance(ledger):
    post(
        ledger,
        # 100 tier-1 residents at 10 元 and one tier-2 resident at 120 元, all recorded as tier 1.
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "1120.00"},
        {"id": "J-1", "type": "journal", "date": "2012-01-31", "region": WANZHOU, "scheme": "resident",
         "purpose": "one tier-2 resident recorded as tier 1",
         "postings": [{"account": "4001.01", "tier": 1, "debit": "120.00"},
                      {"account": "4001.01", "tier": 2, "credit": "120.00"}]},
        *tier1_subsidies(2012),
        {"id": "T-1", "type": "transfer", "date": "2012-02-01", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "1000.00"},
        # 异地就医预付金: an advance to the settlement platform.
        {"id": "J-2", "type": "journal", "date": "2012-02-05", "region": WANZHOU, "scheme": "resident",
         "purpose": "cross-district care advance",
         "postings": [{"account": "1101", "debit": "500.00"}, {"account": "1004", "credit": "500.00"}]},
    )
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1002": "1120.00",
        "1003": "3000.00",  # 4000.00 − 1000.00
        "1004": "500.00",  # 1000.00 − 500.00 advanced
        "1101": "500.00",
        "4001.01:1": "-1000.00",  # −1120.00 + 120.00
        "4001.01:2": "-120.00",
        **SUBSIDY_INCOME_100,
    }
    assert verify(ledger).agrees


# ------------------------------------------------------------------ year end


def _close(year):
    return {"id": f"YC-{year}", "type": "year_close", "region": WANZHOU, "scheme": "resident", "year": year}


def test_year_close_closes_income_and_expense_into_3001_per_tier_and_carries_balances_forward(ledger):
    resident = {"region": WANZHOU, "scheme": "resident"}
    post(
        ledger,
        {**resident, "id": "C-1", "type": "contribution", "date": "2012-01-05", "tier": 1, "amount": "1000.00"},
        {**resident, "id": "C-2", "type": "contribution", "date": "2012-01-05", "tier": 2, "amount": "1200.00"},
        {**resident, "id": "S-1", "type": "subsidy", "date": "2012-01-20", "level": "central", "tier": 1,
         "amount": "2000.00"},
        {**resident, "id": "S-2", "type": "subsidy", "date": "2012-01-20", "level": "central", "tier": 2,
         "amount": "200.00"},
        {**resident, "id": "T-1", "type": "transfer", "date": "2012-01-31", "from": "income", "to": "fiscal",
         "amount": "2200.00"},
        {**resident, "id": "T-2", "type": "transfer", "date": "2012-02-01", "from": "fiscal", "to": "payment",
         "amount": "3000.00"},
        {**resident, "id": "CL-1", "type": "claim", "date": "2012-05-01", "category": "inpatient", "tier": 1,
         "amount": "1800.00"},
        {**resident, "id": "CL-2", "type": "claim", "date": "2012-05-02", "category": "outpatient", "tier": 2,
         "amount": "900.00"},
        {**resident, "id": "I-1", "type": "interest", "date": "2012-12-21", "tier": 1, "amount": "5.00"},
        _close(2012),
    )
    # Tier 1: income 1000.00 + 2000.00 + 5.00 − expense 1800.00 = 1205.00 surplus.
    # Tier 2: income 1200.00 + 200.00 − expense 900.00 = 500.00 surplus.
    # 1003: 2000.00 + 200.00 + 2200.00 − 3000.00 + 5.00 = 1405.00; 1004: 3000.00 − 1800.00 − 900.00 = 300.00.
    # Assets 1405.00 + 300.00 = 1705.00 = net assets 1205.00 + 500.00.
    closed_2012 = {"1003": "1405.00", "1004": "300.00", "3001:1": "-1205.00", "3001:2": "-500.00"}
    assert balances(ledger, WANZHOU, "resident", 2012) == closed_2012
    assert balances(ledger, WANZHOU, "resident", 2013) == closed_2012
    books = queries.list_books(ledger.engine, WANZHOU, "resident")
    assert [(b.year, b.closed) for b in books] == [(2012, True), (2013, False)]
    # 2012: receipts 2000.00 + 200.00 + 2200.00 + 5.00 = 4405.00, payments 3000.00.
    assert fiscal(ledger, WANZHOU, "resident", 2012) == ("0.00", "4405.00", "3000.00", "1405.00")
    assert fiscal(ledger, WANZHOU, "resident", 2013) == ("1405.00", "0.00", "0.00", "1405.00")

    post(
        ledger,
        {**resident, "id": "S-3", "type": "subsidy", "date": "2013-01-20", "level": "central", "tier": 1,
         "amount": "2000.00"},
        {**resident, "id": "CL-3", "type": "claim", "date": "2013-06-01", "category": "inpatient", "tier": 1,
         "amount": "250.00"},
        _close(2013),
    )
    # Closing 3001 = opening 3001 + income − expense: tier 1 1205.00 + 2000.00 − 250.00 = 2955.00.
    assert balances(ledger, WANZHOU, "resident", 2014) == {
        "1003": "3405.00",  # 1405.00 + 2000.00
        "1004": "50.00",  # 300.00 − 250.00
        "3001:1": "-2955.00",
        "3001:2": "-500.00",  # no tier-2 movement in 2013
    }
    assert verify(ledger).agrees


# ------------------------------------------------------------------ projections


def test_rebuild_reproduces_the_live_projections_row_for_row(ledger):
    post(
        ledger,
        *tier1_subsidies(2012),
        *tier1_subsidies(2012, region=JIANGJIN),
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "amount": "1000.00"},
        {"id": "T-1", "type": "transfer", "date": "2012-01-31", "region": WANZHOU, "scheme": "resident",
         "from": "income", "to": "fiscal", "amount": "1000.00"},
        {"id": "T-2", "type": "transfer", "date": "2012-02-01", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "2000.00"},
        {"id": "CL-1", "type": "claim", "date": "2012-03-01", "region": WANZHOU, "scheme": "resident",
         "category": "inpatient", "tier": 1, "amount": "1200.00"},
        {"id": "AS-1", "type": "subsidy", "date": "2012-01-05", "region": WANZHOU, "scheme": "assistance",
         "level": "central", "amount": "1000.00"},
        {"id": "SP-1", "type": "sponsorship", "date": "2012-01-10", "region": WANZHOU, "tier": 2, "amount": "600.00"},
        {"id": "R-1", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"},
        {"id": "R-2", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "100.00"},
        {"id": "G-1", "type": "grant", "date": "2012-11-30", "region": WANZHOU, "tier": 1, "amount": "300.00"},
        {"id": "REV-1", "type": "reversal", "date": "2012-12-01", "reverses": "CL-1"},
        _close(2012),
    )
    live = queries.table_rows(ledger.engine)
    # Books: 万州 resident 2012 and 2013, 万州 assistance, 江津 resident, 重庆 adjustment.
    assert len(live["proj_books"]) == 5
    ledger.projector.rebuild()
    assert queries.table_rows(ledger.engine) == live
    assert verify(ledger).agrees
