"""The API's JSON parser: DRF's, with a bound on nesting.

Python's json module recurses once per level of nesting, so ``[[[[…]]]]`` a few thousand levels
deep raises RecursionError (a 500) instead of a parse error. No request of this API nests more
than a few levels, so deeper bodies are refused before json reads them. (The body's size is
bounded before any parser runs: DRF reads it through Django's ``request.body``, which refuses one
over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with a 400.)
"""

import io
import re
from itertools import accumulate

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 20

# A string, or an unterminated one up to the end: one pass, never backtracking.
_STRING = re.compile(rb'"(?:[^"\\]+|\\.)*"?', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def json_depth(body: bytes) -> int:
    """How deep json would recurse into ``body``'s arrays and objects (closed or not): strings
    dropped, each opener +1 and each closer -1, the highest running sum (all in C)."""
    steps = _STRING.sub(b"", body).translate(_STEPS, _NOT_BRACKET)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser; a body nested deeper than ``MAX_DEPTH`` is a 400 saying so."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        if json_depth(body) > MAX_DEPTH:
            raise ParseError(
                f"JSON parse error - arrays and objects nest at most {MAX_DEPTH} levels deep."
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)
