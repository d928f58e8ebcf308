"""Notices: every kind's text reads right (no doubled punctuation, no empty slot, free text once),
each is numbered by the case's counter and signed by the issuing department's key; the signature
verifies online and offline, and a changed notice fails."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date as D

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.demo_fixtures import demo_full  # noqa: F401
from tongban.cases import notices, services, simulation
from tongban.cases.models import ExtensionRequest, Notice
from tongban.licences import trust
from tongban.licences.verification import trust_from_file

from .conftest import (
    ACCEPT_ON,
    accepted_restaurant,
    approve_step,
    approve_until,
    officer,
    start_restaurant,
    sub,
    submit_complete,
    user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]

# Two punctuation marks in a row, an empty pair of quotes or brackets, a Python value leaking into text,
# a template slot left over, doubled spaces.
BAD_TEXT = re.compile(r"[，。；：、,.]{2}|“”|（）|\(\)|\bNone\b|\{|\}|\s{2,}|^\s|\s$")


def _check_text(notice: Notice) -> None:
    content = notice.content
    assert content["title"] and content["recipient"] and content["issuer"], notice.number
    for paragraph in content["paragraphs"]:
        assert paragraph and not BAD_TEXT.search(paragraph), (notice.kind, paragraph)
        assert paragraph[-1] in "。：！？", (notice.kind, paragraph)  # a salutation or a whole sentence
    for label, value in content["rows"]:
        assert str(label).strip() and str(value).strip() and not BAD_TEXT.search(str(value)), (notice.kind, label, value)


def _all_kinds() -> list[Notice]:
    """One case or more through every path that issues a notice, with typed reasons ending in their
    own punctuation (the text must not double it)."""
    clerk = user("changsha-clerk")
    # one-time notice, then refusal
    draft = submit_complete(start_restaurant(), skip=("articles-of-association",))
    services.issue_one_time_notice(case=draft, actor=clerk, defects={"company-application": "申请书未签字。"},
                                   on=D(2026, 9, 29))
    services.refuse_case(case=draft, actor=clerk, reason="不属于本机关职权范围。", on=D(2026, 9, 30))
    # acceptance and correction
    case = accepted_restaurant()
    company = approve_step(sub(case, "company-registration"), D(2026, 9, 29))
    services.act(subcase=company, actor=officer(company), action="return", step="review", on=D(2026, 9, 30),
                 reason="申请书缺少签字。", materials={"company-application": "未经法定代表人签字。"})
    # special procedure
    special = accepted_restaurant()
    company = approve_step(sub(special, "company-registration"), D(2026, 9, 29))
    services.act(subcase=company, actor=officer(company), action="special", step="review", procedure="inspection",
                 reason="需要现场核查。", on=D(2026, 9, 30))
    # extension, then a denial that cancels the items needing its result
    denied = accepted_restaurant()
    company = approve_step(sub(denied, "company-registration"), D(2026, 9, 29))
    services.act(subcase=company, actor=officer(company), action="extend", step="review", days=2, reason="情况复杂。",
                 on=D(2026, 9, 30))
    services.decide_extension(request=ExtensionRequest.objects.get(subcase=company), actor=user("changsha-supervisor"),
                              approve=True, on=D(2026, 9, 30))
    company = approve_until(sub(denied, "company-registration"), D(2026, 9, 30), step="decide")
    services.act(subcase=company, actor=officer(company), action="deny", step="decide", reason="名称与在先企业重复。",
                 on=D(2026, 10, 8))
    # withdrawal
    other = accepted_restaurant()
    services.withdraw_case(case=other, actor=other.filed_by, reason="不再开店。", on=D(2026, 9, 30))
    # approvals and delivery
    boss, enterprise = simulation.demo_applicant("changsha")
    delivered = simulation.drive(services.start_case(actor=boss, region_code="430100", bundle_code="open-restaurant",
                                                     answers={"area_sqm": 400}, enterprise_uscc=enterprise.uscc,
                                                     on=ACCEPT_ON), accept_on=ACCEPT_ON)
    assert delivered.status == "delivered"
    cases = [draft, case, special, denied, other, delivered]
    return list(Notice.objects.filter(case__in=cases).select_related("case", "signing_key", "signer"))


def test_every_notice_kind_reads_right_is_numbered_in_order_and_signed():
    issued = _all_kinds()
    kinds = {n.kind for n in issued}
    assert kinds == set(Notice.Kind.values), set(Notice.Kind.values) - kinds
    decisions = {n.content["title"] for n in issued if n.kind == "decision"}
    assert decisions == {"准予行政许可决定书", "不予行政许可决定书"}
    for notice in issued:
        _check_text(notice)
        assert notice.signed and notice.signer_id and notice.signing_key.department_id == notice.signer_id
        assert notices.verify_document(notices.signed_document(notice))["valid"], notice.number
    cancelled = next(n for n in issued if n.kind == "cancellation")
    assert re.search(r"因前置事项“企业设立登记”[^，。]+，依法终止办理。", cancelled.content["paragraphs"][1])
    refusal = next(n for n in issued if n.kind == "refusal")
    assert "理由：不属于本机关职权范围。" in refusal.content["paragraphs"][1]
    by_case: dict[str, list[int]] = {}
    for notice in issued:
        by_case.setdefault(notice.case.number, []).append(int(notice.number[-2:]))
    for case_number, sequence in by_case.items():  # per case: 1, 2, 3 ... without gaps
        assert sorted(sequence) == list(range(1, len(sequence) + 1)), case_number
    window = next(n for n in issued if n.kind == "acceptance")
    assert window.signer.kind == "government_services" and window.signer.region_id == "430100"


def test_signature_verifies_offline_and_a_changed_notice_fails(tmp_path):
    case = accepted_restaurant()
    notice = Notice.objects.select_related("signing_key").get(case=case, kind="acceptance")
    document = notices.signed_document(notice)
    assert document["proof"]["kid"] == notice.signing_key.key_id
    bundle = trust.export_trust_bundle("430100")
    offline = trust_from_file(json.loads(json.dumps(bundle)))
    assert notices.verify_document(document, trust=offline)["valid"]

    changed = json.loads(json.dumps(document))
    changed["payload"]["content"]["paragraphs"][1] = changed["payload"]["content"]["paragraphs"][1].replace("予以受理", "不予受理")
    assert notices.verify_document(changed, trust=offline)["reason"] == "bad_signature"
    foreign = trust_from_file(trust.export_trust_bundle("421200"))  # 咸宁 does not recognise 长沙
    assert notices.verify_document(document, trust=foreign)["reason"] == "unknown_key"

    # the command line, as a holder would use it offline
    good, bad, trust_file = tmp_path / "n.json", tmp_path / "bad.json", tmp_path / "trust.json"
    call_command("notice", "export", notice.number, "--out", str(good))
    bad.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    trust_file.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    call_command("notice", "verify", str(good), "--trust", str(trust_file))
    with pytest.raises(CommandError) as failed:
        call_command("notice", "verify", str(bad), "--trust", str(trust_file))
    assert failed.value.returncode == 1


def test_verification_page_shows_the_signature_and_refuses_a_tampered_notice():
    case = accepted_restaurant()
    notice = Notice.objects.get(case=case, kind="acceptance")
    client = Client()
    page = client.get(notices.verify_path(notice))
    text = page.content.decode()
    assert page.status_code == 200 and "文书签名有效" in text and notice.signing_key.key_id in text
    api = client.get(f"/api/v1/notices/verify/{notice.token}").json()
    assert api["valid"] and api["signed"] and api["alg"] == "Ed25519"

    boss = Client()
    boss.force_login(case.filed_by)
    signed = boss.get(f"/api/v1/notices/{notice.pk}/signed")
    assert signed.status_code == 200 and notices.verify_document(signed.json())["valid"]
    assert Client().get(f"/api/v1/notices/{notice.pk}/signed").status_code in (401, 404)

    # someone edits the stored text (and even recomputes the digest): the signature no longer matches
    content = {**notice.content, "paragraphs": [*notice.content["paragraphs"][:-1], "已改动。"]}
    Notice.objects.filter(pk=notice.pk).update(content=content, digest=hashlib.sha256(
        notices.canonical(content)).hexdigest())
    assert client.get(notices.verify_path(notice)).status_code == 404
    payload = json.loads(notice.payload)
    payload["content"] = content
    Notice.objects.filter(pk=notice.pk).update(payload=json.dumps(payload, ensure_ascii=False))
    answer = client.get(f"/api/v1/notices/verify/{notice.token}").json()
    assert answer["valid"] is False and answer["signature"].startswith("签名无效")


def test_notices_issued_before_signing_are_shown_as_unsigned():
    case = accepted_restaurant()
    notice = Notice.objects.get(case=case, kind="acceptance")
    Notice.objects.filter(pk=notice.pk).update(signature="", payload="", signing_key=None)
    page = Client().get(notices.verify_path(notice)).content.decode()
    assert "未加签名" in page
    with pytest.raises(CommandError):
        call_command("notice", "export", notice.number)


def test_a_department_with_an_sm2_key_signs_its_notices_with_sm2():
    from tongban.regions.models import Department

    market = Department.objects.get(region_id="421200", kind="market_regulation")  # 咸宁: SM2/SM3 in the demo
    case = accepted_restaurant()
    notice = Notice(case=case, kind="decision", number=f"{case.number}-JD99", issued_on=D(2026, 9, 30),
                    issuer_name=market.name, token="sm2-test-token",
                    content={"title": "准予行政许可决定书", "case": case.number, "paragraphs": ["测试。"], "rows": []})
    notices.sign(notice, market)
    answer = notices.verify_document(notices.signed_document(notice))
    assert answer["valid"] and answer["alg"] == "SM2-SM3", answer
