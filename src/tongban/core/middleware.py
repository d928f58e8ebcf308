from __future__ import annotations

import logging
import time
import uuid

logger = logging.getLogger("tongban.request")


class RequestLogMiddleware:
    """Logs one structured line per request with a request id that is also returned to the client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        request.request_id = request_id
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        if not request.path.startswith("/static/"):
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "user": getattr(getattr(request, "user", None), "pk", None),
                },
            )
        return response

    def process_exception(self, request, exception):
        """Pages: a lock conflict the service boundary could not resolve is a 503 "busy, please
        retry" in both languages, never a 500 (the API answers the same problem as JSON)."""
        from django.db import DatabaseError

        from .errors import Busy
        from .transactions import retryable

        if isinstance(exception, Busy) or (isinstance(exception, DatabaseError) and retryable(exception)):
            from django.http import HttpResponse
            from django.utils.html import escape

            problem = Busy().problem
            response = HttpResponse(f"<!doctype html><meta charset=utf-8><title>{escape(problem.zh)}</title>"
                                    f"<p>{escape(problem.zh)}</p><p lang=en>{escape(problem.en)}</p>",
                                    status=Busy.status)
            response["Retry-After"] = "1"
            return response
        return None


class HostileInputMiddleware:
    """Refuses, before any view runs, what no view should see: NUL characters or lone surrogates in the
    path, the query string or form data, integers in them too large for any id, and multipart bodies
    that cannot be parsed. API requests get the JSON problem list, pages a short bilingual 400 page.

    API form data is checked by the API's parser instead (tongban.api.contract), because reading a
    multipart body here would make it unreadable for the API's own parsing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http.multipartparser import MultiPartParserError

        from .errors import Problem
        from .inputs import query_value_problem, text_problem

        api = request.path_info.startswith("/api/")
        problems = []
        path_problem = text_problem(request.path_info, "path")
        if path_problem:
            problems.append(path_problem)
        problems += _querydict_problems(request.GET, query_value_problem)
        if not problems and not api and request.method in ("POST", "PUT", "PATCH"):
            try:
                problems += _querydict_problems(request.POST, text_problem)
            except MultiPartParserError:
                problems.append(Problem("body", "multipart.invalid", "表单数据无效（multipart 缺少或错误的 boundary）",
                                        "the form data is malformed (multipart without a valid boundary)"))
        if problems:
            return _refuse(request, problems, api=api)
        return self.get_response(request)


def _querydict_problems(data, check) -> list:
    problems = []
    for key, values in data.lists():
        for value in [key, *values]:
            problem = check(value, key) if isinstance(value, str) else None
            if problem:
                problems.append(problem)
                break
    return problems


def _refuse(request, problems, *, api: bool):
    from django.http import HttpResponseBadRequest, JsonResponse
    from django.utils.html import escape

    if api:
        return JsonResponse({"detail": [p.as_dict() for p in problems]}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    items = "".join(f"<li><code>{escape(p.field)}</code> [{escape(p.rule)}] {escape(p.zh)} / {escape(p.en)}</li>"
                    for p in problems)
    return HttpResponseBadRequest(
        f'<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>请求无效 / Bad request</title>'
        f"<h1>请求无效 / Bad request</h1><ul>{items}</ul></html>", content_type="text/html; charset=utf-8")
