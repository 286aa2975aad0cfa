"""The ledger's use cases, one room per task a user performs.

The command line (``ledger.cli``) and any other face call these functions
and only parse what comes in and render what goes out. Each function takes
plain arguments (a ``Ledger``, region, scheme, year, dates as text) or a
request record that checks itself on creation, and returns plain records:
money as ``int`` fen in dataclasses, yuan text (``"1234.56"``) in the
``*_json`` shapes. A request that cannot be taken raises ``ArgumentError``;
a refusal any other ``LedgerError``. Nothing here prints or exits.

Rooms: ``posting`` (post documents, dry runs), ``balances`` (balance, trial
balance, books, 财政专户), ``periods`` (close, reopen, history),
``statements`` (show, trace, issue, issued, compare), ``tracing``,
``vouchers``, ``reconciling``, ``verifying`` (verify, rebuild),
``sealing``, ``explaining``, ``policy``, ``demo``, ``archiving`` (export,
import, copy, backup, restore); with ``arguments``
(the checks every request shares) and ``reading`` (finding books, dated
balances). The logic of each room stays in the core modules it calls
(``ledger.trace``, ``ledger.vouchers``, ``ledger.reconcile``,
``ledger.verify``, ``ledger.statements``, ``ledger.projections``).
"""
