"""Who may do what: users, logins, tokens, roles over regions and 制单 → 审核 → 记账, on both backends.

The role matrix and the regions each scope covers are written out here by
hand from docs/service.md ("Roles and the 制单/审核/记账 flow"), not read
from ``ledger.access.roles``, so a change to the code's matrix that the
documentation does not make fails here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from argon2 import PasswordHasher

from ledger.access import grants, proposals, throttle, tokens, users
from ledger.access.errors import (
    AuthenticationError,
    LoginThrottledError,
    PermissionDeniedError,
    ProposalError,
    ProposalRequiredError,
    SelfApprovalError,
    UserError,
)
from ledger.access.roles import Action
from ledger.access.tables import login_attempts
from ledger.access.tables import tokens as tokens_table
from ledger.access.tables import users as users_table
from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.errors import PeriodClosedError
from ledger.projections import queries
from ledger.store import explain

WANZHOU = "500101"  # 万州区, a district of 重庆市 (a municipality under the central government)
JIANGJIN = "500116"  # 江津区, another district of 重庆市
CHONGQING = "500000"  # 重庆市: municipality and province in one code
CHENZHOU = "431000"  # 郴州市, a prefecture-level city of 湖南省
BEIHU = "431002"  # 北湖区 of 郴州市
HUNAN = "430000"  # 湖南省
FURONG = "430102"  # 芙蓉区 of 长沙市, 湖南省: same province, another municipality
GUANGZHOU_DISTRICT = "440106"  # 天河区 of 广州市, 广东省

PASSWORD = "correct horse battery"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# The matrix of docs/service.md, written out by hand: what each role may do.
MATRIX = {
    "accountant": {"post_document", "propose", "close_period",
                   "read_balances", "read_subsidies", "read_statements", "read_vouchers", "read_proposals"},
    "checker": {"approve", "read_balances", "read_subsidies", "read_statements", "read_vouchers", "read_proposals"},
    "auditor": {"read_balances", "read_subsidies", "read_statements", "read_vouchers", "read_proposals",
                "read_audit", "verify", "read_seals"},
    "finance_officer": {"read_balances", "read_subsidies", "read_statements"},
    "administrator": {"manage_users"},
}
EVERY_ACTION = {"post_document", "propose", "close_period", "approve", "read_balances", "read_subsidies",
                "read_statements", "read_vouchers", "read_proposals", "read_audit", "verify", "read_seals",
                "manage_users"}

# (scope granted, region of the books, covered?) worked out from GB/T 2260 codes by hand.
COVERAGE = [
    # A district scope: its own books only.
    (WANZHOU, WANZHOU, True),
    (WANZHOU, JIANGJIN, False),  # another district of the same municipality
    (WANZHOU, CHONGQING, False),  # its municipality's own books
    (WANZHOU, BEIHU, False),  # a district of another municipality
    # A municipality scope: itself and its districts.
    (CHENZHOU, CHENZHOU, True),
    (CHENZHOU, BEIHU, True),
    (CHENZHOU, FURONG, False),  # same province, another municipality
    (CHENZHOU, WANZHOU, False),
    # A province scope: every municipality and district of it.
    (HUNAN, BEIHU, True),
    (HUNAN, CHENZHOU, True),
    (HUNAN, FURONG, True),
    (HUNAN, GUANGZHOU_DISTRICT, False),
    (HUNAN, WANZHOU, False),
    # 重庆市 is municipality and province in one code: its districts, not Hunan's.
    (CHONGQING, WANZHOU, True),
    (CHONGQING, JIANGJIN, True),
    (CHONGQING, CHONGQING, True),
    (CHONGQING, BEIHU, False),
]


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2id still, with the lightest parameters, so the suite does not spend its time hashing.

    The production parameters are argon2-cffi's defaults (RFC 9106's second recommendation, 64 MiB);
    ``test_a_hash_made_with_weaker_parameters_is_renewed_at_the_next_login`` runs them.
    """
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def add(engine, username, *roles, password=PASSWORD):
    """A user holding each (role, scope) given."""
    users.add_user(engine, username, f"{username} 同志", password, by="admin", now=T0)
    for role, scope in roles:
        grants.grant(engine, username, role, scope, by="admin", now=T0)


