"""Dates as documents, facts and statements write them: ``YYYY-MM-DD``, and a day the calendar has.

Two different mistakes get two different messages: text that is not written
``YYYY-MM-DD`` at all is a format error; ``2015-02-30`` is written right but
is not a day of the calendar.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from ledger.money import shown

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class DateFormatError(ValueError):
    """The text is not a date written ``YYYY-MM-DD``."""


class NotACalendarDayError(DateFormatError):
    """The text is written ``YYYY-MM-DD`` but names no day (``2015-02-30``, month 13, day 00)."""


def parse_date(value: object) -> date:
    """The date ``value`` writes as ``YYYY-MM-DD`` (spaces around removed), or one of the errors above."""
    text = str(value).strip()
    found = _ISO_DATE.fullmatch(text)
    if found is None:
        raise DateFormatError(f"{shown(value)} is not a date written YYYY-MM-DD")
    return calendar_day(int(found[1]), int(found[2]), int(found[3]), value)


def calendar_day(year: int, month: int, day: int, written: object) -> date:
    """``date(year, month, day)``, or ``NotACalendarDayError`` saying why there is no such day."""
    if not 1 <= month <= 12:
        raise NotACalendarDayError(f"{shown(written)} is not a day of the calendar: there is no month {month}")
    if year < 1:
        raise NotACalendarDayError(f"{shown(written)} is not a day of the calendar: there is no year {year}")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise NotACalendarDayError(f"{shown(written)} is not a day of the calendar: {year}-{month:02d} has {days} days")
    return date(year, month, day)
