"""The official statements: 资产负债表 (会社保01表) and 收支表 (会社保02表).

``compute`` gives a statement for one book or a consolidated fund, as of a
date and as known on a recorded time, after checking its invariants;
``render`` writes it as Rich, JSON, CSV or XLSX; ``issuing`` records issued
statements and what changed between issues; ``compare`` checks a published
statement against the books and against itself. docs/statements.md has the
forms, their lines and the layouts.
"""

from ledger.statements.compute import compute
from ledger.statements.errors import (
    InvariantFailure,
    IssueError,
    PublishedStatementError,
    StatementInvariantError,
    StatementRequestError,
)
from ledger.statements.forms import BALANCE_SHEET, FORMS, INCOME_STATEMENT
from ledger.statements.model import Period, Scope, Statement

__all__ = [
    "BALANCE_SHEET",
    "FORMS",
    "INCOME_STATEMENT",
    "InvariantFailure",
    "IssueError",
    "Period",
    "PublishedStatementError",
    "Scope",
    "Statement",
    "StatementInvariantError",
    "StatementRequestError",
    "compute",
]