# ------------------------------------------------------------------ the role matrix


def test_the_role_matrix_names_every_action():
    assert {action.value for action in Action} == EVERY_ACTION
    assert set().union(*MATRIX.values()) == EVERY_ACTION


def test_every_role_every_action_in_and_out_of_scope(ledger):
    engine = ledger.engine
    scopes = sorted({scope for scope, _, _ in COVERAGE})
    for role in MATRIX:
        for scope in scopes:
            add(engine, f"{role}-{scope}".replace("_", "-"), (role, scope))
    checked = 0
    for role, allowed in MATRIX.items():
        for scope, region, covered in COVERAGE:
            username = f"{role}-{scope}".replace("_", "-")
            for action in sorted(EVERY_ACTION):
                expected = action in allowed and covered
                assert grants.permits(engine, username, Action(action), region) is expected, (role, scope, region, action)
                checked += 1
    assert checked == 5 * len(COVERAGE) * 13


def test_a_refusal_names_the_user_the_action_the_region_and_the_roles_that_allow_it(ledger):
    add(ledger.engine, "zhang", ("accountant", WANZHOU))
    with pytest.raises(PermissionDeniedError) as refused:
        grants.require(ledger.engine, "zhang", Action.POST_DOCUMENT, JIANGJIN)
    message = str(refused.value)
    assert "zhang" in message and "post document" in message and JIANGJIN in message
    assert "accountant" in message and "checker" not in message
    assert refused.value.allowing_roles == ("accountant",)
    with pytest.raises(PermissionDeniedError) as refused:
        grants.require(ledger.engine, "zhang", Action.READ_AUDIT, WANZHOU)
    assert refused.value.allowing_roles == ("auditor",)
    grants.require(ledger.engine, "zhang", Action.POST_DOCUMENT, WANZHOU)  # allowed: returns


def test_roles_add_up_and_a_revoked_or_disabled_grant_allows_nothing(ledger):
    engine = ledger.engine
    add(engine, "li", ("checker", WANZHOU), ("auditor", CHONGQING))
    assert grants.permits(engine, "li", Action.APPROVE, WANZHOU)
    assert grants.permits(engine, "li", Action.VERIFY, JIANGJIN)
    assert not grants.permits(engine, "li", Action.APPROVE, JIANGJIN)
    grants.revoke(engine, "li", "auditor", CHONGQING, by="admin", now=T0 + timedelta(hours=1))
    assert not grants.permits(engine, "li", Action.VERIFY, JIANGJIN)
    history = grants.list_grants(engine, "li", include_revoked=True)
    assert [(g.role.value, g.scope, g.revoked_by) for g in history] == [("checker", WANZHOU, None), ("auditor", CHONGQING, "admin")]
    users.disable_user(engine, "li", by="admin")
    assert not grants.permits(engine, "li", Action.APPROVE, WANZHOU)


def test_grants_refuse_an_unknown_user_role_or_scope_and_a_second_live_grant(ledger):
    engine = ledger.engine
    add(engine, "wang", ("accountant", WANZHOU))
    for username, role, scope, field in (
        ("nobody", "accountant", WANZHOU, "username"),
        ("wang", "cashier", WANZHOU, "role"),
        ("wang", "checker", "5001", "scope"),
        ("wang", "accountant", WANZHOU, "role"),  # already live
    ):
        with pytest.raises(UserError) as refused:
            grants.grant(engine, username, role, scope, by="admin")
        assert f"field '{field}'" in str(refused.value)
    with pytest.raises(UserError):
        grants.revoke(engine, "wang", "checker", WANZHOU, by="admin")
    with pytest.raises(UserError) as refused:
        grants.permits(engine, "wang", "post_everything", WANZHOU)
    assert "field 'action'" in str(refused.value)
    assert not grants.permits(engine, "wang", Action.POST_DOCUMENT, "5001")  # not a region code: nothing is in scope


# ------------------------------------------------------------------ users and passwords


