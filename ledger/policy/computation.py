"""How a rule computed an amount: facts in, policy figures used, steps, result.

A rule builds its ``Computation`` with an ``Explainer`` as it goes, so the
record an auditor reads years later is the computation itself, not a
description written beside it. The record is plain JSON and is kept in the
posting event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.money import format_yuan
from ledger.policy import Policy


@dataclass
class Step:
    """One line of a computation.

    Attributes:
      label: what was worked out, e.g. ``deductible`` or ``policy: tier 1 level-2 rate``.
      formula: how, with the figures, e.g. ``(12000.00 − 800.00) × 60% = 6720.00``.
      value: the result, as text (yuan, percent or count).
      source: the seed and clause, for a policy figure; the rule, for a computed step.
    """

    label: str
    formula: str
    value: str
    source: str = ""


@dataclass
class Computation:
    rule: str
    facts: dict[str, Any]
    policy: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    amounts: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "facts": self.facts,
            "policy": self.policy,
            "steps": [vars(s) for s in self.steps],
            "amounts": dict(self.amounts),
            "usage": dict(self.usage),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Computation":
        return cls(
            rule=data["rule"],
            facts=dict(data["facts"]),
            policy=dict(data["policy"]),
            steps=[Step(**s) for s in data["steps"]],
            amounts={k: int(v) for k, v in data["amounts"].items()},
            usage={k: int(v) for k, v in data.get("usage", {}).items()},
        )


class Explainer:
    """Records every policy figure a rule reads and every step it computes."""

    def __init__(self, rule: str, facts: Mapping[str, Any], policy: Policy) -> None:
        self.computation = Computation(rule=rule, facts=_plain(facts), policy=policy.reference())
        self.policy = policy
        self._used: set[str] = set()

    def _use(self, name: str) -> Any:
        parameter = self.policy.get(name)
        if name in self._used:
            return parameter.value
        self._used.add(name)
        source = parameter.source + (f" ({parameter.note})" if parameter.note else "")
        self.computation.steps.append(Step(f"policy {name}", parameter.file_id, parameter.shown(), source))
        return parameter.value

    def money(self, name: str) -> int:
        """A yuan figure of policy, in fen."""
        return int(self._use(name))

    def percent(self, name: str) -> Decimal:
        return Decimal(self._use(name))

    def count(self, name: str) -> int:
        return int(self._use(name))

    def text(self, name: str) -> str:
        return str(self._use(name))

    def flag(self, name: str) -> bool:
        return bool(self._use(name))

    def step(self, label: str, formula: str, value_fen: int, source: str = "") -> int:
        """Record a computed money step and return its value."""
        self.computation.steps.append(Step(label, formula, format_yuan(value_fen), source or self.computation.rule))
        return value_fen

    def note(self, label: str, text: str, source: str = "") -> None:
        """Record a decision that is not an amount (a cap reached, a category chosen)."""
        self.computation.steps.append(Step(label, text, "", source or self.computation.rule))

    def done(self, amounts: Mapping[str, int], usage: Mapping[str, int] | None = None) -> Computation:
        self.computation.amounts = {k: int(v) for k, v in amounts.items()}
        self.computation.usage = {k: int(v) for k, v in (usage or {}).items()}
        return self.computation


def _plain(value: Any) -> Any:
    """Facts as JSON-safe values: money stays as the yuan text it came in."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
