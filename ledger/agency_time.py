"""The agency's time zone: how a bare date or clock time given by a user is read, and how recorded times print.

The ledger records every event's time in UTC. People at an agency think in
their own zone: "as known on 2024-03-31" means the end of that day where the
agency is, and a recorded time reads best in the zone it was recorded in.
The zone is ``Asia/Shanghai`` (China Standard Time, UTC+8, the one zone the
country uses) unless the environment variable ``LEDGER_TIMEZONE`` names
another IANA zone (docs/design.md, "Times").
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONE_VARIABLE = "LEDGER_TIMEZONE"
DEFAULT_ZONE = "Asia/Shanghai"
RECORDED_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


class TimeZoneError(ValueError):
    """``LEDGER_TIMEZONE`` names no time zone this machine knows."""


def agency_zone() -> ZoneInfo:
    """The agency's zone: ``LEDGER_TIMEZONE`` when set, else Asia/Shanghai. Raises ``TimeZoneError`` for an unknown name."""
    name = os.environ.get(ZONE_VARIABLE, "").strip() or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(f"{ZONE_VARIABLE}={name!r} is not a time zone name such as Asia/Shanghai") from None


def recorded_bound(value: datetime | date | str) -> datetime:
    """A "known on" bound as an aware datetime.

    A date alone (``2024-03-31``) means the last instant of that day in the
    agency's zone; a time without an offset is a time in the agency's zone;
    a time with an offset (``…+00:00``, ``…Z``) is taken as it says.
    Raises ``ValueError`` for text that is neither.
    """
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            value = date.fromisoformat(text)
        else:
            value = datetime.fromisoformat(text)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max)
    if value.tzinfo is None:
        value = value.replace(tzinfo=agency_zone())
    return value


def recorded_cutoff_text(value: datetime | date | str) -> str:
    """The bound as the fixed-width UTC text the projections hold (``2024-03-31T15:59:59.999999+00:00``)."""
    return recorded_bound(value).astimezone(timezone.utc).strftime(RECORDED_FORMAT)


def local_time(recorded: datetime | str | None) -> str:
    """A recorded time printed in the agency's zone, to the second: ``2024-03-31 23:59:59+08:00`` (ISO 8601 text).

    ``recorded`` is an aware datetime or ISO text (the projections' UTC text);
    a naive value is UTC, as the ledger records. None and empty text print empty.
    """
    if recorded is None or recorded == "":
        return ""
    moment = datetime.fromisoformat(recorded) if isinstance(recorded, str) else recorded
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(agency_zone())
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S") + f"{offset[:3]}:{offset[3:]}"