def test_passwords_are_stored_as_argon2_hashes_never_as_plaintext(ledger):
    engine = ledger.engine
    add(engine, "zhang")
    with engine.connect() as connection:
        (row,) = connection.execute(sqlalchemy.select(users_table)).all()
    assert row.password_hash.startswith("$argon2id$")
    assert all(PASSWORD not in str(value) for value in row)
    assert PasswordHasher().verify(row.password_hash, PASSWORD)
    (listed,) = users.list_users(engine)
    assert listed.username == "zhang" and listed.display_name == "zhang 同志" and not listed.disabled
    assert all(PASSWORD not in str(value) and "argon2" not in str(value) for value in vars(listed).values())
    users.set_password(engine, "zhang", "another long secret", by="admin")
    with engine.connect() as connection:
        changed = connection.execute(sqlalchemy.select(users_table.c.password_hash)).scalar()
    assert changed != row.password_hash and "another long secret" not in changed


@pytest.mark.parametrize(
    "username, display_name, password, field",
    [
        ("Zhang", "张", PASSWORD, "username"),  # upper case
        ("zh ang", "张", PASSWORD, "username"),
        ("", "张", PASSWORD, "username"),
        ("z" * 65, "张", PASSWORD, "username"),
        ("zhang", " ", PASSWORD, "display_name"),
        ("zhang", "张", "short", "password"),
        ("zhang", "张", "x" * 1025, "password"),
    ],
)
def test_a_user_breaking_a_rule_is_refused_naming_the_field(ledger, username, display_name, password, field):
    with pytest.raises(UserError) as refused:
        users.add_user(ledger.engine, username, display_name, password, by="admin")
    assert f"field '{field}'" in str(refused.value)
    assert password not in str(refused.value)
    assert users.list_users(ledger.engine) == []


def test_a_hash_made_with_weaker_parameters_is_renewed_at_the_next_login(ledger, monkeypatch):
    engine = ledger.engine
    add(engine, "zhang")  # with the light test parameters: t=1, m=8 KiB
    monkeypatch.setattr(users, "HASHER", PasswordHasher())  # the production default
    users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1")
    with engine.connect() as connection:
        renewed = connection.execute(sqlalchemy.select(users_table.c.password_hash)).scalar()
    assert renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(renewed, PASSWORD)


def test_a_username_is_taken_once(ledger):
    add(ledger.engine, "zhang")
    with pytest.raises(UserError, match="already a user zhang"):
        users.add_user(ledger.engine, "zhang", "另一个张", PASSWORD, by="admin")


