from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from roadmap.api.serializers import ErrorSerializer

# DRF's 400 body: each invalid field (or "non_field_errors", or "detail" for unparsable input)
# maps to its messages — a list of strings, or an object for nested fields.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Each invalid field maps to a list of messages (an object for nested fields).",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
}


# Conditional requests (ConditionalGetMiddleware): every GET answers an ETag of its body, and a
# 304 with no body to an If-None-Match that still matches.
CONDITIONAL_GET_PARAMETERS = [
    OpenApiParameter(
        "If-None-Match",
        str,
        location=OpenApiParameter.HEADER,
        description="The `ETag` of an earlier answer: if nothing changed, the answer is a 304 "
        "with no body.",
    ),
    OpenApiParameter(
        "ETag",
        str,
        location=OpenApiParameter.HEADER,
        response=[200, 304],
        description="Identifies this answer's body; send it back as `If-None-Match`.",
    ),
]


class WaymarkAutoSchema(AutoSchema):
    """Adds the errors every endpoint can answer, and conditional GETs (ETag, If-None-Match, 304),
    so clients see them in the schema."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "GET":
            parameters = [*parameters, *CONDITIONAL_GET_PARAMETERS]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method == "GET" and "304" not in responses:
            responses["304"] = {
                **self._get_response_for_code(None, "304", direction=direction),
                "description": "Not modified: the copy named by `If-None-Match` is current.",
            }
        errors = {"401": ErrorSerializer, "403": ErrorSerializer, "429": ErrorSerializer}
        if self.method in ("POST", "PATCH", "PUT") or self._is_list_view():
            errors["400"] = VALIDATION_ERROR_SCHEMA
        if "{" in self.path or self._is_list_view():
            # Lists answer 404 for a page past the end.
            errors["404"] = ErrorSerializer
        for code, schema in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(schema, code)
        return responses
