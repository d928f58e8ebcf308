"""Machine-to-machine endpoints of a node (docs/federation.md §3): authenticated by signatures on every
message and pull request, not by sessions, so CSRF does not apply. 404 on a node that is not a
federation node."""

from __future__ import annotations

import json

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tongban.core.errors import Problem

from . import conf
from .envelope import MAX_BATCH

MAX_BODY_BYTES = 64 * 1024 * 1024


def _enabled() -> None:
    if not conf.enabled():
        raise Http404


def _bad(problems: list[Problem], status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": [p.as_dict() for p in problems]}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def _json_body(request):
    # Read the stream ourselves: request.body stops at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), too small
    # for a batch with materials; our own cap applies instead.
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return None, _bad([Problem("body", "fed.size", "请求体过大", "request body too large")], 413)
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError):
        return None, _bad([Problem("body", "fed.json", "请求体不是 JSON", "request body is not JSON")])


@csrf_exempt
@require_POST
def messages(request):
    _enabled()
    body, error = _json_body(request)
    if error:
        return error
    batch = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
        return _bad([Problem("messages", "fed.batch", f"messages 必须是 1 至 {MAX_BATCH} 条消息的列表",
                             f"messages must be a list of 1 to {MAX_BATCH} messages")])
    from .inbox import receive_batch

    return JsonResponse(receive_batch(batch), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def pull(request):
    _enabled()
    body, error = _json_body(request)
    if error:
        return error
    from .pull import serve

    answer, problems = serve(body)
    if problems:
        return _bad(problems, 403 if problems[0].rule != "fed.envelope" else 400)
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


@require_GET
def descriptor(request):
    _enabled()
    from .descriptors import export_descriptor

    return JsonResponse(export_descriptor(), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def probe(request):
    """Connectivity and key check: the message is verified like a real one (signature, sender, key,
    schema) and answered with a signed echo, but nothing is stored (the benchmark's bare signed POST)."""
    _enabled()
    body, error = _json_body(request)
    if error:
        return error
    from .inbox import check
    from .receipts import make_receipt

    wire = body.get("probe") if isinstance(body, dict) else None
    problems, _peer = check(wire)
    if problems:
        return _bad(problems, 422)
    from django.utils import timezone

    return JsonResponse({"echo": make_receipt(envelope=wire["envelope"], received_at=timezone.now(), contiguous_seq=0)})


@csrf_exempt
@require_POST
def query(request):
    """Data across nodes: a peer's signed, synchronous query of one of this node's shared resources
    (docs/federation.md §9). Answered with a signed answer, or the problems (403 unauthenticated,
    422 refused, 404 unknown, 503 the source is down); every authenticated attempt is logged."""
    _enabled()
    body, error = _json_body(request)
    if error:
        return error
    from .dataquery import serve_query

    answer, problems, status = serve_query(body)
    if problems:
        return _bad(problems, status)
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})
