"""The limits a member's input stays within, so that no single row can make a page slow or an
email fail.

Names and titles are single lines; Markdown is bounded in length (its rendering is linear, see
``roadmap.markdown``); dates are bounded to a range a roadmap can mean. All are model validators:
the forms, the services' ``full_clean`` and the API's model serializers all apply them, with the
same message. Rows saved before these limits keep their values (validators change no data): the
pages that draw dates, the timeline and the business case, clamp what they draw to
``DRAWN_YEARS`` around today, and email subjects fold a name's line breaks into spaces.
"""

import datetime

from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)

# Longest Markdown a member can save (requirements, positioning answers): about ten pages.
MARKDOWN_MAX_LENGTH = 20_000

markdown_length = MaxLengthValidator(
    MARKDOWN_MAX_LENGTH,
    "Keep this to %(limit_value)s characters at most (it has %(show_value)s).",
)

# Names and titles are one line of text: they go into email subjects, where a line break is
# refused, and into Atom feeds, where XML 1.0 takes no control characters.
single_line = RegexValidator(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029]",
    "Keep this to one line: no line breaks, tabs or other control characters.",
    code="single_line",
    inverse_match=True,
)

# Every date a member sets falls in these years.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
DATE_RANGE_MESSAGE = "Enter a date between 1 January 2000 and 31 December 2099."

date_range = [
    MinValueValidator(EARLIEST_DATE, DATE_RANGE_MESSAGE),
    MaxValueValidator(LATEST_DATE, DATE_RANGE_MESSAGE),
]
# A moment (a link's expiry) is in range if it falls on one of those days in some time zone: the
# end of 31 December 2099 is 1 January 2100, 08:00 UTC in California.
datetime_range = [
    MinValueValidator(datetime.datetime(1999, 12, 31, tzinfo=datetime.UTC), DATE_RANGE_MESSAGE),
    MaxValueValidator(datetime.datetime(2100, 1, 2, tzinfo=datetime.UTC), DATE_RANGE_MESSAGE),
]

# A launch template task is due at most this many days before (or, negative, after) its release.
LEAD_DAYS = 730
LEAD_DAYS_MESSAGE = "Enter a number of days from -730 to 730 (two years either side)."
lead_days_range = [
    MinValueValidator(-LEAD_DAYS, LEAD_DAYS_MESSAGE),
    MaxValueValidator(LEAD_DAYS, LEAD_DAYS_MESSAGE),
]


def clamp_date(day: datetime.date) -> datetime.date:
    """A computed date, kept inside the years every set date falls in."""
    return min(max(day, EARLIEST_DATE), LATEST_DATE)


# The timeline and the business case draw at most this many years before and after today's
# quarter; what lies further out is drawn at the edge (timeline) or summed apart (business case).
DRAWN_YEARS = 5


def drawn_window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day (inclusive) that the timeline and business case may draw: whole
    quarters, ``DRAWN_YEARS`` before today's quarter to ``DRAWN_YEARS`` after it."""
    quarter_month = 3 * ((today.month - 1) // 3) + 1
    first = datetime.date(today.year - DRAWN_YEARS, quarter_month, 1)
    after = datetime.date(today.year + DRAWN_YEARS, quarter_month, 1)
    end_month = after.month + 3
    following = datetime.date(after.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def whole_number(raw: object, *, low: int = 0, high: int = 2**63 - 1) -> int | None:
    """A query-string value as a whole number from ``low`` to ``high``, else None. ASCII digits
    only: ``str.isdigit`` also takes "²" and "١", which ``int`` refuses (a 500 where a bad value
    should be ignored or refused); and no longer than ``high`` is written, so ``int`` is never
    handed thousands of digits."""
    text = raw if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None
