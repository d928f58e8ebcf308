"""Payload schemas per message type, validated when a message is queued and again when it is received.

A schema names the shape only; business rules (the item on the agreed list, a case that exists)
are checked by the inbox and the handlers."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from tongban.core.errors import Problem

from .envelope import MessageType

Text = Annotated[str, StringConstraints(max_length=2000)]
Short = Annotated[str, StringConstraints(max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Time = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\d$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
MAX_MATERIAL_BYTES = 20 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ItemRef(_Strict):
    item_code: Code
    version: int = Field(ge=1)
    basic_code: Short = ""


class Party(_Strict):
    kind: Literal["person", "enterprise"]
    name: Short
    id_number: Code  # 身份证号码 or USCC
    phone: Short = ""
    address: Text = ""


class Material(_Strict):
    name: Short
    material_code: Short = ""
    sha256: Hex64
    size: int = Field(ge=0, le=MAX_MATERIAL_BYTES)
    media_type: Short = "application/octet-stream"
    content: str = Field(max_length=MAX_MATERIAL_BYTES * 4 // 3 + 4)  # base64

    @model_validator(mode="after")
    def _content_matches_digest(self):
        try:
            raw = base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("content must be base64") from None
        if len(raw) != self.size:
            raise ValueError("size differs from the content's length")
        if hashlib.sha256(raw).hexdigest() != self.sha256:
            raise ValueError("sha256 differs from the content's digest")
        return self


class LicenceRef(_Strict):
    identifier: Short  # a licence identifier is up to 80 characters
    licence_type: Short = ""
    issuer: Code = ""


class Handover(_Strict):
    item: ItemRef
    applicant: Party
    accepting_region: Code
    accepting_window: Short = ""
    accepted_at: Time
    local_case: Short = ""
    form: dict = Field(default_factory=dict)
    materials: list[Material] = Field(default_factory=list, max_length=100)
    licences_used: list[LicenceRef] = Field(default_factory=list, max_length=100)
    delivery: Literal["window", "post", "online"] = "window"


class Acknowledged(_Strict):
    local_case: Short
    acknowledged_at: Time
    due_on: Day | None = None


class Notice(_Strict):
    kind: Literal["correction", "one_time"] = "correction"
    reasons: list[Text] = Field(min_length=1, max_length=50)
    materials_requested: list[Short] = Field(default_factory=list, max_length=100)
    due_on: Day | None = None


class Correction(_Strict):
    materials: list[Material] = Field(default_factory=list, max_length=100)
    note: Text = ""


class IssuedLicence(_Strict):
    """The licence as signed by the handling node's department: `payload` is the licence payload,
    `signature` the proof value, `key_id`/`algorithm` the proof's kid/alg; `status_list` is a snapshot
    of the issuer's signed status list (so that the accepting node verifies offline, against the
    trust lists carried by the handling node's descriptor)."""
    identifier: Short  # a licence identifier is up to 80 characters
    issuer: Code
    key_id: Short
    algorithm: Short = ""
    payload: dict
    signature: str = Field(max_length=2000)
    status_list: dict | None = None


class Decision(_Strict):
    outcome: Literal["approve", "deny"]
    reason: Text = ""
    decided_at: Time
    licence: IssuedLicence | None = None


class Delivery(_Strict):
    method: Literal["window", "post"]
    address: Text = ""
    tracking_number: Short = ""


class Delivered(_Strict):
    method: Literal["window", "post", "online"]
    delivered_at: Time
    receiver: Short = ""


class Withdrawn(_Strict):
    withdrawn_at: Time
    reason: Text = ""


class Supervision(_Strict):
    subject: Short
    text: Text
    due_on: Day | None = None


class TrustLists(_Strict):
    """Signed trust lists (tongban-trust-list/1) of regions the sender serves: sent when one is
    re-published (key rotation, issuer change, periodic refresh), as the descriptor carries them."""

    lists: list[dict] = Field(min_length=1, max_length=50)


class Ping(_Strict):
    note: Text = ""
    pad: str = Field(default="", max_length=MAX_MATERIAL_BYTES)  # benchmarks: a payload of a chosen size


SCHEMAS: dict[str, type[BaseModel]] = {
    MessageType.HANDOVER: Handover, MessageType.ACKNOWLEDGED: Acknowledged, MessageType.NOTICE: Notice,
    MessageType.CORRECTION: Correction, MessageType.DECISION: Decision, MessageType.DELIVERY: Delivery,
    MessageType.DELIVERED: Delivered, MessageType.WITHDRAWN: Withdrawn, MessageType.SUPERVISION: Supervision,
    MessageType.PING: Ping, MessageType.TRUST_LIST: TrustLists,
}


def payload_problems(type_: str, payload: object) -> list[Problem]:
    schema = SCHEMAS.get(type_)
    if schema is None:
        return [Problem("envelope.type", "fed.envelope", "消息类型未定义", "unknown message type")]
    try:
        schema.model_validate(payload)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:20]:
            where = ".".join(str(p) for p in err["loc"]) or "payload"
            problems.append(Problem(f"payload.{where}", "fed.payload", f"载荷不符合 {type_} 的格式：{err['msg']}",
                                    f"payload does not match {type_}: {err['msg']}"))
        return problems
    return []
