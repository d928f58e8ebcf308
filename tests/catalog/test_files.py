"""The catalogue as files: validate, import (all or nothing), export, round trip."""

import copy

import pytest
import yaml
from django.core.management import call_command

from tongban.catalog import exporter
from tongban.catalog.format import Document, check_documents
from tongban.catalog.models import Item, ItemVersion, LicenceType, MaterialKind
from tongban.catalog.services import import_documents
from tongban.core.codes import make_uscc
from tongban.core.errors import InvalidInput
from tongban.regions.models import Department, Region

DEPT = make_uscc(registration="11", region="421200", serial=101)


def minimal_document() -> dict:
    return {
        "format": "tongban.catalog/v1",
        "regions": [{"code": "420000", "name": "湖北省", "level": "province", "parent": None},
                    {"code": "421200", "name": "咸宁市", "level": "city", "parent": "420000"}],
        "departments": [{"uscc": DEPT, "name": "咸宁市市场监督管理局", "kind": "market_regulation", "region": "421200"}],
        "materials": [{"code": "id-card", "name": "身份证"}],
        "items": [{
            "basic_code": "000117001000", "implementation_code": f"{DEPT}3000117001000", "region": "421200",
            "department": DEPT, "name": "企业设立登记",
            "versions": [{"version": 1, "status": "published", "valid_from": "2026-01-01", "name": "企业设立登记",
                          "type": "01", "statutory_days": 15, "promised_days": 1,
                          "materials": [{"material": "id-card"}]}],
        }],
    }


