"""The licence document: what is signed, and the rules for a licence's data (no database).

A licence document is

    {"payload": {...}, "proof": {"alg": "Ed25519" | "SM2-SM3", "kid": "<key id>", "value": "<base64url>"}}

and the signature covers `canonical_json(payload)` (sorted keys, UTF-8, no whitespace). The payload
holds the identifier, type, issuer, holder, data, validity, version and the status-list entry.
"""

from __future__ import annotations

from datetime import date, datetime

from tongban.core.codes import mask
from tongban.core.errors import Problem

FORMAT = "tongban-licence/1"
EXPORT_FORMAT = "tongban-licence-export/1"
STATUS_PATH = "/api/v1/licences/status/{uscc}"

_SCALARS = (str, int, bool, type(None))


def status_url(issuer_uscc: str) -> str:
    return STATUS_PATH.format(uscc=issuer_uscc)


def build_payload(*, identifier: str, type_code: str, type_name: str, issuer_uscc: str, issuer_name: str,
                  issuer_region: str, holder_code_type: str, holder_code: str, holder_name: str, data: dict,
                  valid_from: date, valid_until: date | None, version: int, issued_at: datetime,
                  status_index: int, previous: str | None) -> dict:
    return {
        "format": FORMAT,
        "identifier": identifier,
        "type": {"code": type_code, "name": type_name},
        "issuer": {"uscc": issuer_uscc, "name": issuer_name, "region": issuer_region},
        "holder": {"code_type": holder_code_type, "code": holder_code, "name": holder_name},
        "data": data,
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "version": version,
        "issued_at": issued_at.isoformat(timespec="seconds"),
        "status": {"type": "BitstringStatusListEntry", "statusListCredential": status_url(issuer_uscc),
                   "statusListIndex": status_index},
        "previous": previous,
    }


def summary(payload: dict) -> dict:
    """What a verifier shows about a licence (the holder's code masked)."""
    holder = payload.get("holder") or {}
    return {
        "identifier": payload.get("identifier"),
        "type": (payload.get("type") or {}).get("code"),
        "type_name": (payload.get("type") or {}).get("name"),
        "issuer": (payload.get("issuer") or {}).get("uscc"),
        "issuer_name": (payload.get("issuer") or {}).get("name"),
        "holder_name": holder.get("name"),
        "holder_code": mask(str(holder.get("code") or "")),
        "valid_from": payload.get("valid_from"),
        "valid_until": payload.get("valid_until"),
        "version": payload.get("version"),
    }


def field_specs(fields: list) -> list[dict]:
    """Normalise a licence type's `fields` (names, or dicts as in item forms: name/label/type/required)."""
    specs = []
    for f in fields or []:
        if isinstance(f, str):
            specs.append({"name": f, "label": f, "type": "string", "required": True})
        elif isinstance(f, dict) and (f.get("name") or f.get("code") or f.get("key")):
            name = str(f.get("name") or f.get("code") or f.get("key"))
            specs.append({"name": name, "label": f.get("label", name), "type": f.get("type", "string"),
                          "required": bool(f.get("required", True))})
    return specs


def check_data(data: object, fields: list) -> list[Problem]:
    """The licence's face data (照面信息) against its type's fields: every required field present,
    no unknown field, values of the declared type. Floats are refused (decimals go as strings) so
    that the canonical JSON is the same in every implementation."""
    if not isinstance(data, dict):
        return [Problem("data", "licence.data.object", "照面信息应为对象", "licence data must be an object")]
    specs = field_specs(fields)
    known = {s["name"]: s for s in specs}
    problems: list[Problem] = []
    for key, value in data.items():
        if specs and key not in known:
            problems.append(Problem(f"data.{key}", "licence.data.unknown", f"证照类型没有字段 {key}",
                                    f"the licence type has no field {key}"))
        elif not isinstance(value, _SCALARS):
            problems.append(Problem(f"data.{key}", "licence.data.scalar", f"字段 {key} 应为字符串、整数或是/否",
                                    f"field {key} must be a string, an integer or a boolean"))
    for spec in specs:
        name, value = spec["name"], data.get(spec["name"])
        if value is None or value == "":
            if spec["required"]:
                problems.append(Problem(f"data.{name}", "licence.data.required", f"{spec['label']}（{name}）必填",
                                        f"{name} is required"))
            continue
        problem = _type_problem(name, spec, value)
        if problem:
            problems.append(problem)
    return problems


def _type_problem(name: str, spec: dict, value: object) -> Problem | None:
    kind = spec["type"]
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return Problem(f"data.{name}", "licence.data.date", f"{spec['label']} 应为日期 YYYY-MM-DD",
                           f"{name} must be a date YYYY-MM-DD")
    elif kind in ("integer", "number") and (isinstance(value, bool) or not isinstance(value, int)):
        return Problem(f"data.{name}", "licence.data.integer", f"{spec['label']} 应为整数", f"{name} must be an integer")
    elif kind == "boolean" and not isinstance(value, bool):
        return Problem(f"data.{name}", "licence.data.boolean", f"{spec['label']} 应为是/否", f"{name} must be a boolean")
    elif kind not in ("date", "integer", "number", "boolean") and not isinstance(value, str):
        return Problem(f"data.{name}", "licence.data.string", f"{spec['label']} 应为文本", f"{name} must be text")
    return None
