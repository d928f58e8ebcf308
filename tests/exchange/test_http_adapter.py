"""The HTTP/JSON adapter against a tiny local server: answers, vocabulary, timeouts, retries, failures."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from tongban.exchange import services
from tongban.exchange.adapters import AdapterUnavailable
from tongban.exchange.models import DataResource, QueryLog, ResourceField, SharingType, SubjectKind
from tongban.exchange.selectors import ExchangeNotFound

from .conftest import in_a_year
from .factories import DepartmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

HANG_SECONDS = 5.0


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        server = self.server
        url = urlparse(self.path)
        server.hits[url.path] = server.hits.get(url.path, 0) + 1
        server.seen.append({"path": url.path, "query": parse_qs(url.query), "headers": dict(self.headers)})
        if url.path == "/slow":
            time.sleep(HANG_SECONDS)
            return self._json(200, {"record": {}})
        if url.path == "/500":
            return self._json(500, {"error": "boom"})
        if url.path == "/flaky" and server.hits[url.path] == 1:
            return self._json(503, {"error": "busy"})
        if url.path == "/missing":
            return self._json(404, {"record": None})
        subject = parse_qs(url.query)["subject"][0]
        return self._json(200, {"record": {"qymc": "株洲市炎帝酒店有限公司", "tyshxydm": subject, "frdb": "周株",
                                           "zs": "株洲市天元区珠江北路1号", "secret": "never asked"},
                                "updated_at": "2025-03-01T08:00:00+08:00"})

    def _json(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.hits, httpd.seen = {}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def remote(world, server):
    """株洲's market-regulation system: its own field names (qymc, frdb, zs), reached over HTTP."""
    from .factories import zhuzhou

    owner = DepartmentFactory(kind="market_regulation", name="株洲市市场监督管理局", region=zhuzhou())
    resource = DataResource.objects.create(
        code="zz_market_entities", name="株洲市市场主体登记信息", owner=owner, subject_kind=SubjectKind.ENTERPRISE,
        sharing_type=SharingType.UNCONDITIONAL, adapter="http_json",
        adapter_config={"url": f"http://127.0.0.1:{server.server_port}/entities", "timeout": 0.3, "retries": 2,
                        "backoff": 0.01})
    for i, name in enumerate(["qymc", "tyshxydm", "frdb", "zs"]):
        ResourceField.objects.create(resource=resource, name=name, label=name, position=i)
    services.grant_request(resource_code=resource.code, consumer=world.depts["health"],
                           fields=["qymc", "frdb", "zs"], purpose="跨域通办：公共场所卫生许可", valid_until=in_a_year(),
                           actor=world.health_officer)
    return resource


def point_at(resource, path, **config):
    resource.adapter_config = {**resource.adapter_config, "url": resource.adapter_config["url"].rsplit("/", 1)[0] + path,
                               **config}
    resource.save(update_fields=["adapter_config"])


def ask(world, resource, fields=("qymc", "frdb")):
    from .factories import uscc_for

    return services.query(resource_code=resource.code, subject=uscc_for(4242, prefix="91430200"), fields=list(fields),
                          purpose="跨域通办：公共场所卫生许可", case_ref="KY-2025-7", actor=world.health_officer)


def test_remote_answer_is_mapped_to_the_standard_vocabulary_with_provenance(world, server, remote):
    answer = ask(world, remote)
    assert answer.values == {"qymc": "株洲市炎帝酒店有限公司", "frdb": "周株"}  # "secret" never comes back
    assert answer.standard_values == {"enterprise.name": "株洲市炎帝酒店有限公司",
                                      "enterprise.legal_representative.name": "周株"}
    assert answer.provenance.owner == "株洲市市场监督管理局"
    assert answer.provenance.updated_at.isoformat() == "2025-03-01T08:00:00+08:00"
    request = server.seen[-1]
    assert request["query"]["fields"] == ["qymc,frdb"]
    assert unquote(request["headers"]["X-Tongban-Purpose"]) == "跨域通办：公共场所卫生许可"
    assert request["headers"]["X-Tongban-Case"] == "KY-2025-7"


def test_a_hanging_source_times_out_with_a_bounded_wait_and_a_bilingual_error(world, server, remote):
    point_at(remote, "/slow", retries=1)
    started = time.monotonic()
    with pytest.raises(AdapterUnavailable) as exc:
        ask(world, remote)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # 2 attempts x 0.3 s + backoff, far below the 5 s hang
    assert server.hits["/slow"] == 2
    assert "无法应答" in exc.value.problem.zh and "did not answer" in exc.value.problem.en
    assert "timeout" in exc.value.problem.en
    log = QueryLog.objects.order_by("-id").first()
    assert log.outcome == QueryLog.Outcome.FAILED and log.rule == "adapter.unavailable"


def test_a_server_error_is_retried_then_reported(world, server, remote):
    point_at(remote, "/500")
    with pytest.raises(AdapterUnavailable) as exc:
        ask(world, remote)
    assert server.hits["/500"] == 3  # one try and two retries
    assert "HTTP 500" in exc.value.problem.en and "3" in exc.value.problem.zh


def test_a_transient_error_is_retried_and_then_answers(world, server, remote):
    point_at(remote, "/flaky")
    assert ask(world, remote).values["frdb"] == "周株"
    assert server.hits["/flaky"] == 2


def test_an_unknown_subject_at_the_source_is_a_refusal(world, server, remote):
    point_at(remote, "/missing")
    with pytest.raises(ExchangeNotFound) as exc:
        ask(world, remote)
    assert exc.value.problem.rule == "subject.unknown"
    assert server.hits["/missing"] == 1  # a 404 is an answer, not retried


def test_a_refused_connection_fails_clearly(world, remote):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    remote.adapter_config = {"url": f"http://127.0.0.1:{port}/x", "timeout": 0.3, "retries": 1, "backoff": 0.01}
    remote.save(update_fields=["adapter_config"])
    with pytest.raises(AdapterUnavailable):
        ask(world, remote)


def test_a_region_alias_does_not_leak_to_another_region(world, server, remote):
    # 株洲 calls the legal representative `frdb`; 长沙's alias is `fddbr`. A 长沙 source naming a field `frdb`
    # gets no standard name from 株洲's alias.
    owner = StaffFactory(department=DepartmentFactory(kind="other", region=world.region), roles=["officer"]).department
    remote.owner = owner
    remote.save(update_fields=["owner"])
    answer = ask(world, remote)
    assert answer.standard_values == {"enterprise.name": "株洲市炎帝酒店有限公司"}
