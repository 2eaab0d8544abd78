from drf_spectacular.openapi import AutoSchema

from .serializers import ErrorSerializer, ValidationErrorSerializer


class WaymarkAutoSchema(AutoSchema):
    """Adds the errors every endpoint can answer, so clients see them in the schema."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {"401": ErrorSerializer, "403": ErrorSerializer, "429": ErrorSerializer}
        if self.method in ("POST", "PATCH", "PUT") or self._is_list_view():
            errors["400"] = ValidationErrorSerializer
        if "{" in self.path:
            errors["404"] = ErrorSerializer
        for code, serializer in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(serializer, code)
        return responses
