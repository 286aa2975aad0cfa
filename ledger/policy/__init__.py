"""Policy: the figures of the seeds, per region and effective date, each with its source.

A policy file (TOML, in ``files/``) belongs to a region — a province
(``XX0000``), a municipality, or a district that raises a minimum — and takes
effect on a date. The policy in force for a district on a date is every file
of the district, its municipality and its province that has taken effect by
then, applied in date order, broader regions first on the same date, later
figures replacing earlier ones. A district file may only raise a figure the
seeds set as a minimum (不低于); anything else is refused when loading.

File layout::

    [policy]
    id = "chongqing-2011"
    region = "500000"
    effective_from = "2012-01-01"
    seed = "004_9700c8a0963dcb6b.txt"
    title = "渝办发〔2011〕293号 …"

    [parameters."resident.inpatient.rate_percent.tier_1.level_1"]
    value = "80"
    unit = "percent"          # yuan | percent | count | text | flag
    minimum = false           # true for 不低于: a district may set more
    set_by = ""               # "municipality" or "district": a figure the seed leaves to the region
    source = "渝办发〔2011〕293号 四(二)"
    note = "optional: the reading we took"

    [gaps."resident.minor_terms"]   # a figure the seed leaves to a later 具体办法
    what = "minors' better terms than adults of the same tier"
    source = "渝府发〔2007〕113号 三(八) …由市劳动保障局…研究具体办法"
    parameters = []           # the figures that close the gap, once another file sets them

Who may set a figure: a district file may raise a ``minimum`` figure, and
may set any value of a figure whose ``set_by`` in force is ``"district"``
(the municipality lets its districts set it). A figure ``set_by =
"municipality"`` is the pooling region's own: its municipality's file sets
it, a district file may not. Every other figure is the seed's.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from ledger.errors import LedgerError
from ledger.money import MoneyFormatError, parse_yuan
from ledger.regions import RegionCode, municipality_of

UNITS = ("yuan", "percent", "count", "text", "flag")
# Who sets a figure the seed leaves to the region: "" the seed itself; "municipality" the
# pooling region (a municipality's file); "district" a district file too, the municipality allowing.
SET_BY = ("", "municipality", "district")


class PolicyError(LedgerError):
    """A policy file is malformed, or no figure is in force for a region and date."""

    rule = "policy in force"


@dataclass(frozen=True)
class Parameter:
    """One figure of policy.

    Attributes:
      name: dotted name, e.g. ``resident.tier_1.amount``.
      value: fen (``int``) for yuan, ``Decimal`` for percent, ``int`` for count,
        ``str`` for text, ``bool`` for flag.
      unit: one of ``UNITS``.
      minimum: the seed says 不低于, so a district may set more.
      source: seed file and clause.
      file_id: the policy file it came from.
      note: the reading we took, where the seed leaves a choice.
      set_by: "" for the seed's own figure; "municipality" for a figure the
        seed leaves to the pooling region; "district" when the municipality
        lets its districts set it (one of ``SET_BY``).
    """

    name: str
    value: Any
    unit: str
    minimum: bool
    source: str
    file_id: str
    note: str = ""
    set_by: str = ""

    def shown(self) -> str:
        from ledger.money import format_yuan

        if self.unit == "yuan":
            return format_yuan(self.value)
        if self.unit == "percent":
            return f"{self.value}%"
        return str(self.value)


@dataclass(frozen=True)
class Gap:
    """A figure a seed leaves to a later 具体办法 (or to the region), so an agency knows what its file must supply.

    Attributes:
      name: dotted name, e.g. ``resident.minor_terms``.
      what: what is left open, in an accountant's words.
      source: the seed's official number and clause that leave it open.
      file_id: the policy file that records the gap.
      parameters: the figures that close the gap; it is closed once another
        file in force sets every one of them. Empty when no figure of ours
        can express it yet (it stays open).
      note: what the ledger does meanwhile (a default we set, a refusal).
      set_by: who supplies the figures: "municipality" (the pooling
        region's file), or "district" (a district's own file may set them,
        though nothing of the kind is in force yet).
    """

    name: str
    what: str
    source: str
    file_id: str
    parameters: tuple[str, ...] = ()
    note: str = ""
    set_by: str = ""


@dataclass(frozen=True)
class PolicyFile:
    id: str
    region: RegionCode
    effective_from: date
    seed: str
    title: str
    parameters: dict[str, Parameter]
    digest: str
    gaps: dict[str, Gap] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """The policy in force for one region on one date."""

    region: RegionCode
    on: date
    files: tuple[str, ...]
    version: str
    parameters: dict[str, Parameter] = field(default_factory=dict)
    recorded_gaps: tuple[Gap, ...] = ()

    def get(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise PolicyError(
                f"no policy figure '{name}' is in force for {self.region} on {self.on.isoformat()} "
                f"(files: {', '.join(self.files) or 'none'})"
            ) from None

    def has(self, name: str) -> bool:
        return name in self.parameters

    def gaps(self) -> tuple[Gap, ...]:
        """The figures the seeds in force leave open, by name: what an agency's own file must supply.

        A gap recorded by a file is closed once a file other than that one
        sets every figure in its ``parameters`` (the region's own file); a gap
        with no such figures stays open.
        """
        open_gaps = []
        for gap in self.recorded_gaps:
            closed = bool(gap.parameters) and all(
                name in self.parameters and self.parameters[name].file_id != gap.file_id for name in gap.parameters
            )
            if not closed:
                open_gaps.append(gap)
        return tuple(sorted(open_gaps, key=lambda g: g.name))

    def gap_for(self, name: str) -> Gap | None:
        """The open gap of that name, or that a figure of that name would close: what a refusal names when it is missing."""
        return next((gap for gap in self.gaps() if gap.name == name or name in gap.parameters), None)

    def reference(self) -> dict[str, Any]:
        """What an event keeps so an auditor can find the exact policy again."""
        return {"region": self.region, "on": self.on.isoformat(), "files": list(self.files), "version": self.version}


def _parse_value(file_id: str, name: str, raw: dict[str, Any]) -> Any:
    unit = raw.get("unit")
    value = raw.get("value")
    try:
        if unit == "yuan":
            return parse_yuan(str(value))
        if unit == "percent":
            return Decimal(str(value))
        if unit == "count":
            return int(str(value))
        if unit == "text":
            return str(value)
        if unit == "flag":
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
    except (MoneyFormatError, InvalidOperation, ValueError):
        raise PolicyError(f"policy file {file_id}: {name} = {value!r} is not a {unit}") from None
    raise PolicyError(f"policy file {file_id}: {name} has unit {unit!r}; use one of {', '.join(UNITS)}")


def parse_policy_file(text: str) -> PolicyFile:
    table = tomllib.loads(text)
    head = table.get("policy", {})
    file_id = str(head.get("id", "(no id)"))
    for key in ("id", "region", "effective_from", "seed", "title"):
        if key not in head:
            raise PolicyError(f"policy file {file_id}: [policy] needs '{key}'")
    parameters = {}
    for name, raw in table.get("parameters", {}).items():
        if not raw.get("source"):
            raise PolicyError(f"policy file {file_id}: {name} has no source (seed and clause)")
        set_by = str(raw.get("set_by", ""))
        if set_by not in SET_BY:
            raise PolicyError(f"policy file {file_id}: {name} has set_by {set_by!r}; use municipality or district")
        parameters[name] = Parameter(
            name=name,
            value=_parse_value(file_id, name, raw),
            unit=raw["unit"],
            minimum=bool(raw.get("minimum", False)),
            source=str(raw["source"]),
            file_id=file_id,
            note=str(raw.get("note", "")),
            set_by=set_by,
        )
    gaps = {name: _parse_gap(file_id, name, raw) for name, raw in table.get("gaps", {}).items()}
    effective = head["effective_from"]
    return PolicyFile(
        id=file_id,
        region=str(head["region"]),
        effective_from=effective if isinstance(effective, date) else date.fromisoformat(str(effective)),
        seed=str(head["seed"]),
        title=str(head["title"]),
        parameters=parameters,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        gaps=gaps,
    )


def _parse_gap(file_id: str, name: str, raw: dict[str, Any]) -> Gap:
    for key in ("what", "source"):
        if not raw.get(key):
            raise PolicyError(f"policy file {file_id}: gap {name} has no {key}")
    names = raw.get("parameters", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PolicyError(f"policy file {file_id}: gap {name}: parameters is a list of figure names")
    set_by = str(raw.get("set_by", ""))
    if set_by not in SET_BY:
        raise PolicyError(f"policy file {file_id}: gap {name} has set_by {set_by!r}; use municipality or district")
    return Gap(name, str(raw["what"]), str(raw["source"]), file_id, tuple(names), str(raw.get("note", "")), set_by)


@lru_cache(maxsize=1)
def policy_files() -> tuple[PolicyFile, ...]:
    folder = resources.files("ledger").joinpath("policy/files")
    files = [
        parse_policy_file(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
    ids = [f.id for f in files]
    if len(ids) != len(set(ids)):
        raise PolicyError(f"two policy files share an id: {sorted(ids)}")
    return tuple(files)


def _scope_rank(file_region: RegionCode, region: RegionCode) -> int | None:
    """0 province, 1 municipality, 2 the district itself; None when the file does not apply."""
    province = region[:2] + "0000"
    if file_region == province and file_region != region:
        return 0
    if file_region == municipality_of(region) and file_region != region:
        return 1
    if file_region == region:
        return 1 if municipality_of(region) == region else 2
    return None


def load_policy(region: RegionCode, on: date, files: tuple[PolicyFile, ...] | None = None) -> Policy:
    """The policy in force for ``region`` on ``on``."""
    if files is None:
        return _load_packaged_policy(region, on)
    return _merge(region, on, files)


@lru_cache(maxsize=4096)
def _load_packaged_policy(region: RegionCode, on: date) -> Policy:
    # The package's files never change while the process runs, so a region and date always give the same policy.
    return _merge(region, on, policy_files())


def _merge(region: RegionCode, on: date, files: tuple[PolicyFile, ...]) -> Policy:
    candidates = []
    for policy_file in files:
        rank = _scope_rank(policy_file.region, region)
        if rank is not None and policy_file.effective_from <= on:
            candidates.append((policy_file.effective_from, rank, policy_file))
    candidates.sort(key=lambda item: (item[0], item[1], item[2].id))
    parameters: dict[str, Parameter] = {}
    gaps: dict[str, Gap] = {}
    for _, rank, policy_file in candidates:
        gaps.update(policy_file.gaps)
        for name, parameter in policy_file.parameters.items():
            base = parameters.get(name)
            if rank == 2 and not (base is None and _district_supplies(gaps, name)):
                _check_district_override(policy_file, base, parameter)
                if base is not None and base.set_by and not parameter.set_by:
                    # Still the district's to set in a later file of its own.
                    parameter = replace(parameter, set_by=base.set_by)
            parameters[name] = parameter
    if not candidates:
        raise PolicyError(f"no policy file is in force for region {region} on {on.isoformat()}")
    digest = hashlib.sha256("".join(c[2].digest for c in candidates).encode()).hexdigest()[:16]
    return Policy(region, on, tuple(c[2].id for c in candidates), digest, parameters, tuple(gaps.values()))


def _district_supplies(gaps: dict[str, Gap], name: str) -> bool:
    """A figure the seed in force leaves to the district (a gap ``set_by = "district"`` names it)."""
    return any(gap.set_by == "district" and name in gap.parameters for gap in gaps.values())


def _check_district_override(policy_file: PolicyFile, base: Parameter | None, override: Parameter) -> None:
    if base is None:
        raise PolicyError(f"policy file {policy_file.id}: {override.name} overrides nothing in force")
    if base.set_by == "district":
        # The municipality lets its districts set this figure: any value, in the same unit.
        if base.unit != override.unit:
            raise PolicyError(
                f"policy file {policy_file.id}: {override.name} is in {override.unit}, but {base.file_id} sets it in {base.unit}"
            )
        return
    if base.set_by == "municipality":
        raise PolicyError(
            f"policy file {policy_file.id}: {override.name} is set by the municipality ({base.file_id}: {base.source}); "
            "a district may set it only where its municipality's file marks it set_by = \"district\""
        )
    if not base.minimum:
        raise PolicyError(
            f"policy file {policy_file.id}: {override.name} is not a minimum (不低于) in {base.file_id}; "
            "a district may only raise minimums"
        )
    if base.unit != override.unit or override.value < base.value:
        raise PolicyError(
            f"policy file {policy_file.id}: {override.name} = {override.shown()} is below the minimum "
            f"{base.shown()} of {base.file_id}"
        )
