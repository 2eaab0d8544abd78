from drf_spectacular.openapi import AutoSchema

from .serializers import ErrorSerializer

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


class WaymarkAutoSchema(AutoSchema):
    """Adds the errors every endpoint can answer, so clients see them in the schema."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
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
