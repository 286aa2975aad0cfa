"""Pooling regions, named by their six-digit administrative codes (GB/T 2260).

The municipality a district belongs to follows from its code: for the four
municipalities under the central government (北京 11, 天津 12, 上海 31,
重庆 50) it is ``XX0000``; elsewhere the prefecture ``XXYY00``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

RegionCode = str
DIRECT_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
_REGION_CODE = re.compile(r"^[1-8][0-9]{5}$")


def is_region_code(code: str) -> bool:
    return bool(_REGION_CODE.match(code))


def municipality_of(code: RegionCode) -> RegionCode:
    """The municipality (市) whose adjustment fund and statements include ``code``."""
    if code[:2] in DIRECT_MUNICIPALITIES:
        return code[:2] + "0000"
    return code[:4] + "00"


@dataclass(frozen=True)
class Region:
    """A named region from the package's region list.

    Attributes:
      code: the six-digit administrative code.
      name: the Chinese name.
      district_class: ``main_urban`` (主城区), ``general`` or ``poverty_key``
        (国家扶贫开发重点区县), which decides the municipal share of subsidies;
        empty for a municipality itself.
    """

    code: RegionCode
    name: str
    district_class: str = ""


@lru_cache(maxsize=1)
def known_regions() -> dict[RegionCode, Region]:
    text = resources.files("ledger").joinpath("data/regions.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)
    return {
        code: Region(code=code, name=row["name"], district_class=row.get("class", ""))
        for code, row in table["regions"].items()
    }


def region_name(code: RegionCode) -> str:
    region = known_regions().get(code)
    return region.name if region else code