def test_authenticate_accepts_the_password_and_refuses_a_wrong_one_or_an_unknown_user_alike(ledger):
    engine = ledger.engine
    add(engine, "zhang")
    assert users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1").username == "zhang"
    messages = []
    for username, password in (("zhang", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationError) as refused:
            users.authenticate(engine, username, password, "10.0.0.1")
        assert password not in str(refused.value)
        messages.append(refused.value.message)
    assert messages == ["wrong username or password"] * 2


def test_a_disabled_user_cannot_authenticate_nor_use_a_session_or_token(ledger):
    engine = ledger.engine
    add(engine, "zhang")
    session, _ = tokens.create_session(engine, "zhang")
    token, _ = tokens.create_token(engine, "zhang", "settlement-feed")
    users.disable_user(engine, "zhang", by="admin")
    with pytest.raises(AuthenticationError, match="disabled"):
        users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1")
    for secret in (session, token):
        with pytest.raises(AuthenticationError):
            tokens.resolve(engine, secret)
    with pytest.raises(UserError, match="disabled"):
        tokens.create_session(engine, "zhang")
    (listed,) = users.list_users(engine)
    assert listed.disabled and listed.changed_by == "admin"
    users.enable_user(engine, "zhang", by="admin")
    assert users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1").username == "zhang"


# ------------------------------------------------------------------ login rate limits


def _fail(engine, username, address, at):
    with pytest.raises(AuthenticationError) as refused:
        users.authenticate(engine, username, "not the password", address, now=at)
    assert not isinstance(refused.value, LoginThrottledError)


def test_five_failed_logins_lock_the_username_for_the_rest_of_the_window(ledger, store_url):
    engine = ledger.engine
    add(engine, "zhang")
    for second in range(5):
        _fail(engine, "zhang", "10.0.0.1", T0 + timedelta(seconds=second))
    # Another process on the same store counts the same attempts; the right password does not get through.
    other = sqlalchemy.create_engine(store_url)
    try:
        with pytest.raises(LoginThrottledError) as refused:
            users.authenticate(other, "zhang", PASSWORD, "10.0.0.2", now=T0 + timedelta(seconds=10))
    finally:
        other.dispose()
    # The oldest failure (T0) leaves the 15-minute window at T0 + 900 s: 890 s after T0 + 10 s.
    assert refused.value.retry_after_seconds == 890
    assert "5 failed logins for the username zhang" in str(refused.value) and PASSWORD not in str(refused.value)
    # Once the first failure is out of the window, four remain: the right password gets through.
    assert users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1", now=T0 + timedelta(seconds=901)).username == "zhang"


def test_a_successful_login_starts_the_username_count_again(ledger):
    engine = ledger.engine
    add(engine, "zhang")
    for second in range(4):
        _fail(engine, "zhang", "10.0.0.1", T0 + timedelta(seconds=second))
    users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1", now=T0 + timedelta(seconds=5))
    for second in range(6, 10):
        _fail(engine, "zhang", "10.0.0.1", T0 + timedelta(seconds=second))
    # Four failures since the success: one more is allowed.
    assert users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1", now=T0 + timedelta(seconds=11)).username == "zhang"


def test_twenty_failures_from_one_address_lock_the_address_whatever_the_usernames(ledger):
    engine = ledger.engine
    add(engine, "zhang")
    for attempt in range(20):
        # Twenty different names, one try each: only the address limit can apply.
        _fail(engine, f"guess{attempt}", "10.9.9.9", T0 + timedelta(seconds=attempt))
    with pytest.raises(LoginThrottledError) as refused:
        users.authenticate(engine, "zhang", PASSWORD, "10.9.9.9", now=T0 + timedelta(seconds=60))
    assert refused.value.retry_after_seconds == 840  # 900 − 60: the first failure was at T0
    assert "the address 10.9.9.9" in str(refused.value)
    # The same user from another address is not held back.
    assert users.authenticate(engine, "zhang", PASSWORD, "10.0.0.1", now=T0 + timedelta(seconds=60)).username == "zhang"


def test_old_attempts_are_forgotten(ledger):
    engine = ledger.engine
    _fail(engine, "nobody", "10.0.0.1", T0)
    throttle.record(engine, "nobody", "10.0.0.1", succeeded=False, now=T0 + timedelta(days=1, seconds=1))
    with engine.connect() as connection:
        times = connection.execute(sqlalchemy.select(login_attempts.c.attempted_at)).scalars().all()
    assert times == ["2025-03-02T09:00:01.000000+00:00"]


# ------------------------------------------------------------------ sessions and tokens


def test_a_token_is_stored_as_its_sha256_and_resolves_to_its_user(ledger):
    engine = ledger.engine
    add(engine, "feed")
    secret, info = tokens.create_token(engine, "feed", "his-settlement", now=T0)
    with engine.connect() as connection:
        (row,) = connection.execute(sqlalchemy.select(tokens_table)).all()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row)
    principal = tokens.resolve(engine, secret, now=T0 + timedelta(days=1))
    assert (principal.username, principal.kind, principal.name) == ("feed", "token", "his-settlement")
    (listed,) = tokens.list_tokens(engine, "feed")
    assert listed.name == "his-settlement" and listed.token_id == info.token_id
    assert listed.expires_at == "2025-05-30T09:00:00.000000+00:00"  # 90 days after 1 March
    assert all(secret not in str(value) for value in vars(listed).values())
    with pytest.raises(UserError, match="already has a live token"):
        tokens.create_token(engine, "feed", "his-settlement", now=T0)


