"""The API's edge: how request bodies and parameters are parsed, and which error statuses the OpenAPI
document declares. Central, so that no handler has to remember either.

- `StrictParser` parses JSON bodies strictly (no NaN / Infinity / overflowing numbers, no NUL or lone
  surrogates in any string, each refusal naming its field) and checks every query, form and file-name
  value the same way; a body that is not JSON is a 415 (wrong content type) or 400 (not JSON).
- `declare_error_statuses` adds to every operation the problem responses it can give, derived from
  what the operation takes: 400/422 when it takes input, 401/403 when it needs a signed-in user,
  404 when its path names an object, 415 when it takes a JSON body. Statuses a handler declares itself
  (e.g. 409) stay as declared.
"""

from __future__ import annotations

from typing import Any

from ninja.parser import Parser

from tongban.core.errors import InvalidInput, Problem
from tongban.core.inputs import parse_json, query_value_problem

PROBLEMS_SCHEMA = "ProblemsOut"
_DESCRIPTIONS = {
    "400": "Malformed request (not JSON, a malformed multipart body, a NUL character in the path)",
    "401": "Not signed in (no session, or an invalid or expired access token)",
    "403": "Refused (missing CSRF token for a session, or the access token lacks the scope)",
    "404": "Not found, or not visible to this user",
    "415": "Unsupported content type (this operation takes application/json)",
    "422": "A rule was broken: a list of {field, rule, zh, en}",
}


class UnsupportedMediaType(Exception):
    def __init__(self, content_type: str):
        self.problem = Problem("Content-Type", "content_type.unsupported",
                               f"不支持的内容类型 {content_type}，请使用 application/json",
                               f"unsupported content type {content_type}; send application/json")
        super().__init__(self.problem.line())


class StrictParser(Parser):
    def parse_body(self, request) -> Any:
        content_type = (request.content_type or "").lower()
        if content_type and content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(content_type)
        return parse_json(request.body)

    def parse_querydict(self, data, list_fields, request) -> dict:
        problems: list[Problem] = []
        for key, values in data.lists():
            for value in [key, *values]:
                text = value if isinstance(value, str) else getattr(value, "name", None)
                problem = query_value_problem(text, key) if isinstance(text, str) else None
                if problem:
                    problems.append(problem)
                    break
        if problems:
            raise InvalidInput(problems)
        return super().parse_querydict(data, list_fields, request)


def declare_error_statuses(schema: dict) -> dict:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(PROBLEMS_SCHEMA, {
        "title": PROBLEMS_SCHEMA, "type": "object", "required": ["detail"],
        "properties": {"detail": {"title": "Detail", "type": "array",
                                  "items": {"type": "object", "additionalProperties": True}}},
    })
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            statuses = set()
            parameters = operation.get("parameters") or []
            body = operation.get("requestBody")
            if parameters or body:
                statuses |= {"400", "422"}
            if operation.get("security"):
                statuses |= {"401", "403"}
            if "{" in path:
                statuses.add("404")
            if body and "application/json" in body.get("content", {}):
                statuses.add("415")
            responses = {str(code): value for code, value in (operation.get("responses") or {}).items()}
            for status in sorted(statuses):
                responses.setdefault(status, {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{PROBLEMS_SCHEMA}"}}},
                })
            operation["responses"] = dict(sorted(responses.items()))  # codes as text, as in the JSON file
    return schema