def write(tmp_path, data, name="catalog.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_validate_accepts_a_good_file(tmp_path, capsys):
    call_command("catalog", "validate", str(write(tmp_path, minimal_document())))
    assert "ok" in capsys.readouterr().out


@pytest.mark.django_db
def test_validate_names_bad_code_unknown_department_and_negative_limit_together(tmp_path, capsys):
    data = minimal_document()
    version = data["items"][0]["versions"][0]
    data["items"][0]["implementation_code"] = f"{DEPT}3000117009999"
    data["items"][0]["department"] = make_uscc(registration="11", region="421200", serial=999)
    version["statutory_days"] = -3
    path = write(tmp_path, data)
    with pytest.raises(SystemExit) as exit_info:
        call_command("catalog", "validate", str(path))
    assert exit_info.value.code != 0
    lines = capsys.readouterr().err.strip().splitlines()
    text = "\n".join(lines)
    assert all(str(path) in line for line in lines)
    assert "items[0].implementation_code" in text and "实施编码" in text and "implementation code" in text
    assert "items[0].department: [reference.department]" in text and "未定义" in text
    assert "items[0].versions[0].statutory_days: [schema.minimum]" in text and "minimum" in text


@pytest.mark.django_db
def test_import_is_all_or_nothing(tmp_path):
    data = minimal_document()
    data["items"].append(copy.deepcopy(data["items"][0]))
    data["items"][1]["basic_code"] = "000117002000"
    data["items"][1]["implementation_code"] = f"{DEPT}3000117002000"
    data["items"][1]["versions"][0]["materials"] = [{"material": "no-such-material"}]
    with pytest.raises(InvalidInput) as exc:
        import_documents(documents=[Document("x.yaml", data)])
    assert [p.rule for p in exc.value.problems] == ["reference.material"]
    assert not Region.objects.exists() and not Item.objects.exists() and not MaterialKind.objects.exists()


@pytest.mark.django_db
def test_published_versions_are_immutable_but_reimport_is_a_no_op():
    data = minimal_document()
    import_documents(documents=[Document("a.yaml", data)])
    assert import_documents(documents=[Document("a.yaml", data)])["item_versions"] == 0
    changed = copy.deepcopy(data)
    changed["items"][0]["versions"][0]["promised_days"] = 3
    with pytest.raises(InvalidInput) as exc:
        import_documents(documents=[Document("b.yaml", changed)])
    assert exc.value.problems[0].rule == "version.immutable"
    assert ItemVersion.objects.get().promised_days == 1


@pytest.mark.django_db
def test_a_new_version_supersedes_the_old_from_its_start_date():
    from datetime import date

    from tongban.catalog.selectors import version_in_force

    data = minimal_document()
    v2 = copy.deepcopy(data["items"][0]["versions"][0])
    v2.update({"version": 2, "valid_from": "2026-07-01", "promised_days": 0})
    data["items"][0]["versions"].append(v2)
    import_documents(documents=[Document("a.yaml", data)])
    item = Item.objects.get()
    assert version_in_force(item, date(2026, 6, 30)).version == 1
    assert version_in_force(item, date(2026, 7, 1)).version == 2
    assert version_in_force(item, date(2025, 12, 31)) is None


@pytest.mark.django_db
def test_drafts_are_not_in_force_and_publishing_freezes_them():
    from datetime import date

    from tongban.catalog.selectors import version_in_force
    from tongban.catalog.services import create_draft_version, ensure_editable, publish_item_version
    from tongban.core.errors import Conflict

    import_documents(documents=[Document("a.yaml", minimal_document())])
    item = Item.objects.get()
    draft = create_draft_version(item=item)
    assert draft.version == 2 and draft.materials.count() == 1
    ensure_editable(draft)
    assert version_in_force(item, date(2027, 1, 1)).version == 1
    publish_item_version(version=draft, valid_from=date(2026, 12, 1))
    assert version_in_force(item, date(2027, 1, 1)).version == 2
    with pytest.raises(Conflict):
        ensure_editable(ItemVersion.objects.get(pk=draft.pk))


@pytest.mark.django_db
def test_export_round_trip_into_an_empty_database_is_identical(tmp_path):
    from tongban.bundles.models import Bundle
    from tongban.core.demo import build_documents

    import_documents(documents=build_documents())
    first = exporter.dump_yaml(exporter.export_region("421200"))
    assert "open-restaurant" in first and "企业设立登记" in first

    from tongban.licences.models import LicenceTypeIssuer, SigningKey, StatusList, TrustedIssuer, TrustList

    Bundle.objects.all().delete()
    for model in (LicenceTypeIssuer, TrustedIssuer, TrustList, StatusList, SigningKey):  # the issuers' keys and lists
        model.objects.all().delete()
    Item.objects.all().delete()
    MaterialKind.objects.all().delete()
    LicenceType.objects.all().delete()
    Department.objects.all().delete()
    for level in ("county", "city", "province"):
        Region.objects.filter(level=level).delete()
    assert not Region.objects.exists()

    path = tmp_path / "xianning.yaml"
    path.write_text(first, encoding="utf-8")
    call_command("catalog", "import", str(path))
    assert set(Region.objects.values_list("code", flat=True)) == {"420000", "421200"}
    assert Department.objects.count() == 15 and Item.objects.count() == 24
    second = exporter.dump_yaml(exporter.export_region("421200"))
    assert second == first
    problems = check_documents([Document("again", yaml.safe_load(second))])
    assert problems == []


LICENCE_TYPE = f"{make_uscc(registration='11', region='100000', serial=1)}001"


def _with_licence_type(fields: list) -> dict:
    data = minimal_document()
    data["licence_types"] = [{"code": LICENCE_TYPE, "name": "营业执照", "holder_kind": "001", "fields": fields,
                              "issuers": [{"department": DEPT}]}]
    version = data["items"][0]["versions"][0]
    version["result"] = {"name": "营业执照", "licence_type": LICENCE_TYPE}
    version["form"] = [{"name": "company_name", "label": "企业名称", "type": "string", "standard": "enterprise.name"}]
    return data


@pytest.mark.django_db
def test_validate_checks_licence_field_sources(tmp_path, capsys):
    good = _with_licence_type([
        {"name": "名称", "source": {"form": "enterprise.name"}},
        {"name": "统一社会信用代码", "source": {"case": "applicant_code"}},
        {"name": "类型", "source": {"decision": {"label": "主体类型", "type": "choice", "choices": ["股份有限公司"],
                                                "example": "股份有限公司"}}},
        {"name": "成立日期", "type": "date", "source": {"case": "decided_on"}},
        {"name": "登记机关", "source": {"issuer": "name"}},
        "备注",  # a bare name (older files) is an officer-entered field
    ])
    assert check_documents([Document("good.yaml", good)]) == []
    bad = _with_licence_type([
        {"name": "名称", "source": {"form": "enterprise.name", "case": "number"}},
        {"name": "住所", "source": {"form": "premises.address"}},
        {"name": "类型", "source": {"decision": {"label": "主体类型", "type": "choice", "example": "x"}}},
        {"name": "期限", "source": {"decision": {"label": "期限", "type": "colour"}}},
        {"name": "日期", "source": {"case": "tomorrow"}},
        {"name": "机关", "source": {"issuer": "phone"}},
        {"name": "结论", "source": {"fixed": ""}},
        {"name": "结论", "source": {"fixed": "合格"}},
    ])
    found = {(p.field, p.rule) for p in check_documents([Document("bad.yaml", bad)])}
    assert found == {
        ("licence_types[0].fields[0].source", "licence_field.source"),
        ("licence_types[0].fields[2].source.decision.choices", "licence_field.choices"),
        ("licence_types[0].fields[3].source.decision.type", "licence_field.decision_type"),
        ("licence_types[0].fields[4].source.case", "licence_field.case"),
        ("licence_types[0].fields[5].source.issuer", "licence_field.issuer"),
        ("licence_types[0].fields[6].source.fixed", "licence_field.fixed"),
        ("licence_types[0].fields[7].name", "licence_field.duplicate"),
        ("items[0].versions[0].result.licence_type", "licence_field.form_missing"),  # 住所: no premises.address
    }, found
    with pytest.raises(SystemExit):
        call_command("catalog", "validate", str(write(tmp_path, bad)))
    assert "premises.address" in capsys.readouterr().err


@pytest.mark.django_db
def test_field_sources_import_and_export_unchanged(tmp_path):
    fields = [{"name": "名称", "source": {"form": "enterprise.name"}},
              {"name": "类型", "source": {"decision": {"label": "主体类型", "type": "string"}}}]
    import_documents(documents=[Document("lt.yaml", _with_licence_type(fields))])
    assert LicenceType.objects.get(code=LICENCE_TYPE).fields == fields
    assert exporter.export_region("421200")["licence_types"][0]["fields"] == fields


@pytest.mark.django_db
def test_an_unquoted_code_read_as_a_number_gets_a_hint_to_quote_it(tmp_path, capsys):
    text = yaml.safe_dump(minimal_document(), allow_unicode=True).replace("basic_code: '000117001000'",
                                                                          "basic_code: 117001000")
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("catalog", "validate", str(path))
    err = capsys.readouterr().err
    assert "items[0].basic_code" in err
    assert "请给编码加引号" in err and "quote it" in err


@pytest.mark.django_db
def test_an_import_that_changes_the_catalogue_is_one_trail_entry(tmp_path):
    from tongban.audit.models import AuditEntry

    path = write(tmp_path, minimal_document())
    call_command("catalog", "import", str(path))
    call_command("catalog", "import", str(path))  # nothing new: no entry
    [entry] = AuditEntry.objects.filter(action="catalog.imported")
    assert entry.actor_label.startswith("cli:")
    assert entry.after["counts"]["item_versions"] == 1
    [file] = entry.after["files"]
    assert file["name"] == str(path) and len(file["sha256"]) == 64


@pytest.mark.django_db
def test_validate_says_what_import_will_say_about_a_changed_published_version(tmp_path, capsys):
    data = minimal_document()
    import_documents(documents=[Document("a.yaml", data)])
    changed = copy.deepcopy(data)
    changed["items"][0]["versions"][0]["promised_days"] = 3
    path = write(tmp_path, changed)
    with pytest.raises(SystemExit):
        call_command("catalog", "validate", str(path))
    assert "items[0].versions[0]: [version.immutable]" in capsys.readouterr().err
    call_command("catalog", "validate", "--offline", str(path))  # offline: the file alone is well formed


@pytest.mark.django_db
def test_the_demo_catalogue_validates_as_demo_load_expands_it(capsys):
    from tongban.core.demo import DEMO_DIR

    call_command("catalog", "validate", str(DEMO_DIR))
    captured = capsys.readouterr()
    assert captured.out.startswith("ok: 13 ") and "demo generator format" in captured.err
