"""Adapters fetch one subject's record from an owner department's system.

An adapter is registered under a name with `@register_adapter("population")`; a resource names its
adapter in the catalogue (`DataResource.adapter`) and may carry configuration (`adapter_config`).
The query service calls `fetch()` outside any database transaction (an HTTP call must never hold
locks), with the subject already validated and the fields already checked against the grant.

`fetch()` returns a `Record` (values keyed by the resource's own field names, plus when the source
last changed it), `None` when the source does not know the subject, or raises `AdapterUnavailable`
when the source cannot answer (a bilingual error; the query is then logged as failed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from django.db import models as dj_models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tongban.core.errors import Problem

from . import models


@dataclass(frozen=True)
class Record:
    values: dict[str, Any]
    updated_at: datetime | None
    source: str = ""


@dataclass(frozen=True)
class FetchContext:
    """What the source is told about the call (purpose and case travel with every request)."""

    purpose: str = ""
    case_ref: str = ""
    consumer_uscc: str = ""


class AdapterUnavailable(Exception):  # noqa: N818 - reads as a state, like NotFound
    """The source could not answer (timeout, connection refused, server error after retries)."""

    def __init__(self, zh: str, en: str, rule: str = "adapter.unavailable"):
        self.problem = Problem(field="resource", rule=rule, zh=zh, en=en)
        super().__init__(self.problem.line())


class Adapter(Protocol):
    def fetch(self, resource: models.DataResource, subject: str, fields: list[str],
              context: FetchContext) -> Record | None: ...


_REGISTRY: dict[str, Callable[[models.DataResource], Adapter]] = {}


def register_adapter(name: str):
    """Register an adapter factory (a class or a callable taking the resource) under `name`."""

    def decorate(factory):
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"adapter {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorate


def registered_adapters() -> list[str]:
    return sorted(_REGISTRY)


def adapter_for(resource: models.DataResource) -> Adapter:
    try:
        factory = _REGISTRY[resource.adapter]
    except KeyError:
        raise AdapterUnavailable(
            f"数据资源 {resource.code} 的适配器 {resource.adapter or '（未配置）'} 未注册",
            f"resource {resource.code} names adapter {resource.adapter or '(none)'}, which is not registered",
            rule="adapter.unknown",
        ) from None
    return factory(resource)


def _plain(value: Any) -> Any:
    """JSON-friendly value: dates as ISO strings, decimals as strings (no float rounding)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- local registers (demo: 人口库, 法人库, 社保, 不动产) ----------------------------------------------


class LocalRegisterAdapter:
    """Reads one row of a local register table by its key column; the resource's field names are the
    table's column names."""

    model: type[dj_models.Model]
    key: str
    source = "local register"

    def __init__(self, resource: models.DataResource):
        self.resource = resource

    def row(self, subject: str):
        return self.model.objects.filter(**{self.key: subject}).first()

    def fetch(self, resource, subject, fields, context) -> Record | None:
        row = self.row(subject)
        if row is None:
            return None
        return Record({name: _plain(getattr(row, name, None)) for name in fields}, row.updated_at,
                      f"{self.source}:{self.model._meta.db_table}")


@register_adapter("population")
class PopulationAdapter(LocalRegisterAdapter):
    model = models.PopulationRecord
    key = "id_number"


@register_adapter("legal_entities")
class LegalEntityAdapter(LocalRegisterAdapter):
    model = models.LegalEntityRecord
    key = "uscc"


@register_adapter("social_security")
class SocialSecurityAdapter(LocalRegisterAdapter):
    model = models.SocialSecurityRecord
    key = "id_number"


@register_adapter("real_estate")
class RealEstateAdapter(LocalRegisterAdapter):
    """An owner may hold several certificates; the answer is the most recently registered one."""

    model = models.RealEstateRecord
    key = "owner_code"

    def row(self, subject: str):
        return self.model.objects.filter(owner_code=subject).order_by("-registered_on", "-id").first()


# --- HTTP/JSON adapter for a department system elsewhere --------------------------------------------

_RETRY_STATUS = {500, 502, 503, 504}


