"""The REST API under /api/v1/: one NinjaAPI, one router per app, errors bilingual and field-named."""

from __future__ import annotations

import logging

from django.db import DatabaseError, DataError
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tongban.core.errors import Busy, Conflict, Forbidden, InvalidInput, NotFound, Problem
from tongban.core.transactions import retryable

from .contract import StrictParser, UnsupportedMediaType, declare_error_statuses

log = logging.getLogger(__name__)


class TongbanAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return declare_error_statuses(super().get_openapi_schema(*args, **kwargs))


api = TongbanAPI(
    title="Tongban (通办) API",
    version="1",
    description="一网通办 / 一件事一次办 / 跨域通办. Errors: 4xx with a list of {field, rule, zh, en}: "
                "400 malformed request, 401 not signed in, 403 refused, 404 not found (or not yours), "
                "409 state conflict, 415 unsupported content type, 422 a rule broken.",
    urls_namespace="api-v1",
    parser=StrictParser(),
)

_PYDANTIC_ZH = {
    "missing": "必填",
    "string_type": "应为字符串",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是/否",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "json_invalid": "不是有效的 JSON",
    "too_short": "过短",
    "too_long": "过长",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "dict_type": "应为对象",
    "list_type": "应为数组",
}


def problems_response(request: HttpRequest, problems: list[Problem], status: int):
    return api.create_response(request, {"detail": [p.as_dict() for p in problems]}, status=status)


@api.exception_handler(InvalidInput)
def _invalid_input(request, exc: InvalidInput):
    return problems_response(request, exc.problems, 422)


@api.exception_handler(NinjaValidationError)
def _schema_invalid(request, exc: NinjaValidationError):
    problems = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        field = ".".join(loc) or "body"
        kind = err.get("type", "invalid")
        zh = _PYDANTIC_ZH.get(kind, "不符合要求")
        problems.append(Problem(field=field, rule=kind, zh=f"字段 {field} {zh}", en=f"field {field}: {err.get('msg', kind)}"))
    return problems_response(request, problems, 422)


@api.exception_handler(NotFound)
def _not_found(request, exc: NotFound):
    return problems_response(request, [Problem("id", "not_found", "对象不存在或无权访问", "not found")], 404)


@api.exception_handler(Conflict)
def _conflict(request, exc: Conflict):
    return problems_response(request, [exc.problem], 409)


@api.exception_handler(Forbidden)
def _forbidden(request, exc: Forbidden):
    return problems_response(request, [exc.problem], 403)


@api.exception_handler(Busy)
def _busy(request, exc: Busy):
    response = problems_response(request, [exc.problem], Busy.status)
    response["Retry-After"] = "1"
    return response


@api.exception_handler(DatabaseError)
def _database_error(request, exc: DatabaseError):
    """A lock conflict outside a service boundary is still "busy, retry", never a 500."""
    if retryable(exc):
        return _busy(request, Busy())
    raise exc


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problems_response(request, [Problem("auth", "unauthenticated", "请先登录", "authentication required")], 401)


def _verification_unavailable(request, exc):
    """A licence could not be checked because our database failed (anywhere in the API: intake using a
    licence, sharing, verification): 503, never "invalid" or "untrusted"."""
    return problems_response(request, [Problem("licence", exc.reason_code, exc.reason_zh, exc.reason_en)], 503)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    # ninja wraps whatever the body parser raised in a 400; answer by what it really was.
    cause = exc.__cause__
    if isinstance(cause, InvalidInput):
        return problems_response(request, cause.problems, 422)
    if isinstance(cause, UnsupportedMediaType):
        return problems_response(request, [cause.problem], 415)
    if isinstance(cause, ValueError):
        return problems_response(request, [Problem("body", "json.invalid", "请求体不是有效的 JSON",
                                                   "the request body is not valid JSON")], 400)
    return problems_response(request, [Problem("request", "http", str(exc), str(exc))], exc.status_code)


@api.exception_handler(DataError)
def _database_refused_value(request, exc: DataError):
    # A safety net, not the rule: values are checked before they reach the database (schemas, services,
    # tongban.core.inputs). A value the database still refuses (too long for its column, out of range)
    # was not written (the service's transaction rolled back); it is the client's input, so 422, logged
    # for the developers to add the missing check.
    log.warning("database refused a value: %s", exc, extra={"path": request.path})
    return problems_response(request, [Problem("body", "value.database", "提交的某个值超出了允许的长度或范围",
                                               "a value exceeds its allowed length or range")], 422)


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request, exc):
    return problems_response(request, [Problem("body", "multipart.invalid", "multipart 请求体无效（缺少或错误的 boundary）",
                                               "the multipart body is malformed (missing or wrong boundary)")], 400)


def _mount() -> None:
    from tongban.licences.verification import VerificationUnavailable

    api.add_exception_handler(VerificationUnavailable, _verification_unavailable)
    # Explicit imports: a router that fails to import must fail loudly, not vanish from the API.
    from tongban.accounts.api import router as accounts_router
    from tongban.bundles.api import router as bundles_router
    from tongban.cases.api import router as cases_router
    from tongban.catalog.api import router as catalog_router
    from tongban.core.api import router as core_router
    from tongban.exchange.api import router as exchange_router
    from tongban.licences.api import router as licences_router
    from tongban.workdays.api import router as workdays_router

    api.add_router("/", core_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/", bundles_router)
    api.add_router("/workdays", workdays_router)
    api.add_router("/licences", licences_router)
    api.add_router("/exchange", exchange_router)
    api.add_router("/", cases_router)
    api.add_router("/me", accounts_router)


_mount()