def test_a_token_stops_at_its_expiry_and_when_revoked(ledger):
    engine = ledger.engine
    add(engine, "feed")
    secret, info = tokens.create_token(engine, "feed", "nightly", lifetime=timedelta(days=1), now=T0)
    assert tokens.resolve(engine, secret, now=T0 + timedelta(hours=23)).username == "feed"
    with pytest.raises(AuthenticationError):
        tokens.resolve(engine, secret, now=T0 + timedelta(days=1))
    second, info = tokens.create_token(engine, "feed", "nightly", now=T0 + timedelta(days=2))
    tokens.revoke(engine, info.token_id, by="admin", now=T0 + timedelta(days=2, hours=1))
    with pytest.raises(AuthenticationError):
        tokens.resolve(engine, second, now=T0 + timedelta(days=2, hours=2))
    for forged in ("", "ldg_" + "A" * 43, second[:-1], "Bearer " + second):
        with pytest.raises(AuthenticationError):
            tokens.resolve(engine, forged, now=T0 + timedelta(days=2))


def test_a_session_lasts_eight_hours_and_ends_at_logout_or_a_new_password(ledger):
    engine = ledger.engine
    add(engine, "zhang")
    session, _ = tokens.create_session(engine, "zhang", now=T0)
    token, _ = tokens.create_token(engine, "zhang", "integration", now=T0)
    assert tokens.resolve(engine, session, now=T0 + timedelta(hours=7, minutes=59)).kind == "session"
    with pytest.raises(AuthenticationError):
        tokens.resolve(engine, session, now=T0 + timedelta(hours=8))
    later, _ = tokens.create_session(engine, "zhang", now=T0)
    users.set_password(engine, "zhang", "a brand new secret", by="zhang", now=T0 + timedelta(hours=1))
    with pytest.raises(AuthenticationError):
        tokens.resolve(engine, later, now=T0 + timedelta(hours=2))
    assert tokens.resolve(engine, token, now=T0 + timedelta(hours=2)).username == "zhang"  # tokens stay
    tokens.revoke_secret(engine, token)
    with pytest.raises(AuthenticationError):
        tokens.resolve(engine, token)


# ------------------------------------------------------------------ 制单 → 审核 → 记账

RESIDENT = {"region": WANZHOU, "scheme": "resident"}
CONTRIBUTION = {**RESIDENT, "id": "C-1", "type": "contribution", "date": "2012-01-05", "tier": 1, "amount": "1120.00"}


def reclassify(document_id, amount="120.00", day="2012-01-31", region=WANZHOU):
    """A manual journal moving a contribution from tier 1 to tier 2 (one resident recorded in the wrong tier)."""
    return {"id": document_id, "type": "journal", "date": day, "region": region, "scheme": "resident",
            "purpose": "one tier-2 resident recorded as tier 1",
            "postings": [{"account": "4001.01", "tier": 1, "debit": amount},
                         {"account": "4001.01", "tier": 2, "credit": amount}]}


def balances(ledger, region="500101", year=2012):
    rows = queries.book_balances(ledger.engine, book_id(BookKey(region, "resident", year)).hex)
    return {(r.account, r.tier): r.balance_fen for r in rows if r.balance_fen}


def store_state(ledger):
    return ledger.app.recorder.max_notification_id(), queries.table_rows(ledger.engine)


@pytest.fixture
def office(ledger):
    """万州's accountant and checker, 重庆's municipal checker, 郴州's checker, and one who holds both posts."""
    engine = ledger.engine
    add(engine, "acc", ("accountant", WANZHOU))
    add(engine, "chk", ("checker", WANZHOU))
    add(engine, "cq-chk", ("checker", CHONGQING))
    add(engine, "cz-chk", ("checker", CHENZHOU))
    add(engine, "both", ("accountant", WANZHOU), ("checker", WANZHOU))
    add(engine, "fin", ("finance_officer", CHONGQING))
    permissions = grants.Permissions.load(engine, "acc")
    document = read_document(CONTRIBUTION, "acc")
    proposals.authorize_post(ledger, permissions, document)
    assert ledger.post_one(document).status == "posted"
    return ledger


