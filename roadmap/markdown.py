"""Markdown to safe HTML, in time linear in the text: the one renderer of members' prose (feature
requirements and positioning answers; the external page shows answers to anonymous outsiders).

- Parsing: pyromark, a binding of pulldown-cmark (CommonMark plus tables, strikethrough and
  definition lists). Python-Markdown, used before, took quadratic time on runs of brackets:
  ``"[a](" * 4000`` rendered in 7 s. markdown-it-py is linear too but took 100-800 ms on 10-40 KB
  of such input; pulldown-cmark takes a few milliseconds. Footnotes stay off: pulldown-cmark has
  an open report of superlinear time on ``[^``.
- Sanitising: nh3 with an allow-list, as before. Its HTML tree builder spends time proportional to
  the depth of nesting at each tag, so 5,000 nested quotes or lists took seconds: text nested
  deeper than ``MAX_DEPTH`` levels, or carrying more than ``MAX_RAW_TAGS`` tags of raw HTML, is
  shown as plain text instead. So is text longer than ``MARKDOWN_MAX_LENGTH`` (only rows saved
  before that limit was enforced can be).
- Caching: the last ``CACHE_SIZE`` rendered texts, per process.
"""

import functools
import re

import nh3
import pyromark
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

from roadmap.bounds import MARKDOWN_MAX_LENGTH

# What the prose may contain once rendered: text structure, code, tables and links. No images
# (they would call outside servers from a reader's browser), no styles, no scripts.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "sup", "sub", "abbr", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}

# Real prose nests a few levels (a list in a list in a quote); 32 is far beyond it.
MAX_DEPTH = 32
# Raw HTML is allowed (and sanitised) for the odd <sup> or <abbr>. Its tags are not counted on
# to close, so each one may deepen the tree; empty ones (<br>, <hr>) cannot and are not counted.
MAX_RAW_TAGS = 50
CACHE_SIZE = 256

_PARSER = pyromark.Markdown(
    options=pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_DEFINITION_LIST
)
# A start tag as an HTML parser sees one ("<" and a letter), but for elements that are always empty.
_TAG_START = re.compile(r"<(?!(?:area|br|col|embed|hr|img|input|source|track|wbr)\b)[a-z]", re.I)


def _formattable(text: str) -> bool:
    """Whether ``text`` is nested at most ``MAX_DEPTH`` deep and has at most ``MAX_RAW_TAGS``
    raw HTML tags: one pass over the parser's events, stopping as soon as either is exceeded."""
    depth = raw_tags = 0
    for event in _PARSER.events(text):
        if "Start" in event:
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif "End" in event:
            depth -= 1
        elif "Html" in event or "InlineHtml" in event:
            raw = event["Html"] if "Html" in event else event["InlineHtml"]
            raw_tags += len(_TAG_START.findall(raw))
            if raw_tags > MAX_RAW_TAGS:
                return False
    return True


def _plain(text: str) -> SafeString:
    """The text escaped, in paragraphs with its line breaks: linear whatever it contains."""
    return mark_safe(linebreaks(text, autoescape=True))  # noqa: S308 — escaped by linebreaks


def to_html(text: str) -> SafeString:
    """``text`` rendered and sanitised, or as plain text when nested too deep (not cached)."""
    if not _formattable(text):
        return _plain(text)
    cleaned = nh3.clean(
        _PARSER.html(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 — sanitised by nh3 just above


def render(text: str | None) -> SafeString:
    """``text`` as sanitised HTML: safe to show anyone, whoever wrote it."""
    if not text:
        return mark_safe("")
    if len(text) > MARKDOWN_MAX_LENGTH:
        return _plain(text)
    return _cached(text)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached(text: str) -> SafeString:
    return to_html(text)
