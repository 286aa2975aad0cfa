"""The policy: what is in force for a region on a date, figure by figure with its source; and the checks it sets on the funds."""

from __future__ import annotations

from ledger.dates import parse_date
from ledger.errors import LedgerError
from ledger.policy import Policy, load_policy
from ledger.policy.checks import Finding, surplus_findings
from ledger.store import Ledger
from ledger.tasks.reading import current


class PolicyRequestError(LedgerError):
    """A policy was asked for on text that is not a date, or for a region or date no policy file covers."""

    rule = "policy in force"

    def describe(self) -> str:
        return self.message


def in_force(region: str, on: str) -> Policy:
    """The policy in force for ``region`` on ``on`` (``YYYY-MM-DD``); ``PolicyRequestError`` or ``PolicyError`` otherwise."""
    try:
        return load_policy(region, parse_date(on))
    except ValueError as error:
        raise PolicyRequestError(str(error)) from None


def policy_json(policy: Policy) -> dict[str, object]:
    """The policy's reference (region, date, version, files), every parameter (value as written, unit, whether a
    minimum (不低于), source (seed and clause), file and note; sorted by name), and every gap: a figure the seeds
    leave to a later 具体办法 or to the region (what, the clause that leaves it open, the figures that would close
    it, who sets them), which the agency's own policy file must supply."""
    parameters = [
        {"name": p.name, "value": p.shown(), "unit": p.unit, "minimum": p.minimum, "source": p.source, "file": p.file_id, "note": p.note}
        for p in sorted(policy.parameters.values(), key=lambda p: p.name)
    ]
    gaps = [
        {
            "name": g.name,
            "what": g.what,
            "source": g.source,
            "note": g.note,
            "file": g.file_id,
            "parameters": list(g.parameters),
            "set_by": g.set_by,
        }
        for g in policy.gaps()
    ]
    return {**policy.reference(), "parameters": parameters, "gaps": gaps}


def check(ledger: Ledger, region: str, year: int) -> list[Finding]:
    """The policy's surplus checks on each fund of ``region`` (a district, or a municipality with its districts) in ``year``."""
    return surplus_findings(current(ledger).engine, region, year)


def check_json(region: str, year: int, findings: list[Finding]) -> dict[str, object]:
    """``{"region", "year", "findings": [{"book", "message"}]}``."""
    return {"region": region, "year": year, "findings": [{"book": f.book, "message": f.message} for f in findings]}