def test_an_approved_journal_is_posted_with_its_proposer_and_approver(office):
    ledger = office
    entered = proposals.propose(ledger, reclassify("J-1"), by="acc", now=T0)
    assert (entered.status, entered.region, entered.proposed_by) == ("pending", WANZHOU, "acc")
    assert ledger.app.registered(["J-1"]) == {}  # nothing posted while it waits
    assert balances(ledger) == {("1002", 0): 112000, ("4001.01", 1): -112000}
    approved = proposals.approve(ledger, entered.proposal_id, by="chk", now=T0 + timedelta(hours=1))
    assert (approved.status, approved.decided_by, approved.posted_at) == ("posted", "chk", "2025-03-01T10:00:00.000000+00:00")
    # −1120.00 + 120.00 on tier 1; −120.00 on tier 2.
    assert balances(ledger) == {("1002", 0): 112000, ("4001.01", 1): -100000, ("4001.01", 2): -12000}
    assert [entry["actor"] for entry in explain(ledger, "J-1")["entries"]] == ["acc"]
    signed = proposals.signatures(ledger, "J-1")
    assert (signed.prepared_by, signed.checked_by, signed.proposal_id) == ("acc", "chk", entered.proposal_id)
    (found,) = proposals.proposals_for_document(ledger.engine, "J-1")
    assert (found.proposed_by, found.decided_by, found.status) == ("acc", "chk", "posted")
    direct = proposals.signatures(ledger, "C-1")
    assert (direct.prepared_by, direct.checked_by) == ("acc", None)


def test_a_municipal_checker_approves_a_district_proposal_another_municipalitys_cannot(office):
    ledger = office
    entered = proposals.propose(ledger, reclassify("J-1"), by="acc")
    with pytest.raises(PermissionDeniedError) as refused:
        proposals.approve(ledger, entered.proposal_id, by="cz-chk")
    assert "cz-chk" in str(refused.value) and "approve" in str(refused.value) and WANZHOU in str(refused.value)
    assert "checker" in str(refused.value)
    assert proposals.get_proposal(ledger.engine, entered.proposal_id).status == "pending"
    assert proposals.approve(ledger, entered.proposal_id, by="cq-chk").status == "posted"


def test_nobody_approves_or_rejects_their_own_entry(office):
    ledger = office
    before = store_state(ledger)
    entered = proposals.propose(ledger, reclassify("J-2"), by="both")
    with pytest.raises(SelfApprovalError) as refused:
        proposals.approve(ledger, entered.proposal_id, by="both")
    assert "document J-2" in str(refused.value) and "制单" in str(refused.value)
    with pytest.raises(SelfApprovalError):
        proposals.reject(ledger.engine, entered.proposal_id, "my own mistake", by="both")
    assert proposals.get_proposal(ledger.engine, entered.proposal_id).status == "pending"
    assert store_state(ledger) == before
    # The one who entered it may withdraw it while it waits.
    withdrawn = proposals.withdraw(ledger.engine, entered.proposal_id, "entered twice", by="both")
    assert (withdrawn.status, withdrawn.reason) == ("withdrawn", "entered twice")


def test_a_rejected_proposal_posts_nothing_and_keeps_who_and_why(office):
    ledger = office
    before = store_state(ledger)
    entered = proposals.propose(ledger, reclassify("J-3"), by="acc", now=T0)
    rejected = proposals.reject(ledger.engine, entered.proposal_id, "no evidence of the tier-2 enrolment", by="chk",
                                now=T0 + timedelta(minutes=5))
    assert (rejected.status, rejected.decided_by, rejected.reason) == ("rejected", "chk", "no evidence of the tier-2 enrolment")
    assert rejected.decided_at == "2025-03-01T09:05:00.000000+00:00"
    assert store_state(ledger) == before
    with pytest.raises(ProposalError, match="is rejected"):
        proposals.approve(ledger, entered.proposal_id, by="cq-chk")
    with pytest.raises(ProposalError, match="reason"):
        proposals.reject(ledger.engine, proposals.propose(ledger, reclassify("J-4"), by="acc").proposal_id, " ", by="chk")
    # A rejected document may be entered again, corrected, under the same id.
    again = proposals.propose(ledger, reclassify("J-3", amount="110.00"), by="acc")
    assert again.status == "pending" and len(proposals.proposals_for_document(ledger.engine, "J-3")) == 2