@dataclass
class HttpSettings:
    url: str
    timeout: float = 3.0
    connect_timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.2
    max_backoff: float = 2.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict) -> HttpSettings:
        url = str(config.get("url") or "")
        if not url:
            raise AdapterUnavailable("HTTP 适配器未配置 url", "the HTTP adapter has no url configured",
                                     rule="adapter.config")
        return cls(url=url, timeout=float(config.get("timeout", 3.0)),
                   connect_timeout=float(config.get("connect_timeout", 2.0)),
                   retries=max(0, min(int(config.get("retries", 2)), 5)),
                   backoff=float(config.get("backoff", 0.2)), max_backoff=float(config.get("max_backoff", 2.0)),
                   headers=dict(config.get("headers") or {}))


@register_adapter("http_json")
class HttpJsonAdapter:
    """GET `<url>?subject=...&fields=a,b` on a department system that answers JSON.

    Expected answer: 200 `{"record": {...}, "updated_at": "ISO-8601"}`; 404 (or `{"record": null}`) when the
    subject is unknown. Timeouts, connection errors and 5xx are retried `retries` times with exponential
    backoff (`backoff`, doubled each time, capped at `max_backoff`); then `AdapterUnavailable`. Every
    attempt is bounded by `timeout` seconds, so a hanging server costs at most
    (retries + 1) x timeout + the backoffs. Purpose, case and consumer travel as headers.
    """

    def __init__(self, resource: models.DataResource, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.resource = resource
        self.settings = HttpSettings.from_config(resource.adapter_config or {})
        self.transport = transport
        self.sleep = sleep

    def fetch(self, resource, subject, fields, context) -> Record | None:
        s = self.settings
        timeout = httpx.Timeout(s.timeout, connect=s.connect_timeout)
        headers = {
            "Accept": "application/json",
            # Headers are latin-1: Chinese purpose text travels percent-encoded.
            "X-Tongban-Purpose": quote(context.purpose, safe=""),
            "X-Tongban-Case": quote(context.case_ref, safe=""),
            "X-Tongban-Consumer": context.consumer_uscc,
            **s.headers,
        }
        params = {"subject": subject, "fields": ",".join(fields)}
        last_error = ""
        with httpx.Client(timeout=timeout, transport=self.transport, headers=headers) as client:
            for attempt in range(s.retries + 1):
                if attempt:
                    self.sleep(min(s.backoff * (2 ** (attempt - 1)), s.max_backoff))
                try:
                    response = client.get(s.url, params=params)
                except httpx.TimeoutException:
                    last_error = f"timeout after {s.timeout:g}s"
                    continue
                except httpx.TransportError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                    continue
                if response.status_code in _RETRY_STATUS:
                    last_error = f"HTTP {response.status_code}"
                    continue
                return self._parse(response, fields)
        attempts = s.retries + 1
        raise AdapterUnavailable(
            f"数据资源 {resource.code} 的数据源暂时无法应答（已尝试 {attempts} 次：{last_error}），请稍后重试",
            f"the source of resource {resource.code} did not answer ({attempts} attempts: {last_error}); try again later",
        )

    def _parse(self, response: httpx.Response, fields: list[str]) -> Record | None:
        code = self.resource.code
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AdapterUnavailable(f"数据资源 {code} 的数据源拒绝了请求（HTTP {response.status_code}）",
                                     f"the source of resource {code} refused the request (HTTP {response.status_code})",
                                     rule="adapter.refused")
        try:
            body = response.json()
        except ValueError:
            raise AdapterUnavailable(f"数据资源 {code} 的数据源返回的不是有效的 JSON",
                                     f"the source of resource {code} answered with invalid JSON",
                                     rule="adapter.invalid") from None
        record = body.get("record") if isinstance(body, dict) else None
        if record is None:
            return None
        if not isinstance(record, dict):
            raise AdapterUnavailable(f"数据资源 {code} 的数据源返回的记录格式不正确",
                                     f"the source of resource {code} answered with a malformed record",
                                     rule="adapter.invalid")
        updated = parse_datetime(str(body.get("updated_at") or "")) if body.get("updated_at") else None
        if updated is not None and timezone.is_naive(updated):
            updated = timezone.make_aware(updated, timezone.get_default_timezone())
        return Record({name: record.get(name) for name in fields}, updated, f"http:{self.settings.url}")
