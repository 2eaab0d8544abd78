"""The limits a member's input stays within, so that no single row can make a page slow.

Markdown is bounded in length (its rendering is linear, see ``roadmap.markdown``); dates are
bounded to a range a roadmap can mean. Both are model validators: the forms, the services'
``full_clean`` and the API's model serializers all apply them, with the same message. Rows saved
before these limits keep their values (validators change no data): the pages that draw dates,
the timeline and the business case, clamp what they draw to ``DRAWN_YEARS`` around today.
"""

import datetime

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator

# Longest Markdown a member can save (requirements, positioning answers): about ten pages.
MARKDOWN_MAX_LENGTH = 20_000

markdown_length = MaxLengthValidator(
    MARKDOWN_MAX_LENGTH,
    "Keep this to %(limit_value)s characters at most (it has %(show_value)s).",
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