def test_proposing_is_checked_like_posting_and_scoped_like_it(office):
    ledger = office
    with pytest.raises(PermissionDeniedError, match="acc may not propose in region 500116"):
        proposals.propose(ledger, reclassify("J-5", region=JIANGJIN), by="acc")
    with pytest.raises(PermissionDeniedError, match="accountant"):
        proposals.propose(ledger, reclassify("J-5"), by="fin")
    with pytest.raises(ProposalError) as refused:
        proposals.propose(ledger, {**reclassify("J-5"), "actor": "chk"}, by="acc")
    assert "field 'actor'" in str(refused.value)
    unbalanced = reclassify("J-5")
    unbalanced["postings"][1]["credit"] = "100.00"
    with pytest.raises(Exception) as refused:
        proposals.propose(ledger, unbalanced, by="acc")
    assert "document J-5" in str(refused.value)
    proposals.propose(ledger, reclassify("J-5"), by="acc")
    with pytest.raises(ProposalError, match="already waiting"):
        proposals.propose(ledger, reclassify("J-5"), by="acc")
    with pytest.raises(ProposalError, match="posted already"):
        proposals.propose(ledger, {**CONTRIBUTION}, by="acc")
    assert [p.document_id for p in proposals.list_proposals(ledger.engine)] == ["J-5"]


def test_direct_posting_of_a_proposal_type_is_refused_unless_configured(office):
    ledger = office
    permissions = grants.Permissions.load(ledger.engine, "acc")
    for raw in (reclassify("J-6"), {"id": "R-1", "type": "reversal", "date": "2012-02-01", "reverses": "C-1"},
                {**RESIDENT, "id": "YC-2012", "type": "year_close", "year": 2012},
                {**RESIDENT, "id": "RO-1", "type": "period_reopen", "date": "2012-12-31", "year": 2012, "reason": "late claim"}):
        document = read_document(raw, "acc")
        with pytest.raises(ProposalRequiredError) as refused:
            proposals.authorize_post(ledger, permissions, document)
        assert f"document {raw['id']}" in str(refused.value) and "field 'type'" in str(refused.value)
    rules = proposals.ApprovalRules.from_environment({"LEDGER_PROPOSAL_TYPES": "reversal, year_close"})
    proposals.authorize_post(ledger, permissions, read_document(reclassify("J-6"), "acc"), rules)
    with pytest.raises(PermissionDeniedError):
        proposals.authorize_post(ledger, grants.Permissions.load(ledger.engine, "chk"), read_document(reclassify("J-6"), "chk"), rules)
    with pytest.raises(ProposalError) as refused:
        proposals.ApprovalRules.from_environment({"LEDGER_PROPOSAL_TYPES": "journal,jounral"})
    assert "jounral is not a document type" in str(refused.value)
    assert proposals.ApprovalRules.from_environment({}).proposal_types == {"journal", "reversal", "period_reopen", "year_close"}


def test_a_reversal_is_proposed_in_the_region_of_what_it_reverses_and_posted_on_approval(office):
    ledger = office
    raw = {"id": "R-1", "type": "reversal", "date": "2012-02-01", "reverses": "C-1"}
    with pytest.raises(PermissionDeniedError):
        proposals.propose(ledger, raw, by="cz-chk")
    entered = proposals.propose(ledger, raw, by="acc")
    assert entered.region == WANZHOU
    assert proposals.approve(ledger, entered.proposal_id, by="chk").status == "posted"
    assert balances(ledger) == {}
    assert ledger.app.registered(["C-1"])["C-1"].reversed_by == "R-1"


def test_a_proposal_the_books_no_longer_take_is_refused_on_approval_and_posts_nothing(office):
    ledger = office
    journal = proposals.propose(ledger, reclassify("J-7"), by="acc")
    close = proposals.propose(ledger, {**RESIDENT, "id": "YC-2012", "type": "year_close", "year": 2012}, by="acc")
    proposals.approve(ledger, close.proposal_id, by="chk")
    before = store_state(ledger)
    with pytest.raises(PeriodClosedError):
        proposals.approve(ledger, journal.proposal_id, by="chk")
    refused = proposals.get_proposal(ledger.engine, journal.proposal_id)
    assert refused.status == "refused" and "closed" in refused.reason and refused.decided_by == "chk"
    assert store_state(ledger) == before


