"""OpenAPI generation: every operation documents the error shape for each status it can
answer, so clients (and the schemathesis tests) can rely on the schema for failures too."""

from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer of the API has this shape.",
    "properties": {
        "code": {"type": "string", "description": "Stable, for programs (e.g. `invalid`)."},
        "message": {"type": "string", "description": "For people."},
        "fields": {
            "type": "object",
            "description": "Request field (or header) → its messages; empty if none is at fault.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "fields"],
}

RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}

COMMON_ERRORS = {
    "400": "Invalid input (a query parameter, or the body).",
    "401": "Not logged in, or the token is invalid or revoked.",
    "403": "Logged in but not allowed.",
    "404": "No such object, or not visible to you.",
    "406": "The Accept header asks for something other than JSON.",
}
WRITE_ERRORS = {
    "415": "The body is not JSON.",
    "429": "Too many writes; wait `Retry-After` seconds.",
    "503": "A dependency (the payment provider) is unavailable; try again later.",
}
IDEMPOTENT_ERRORS = {"422": "The Idempotency-Key was used with a different body."}


class SlateAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        # /api/v1/slates/{slug}/totals -> "slates"
        parts = [p for p in self.path.split("/") if p and not p.startswith("{")]
        return [parts[2] if len(parts) > 2 else "api"]


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            errors = dict(COMMON_ERRORS)
            if method in ("post", "put", "patch", "delete"):
                errors.update(WRITE_ERRORS)
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                errors.update(IDEMPOTENT_ERRORS)
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                response = {"description": description, "content": reference}
                if code in ("429", "503"):
                    response["headers"] = RETRY_AFTER
                responses.setdefault(code, response)
    return result