def test_proposals_are_listed_by_status_and_scope(office):
    ledger = office
    first = proposals.propose(ledger, reclassify("J-8"), by="acc", now=T0)
    second = proposals.propose(ledger, reclassify("J-9"), by="acc", now=T0 + timedelta(minutes=1))
    proposals.reject(ledger.engine, first.proposal_id, "duplicate of J-9", by="chk")

    def listed(**filters):
        return [p.document_id for p in proposals.list_proposals(ledger.engine, **filters)]

    assert listed() == ["J-8", "J-9"]
    assert listed(status="pending") == ["J-9"]
    assert listed(status="rejected", scope=CHONGQING) == ["J-8"]
    assert listed(scope=WANZHOU) == ["J-8", "J-9"]
    assert listed(scope=JIANGJIN) == []
    assert listed(scope=CHENZHOU) == []
    assert listed(proposed_by="chk") == []
    assert listed(limit=1, offset=1) == ["J-9"]
    with pytest.raises(ProposalError, match="no status"):
        listed(status="waiting")
    assert second.status == "pending"


def test_a_document_that_writes_its_municipalitys_book_needs_a_grant_over_both(office):
    ledger = office
    engine = ledger.engine
    add(engine, "cq-acc", ("accountant", CHONGQING))
    subsidy = {**RESIDENT, "id": "S-1", "type": "subsidy", "date": "2012-01-20", "level": "central", "tier": 1, "amount": "4000.00"}
    remittance = {**RESIDENT, "id": "RM-1", "type": "remittance", "date": "2012-02-01", "tier": 1, "amount": "100.00"}
    assert ledger.post_one(read_document(subsidy, "acc")).status == "posted"
    document = read_document(remittance, "acc")
    assert proposals.regions_written(ledger, document) == [WANZHOU, CHONGQING]
    ((outcome, events),) = ledger.app.dry_run([document])
    assert outcome.status == "posted" and {key.region for key, _ in events} == {WANZHOU, CHONGQING}
    with pytest.raises(PermissionDeniedError, match="acc may not post document in region 500000"):
        proposals.authorize_post(ledger, grants.Permissions.load(engine, "acc"), document)
    proposals.authorize_post(ledger, grants.Permissions.load(engine, "cq-acc"), read_document(remittance, "cq-acc"))
    assert ledger.post_one(read_document(remittance, "cq-acc")).status == "posted"
    # Its reversal writes both books too: entered for the district, approved only by a checker over both.
    entered = proposals.propose(ledger, {"id": "R-2", "type": "reversal", "date": "2012-02-02", "reverses": "RM-1"}, by="cq-acc")
    assert (entered.region, entered.regions) == (WANZHOU, (WANZHOU, CHONGQING))
    with pytest.raises(PermissionDeniedError, match="chk may not approve in region 500000"):
        proposals.approve(ledger, entered.proposal_id, by="chk")
    assert proposals.approve(ledger, entered.proposal_id, by="cq-chk").status == "posted"


def test_cross_district_care_needs_permission_over_both_districts_and_the_platform():
    from ledger.documents import read_document, regions_written

    care = read_document(
        {"id": "CARE-1", "type": "cross_district_care", "date": "2013-03-10", "region": "500101", "home_region": "500116",
         "category": "inpatient", "amount": "750.00", "tier": 1}
    )
    # 万州 advances, the 重庆 platform clears, 江津 (the insured's home) bears the benefit.
    assert regions_written(care) == ["500101", "500000", "500116"]
    settlement = read_document(
        {"id": "SET-1", "type": "cross_district_settlement", "date": "2013-03-31", "region": "500116", "care_region": "500101",
         "amount": "750.00"}
    )
    assert regions_written(settlement) == ["500116", "500000", "500101"]
