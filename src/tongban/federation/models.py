"""Federation between separately run nodes (docs/federation.md).

- `NodeKey`: this node's signing keys (private half encrypted with the licence key store's KEK).
- `Peer` / `PeerKey` / `AgreedItem`: the peer registry, filled only by importing signed descriptors.
- `OutboxMessage`: signed messages waiting for (or holding) the peer's signed receipt.
- `InboxMessage`: messages received, unique on (sender, message id), with the receipt we gave.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.licences import crypto

ALGORITHM_CHOICES = [(crypto.ED25519, "Ed25519"), (crypto.SM2_SM3, "SM2 / SM3")]


class NodeKey(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("签名中")
        RETIRED = "retired", _("已轮换（仅用于验证）")

    key_id = models.CharField(_("密钥标识"), max_length=80, unique=True)
    algorithm = models.CharField(_("算法"), max_length=16, choices=ALGORITHM_CHOICES)
    public_key = models.TextField(_("公钥（SPKI DER，base64url）"))
    encrypted_private_key = models.TextField(_("加密私钥"), editable=False)
    kek_fingerprint = models.CharField(_("密钥加密密钥指纹"), max_length=16, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    valid_from = models.DateTimeField(_("启用时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("节点签名密钥")
        verbose_name_plural = _("节点签名密钥")
        constraints = [models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                               name="nodekey_one_active")]

    def __str__(self) -> str:
        return self.key_id

    def public_entry(self) -> dict:
        from .envelope import iso

        return {"key_id": self.key_id, "algorithm": self.algorithm, "public_key": self.public_key,
                "valid_from": iso(self.valid_from), "valid_until": iso(self.valid_until) if self.valid_until else None}


class Peer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("启用")
        SUSPENDED = "suspended", _("暂停")

    code = models.CharField(_("节点代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    url = models.CharField(_("地址"), max_length=300)
    regions = models.JSONField(_("服务区划"), default=list)
    reachable = models.BooleanField(_("可直接推送"), default=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    descriptor = models.JSONField(_("节点描述（含签名）"), default=dict)
    descriptor_issued_at = models.DateTimeField(_("描述签发时间"))
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    # Sequences (per direction): the last seq we gave a message to this peer; the highest contiguous
    # seq the peer has confirmed in a receipt; the highest seq and highest contiguous seq received.
    out_seq = models.PositiveBigIntegerField(default=0)
    out_acked_seq = models.PositiveBigIntegerField(default=0)
    in_max_seq = models.PositiveBigIntegerField(default=0)
    in_contiguous_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = _("对端节点")
        verbose_name_plural = _("对端节点")

    def __str__(self) -> str:
        return self.code


class PeerKey(models.Model):
    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(_("密钥标识"), max_length=80)
    algorithm = models.CharField(_("算法"), max_length=16, choices=ALGORITHM_CHOICES)
    public_key = models.TextField(_("公钥"))
    valid_from = models.DateTimeField(_("启用时间"))
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("对端公钥")
        verbose_name_plural = _("对端公钥")
        constraints = [models.UniqueConstraint(fields=["peer", "key_id"], name="peerkey_unique")]

    def __str__(self) -> str:
        return self.key_id

    def valid_at(self, at) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)


class AgreedItem(models.Model):
    class HandledBy(models.TextChoices):
        PEER = "peer", _("对端办理（本节点代收）")
        SELF = "self", _("本节点办理（对端代收）")

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="agreed_items")
    handled_by = models.CharField(_("办理方"), max_length=8, choices=HandledBy.choices)
    basic_code = models.CharField(_("基本编码"), max_length=12, blank=True)
    item_code = models.CharField(_("办理节点实施编码"), max_length=31)
    version = models.PositiveIntegerField(_("办理节点事项版本"))
    local_item_code = models.CharField(_("本节点对应实施编码"), max_length=31, blank=True)
    name = models.CharField(_("名称"), max_length=200, blank=True)
    region = models.CharField(_("办理区划"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("通办事项约定")
        verbose_name_plural = _("通办事项约定")
        constraints = [models.UniqueConstraint(fields=["peer", "handled_by", "item_code", "version"],
                                               name="agreeditem_unique")]

    def __str__(self) -> str:
        return f"{self.peer_id}:{self.handled_by}:{self.item_code}@{self.version}"


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待投递")
        DELIVERED = "delivered", _("已投递")
        DEAD = "dead", _("投递失败（死信）")

    message_id = models.UUIDField(_("消息标识"), unique=True)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="outbox")
    collab_id = models.CharField(_("业务协同编号"), max_length=80)
    collab_seq = models.PositiveIntegerField()
    type = models.CharField(_("类型"), max_length=32)
    seq = models.PositiveBigIntegerField()
    envelope = models.JSONField()
    payload = models.JSONField()
    signature = models.TextField()
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    receipt = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("发件箱消息")
        verbose_name_plural = _("发件箱消息")
        constraints = [
            models.UniqueConstraint(fields=["peer", "seq"], name="outbox_peer_seq_unique"),
            models.UniqueConstraint(fields=["peer", "collab_id", "collab_seq"], name="outbox_collab_seq_unique"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
                   models.Index(fields=["peer", "status", "seq"], name="outbox_peer_status")]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id} → {self.peer_id}"

    def wire(self) -> dict:
        return {"envelope": self.envelope, "payload": self.payload, "signature": self.signature}


class InboxMessage(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("等待前序消息")
        APPLIED = "applied", _("已处理")
        FAILED = "failed", _("处理失败")

    sender = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="inbox")
    message_id = models.UUIDField(_("消息标识"))
    collab_id = models.CharField(_("业务协同编号"), max_length=80)
    collab_seq = models.PositiveIntegerField()
    type = models.CharField(_("类型"), max_length=32)
    seq = models.PositiveBigIntegerField()
    envelope = models.JSONField()
    payload = models.JSONField()
    signature = models.TextField()
    payload_digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    receipt = models.JSONField()
    duplicates = models.PositiveIntegerField(_("重复收到次数"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.HELD)
    applied_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("收件箱消息")
        verbose_name_plural = _("收件箱消息")
        constraints = [
            models.UniqueConstraint(fields=["sender", "message_id"], name="inbox_sender_message_unique"),
            models.UniqueConstraint(fields=["sender", "collab_id", "collab_seq"], name="inbox_collab_seq_unique"),
            models.UniqueConstraint(fields=["sender", "seq"], name="inbox_sender_seq_unique"),
        ]
        indexes = [models.Index(fields=["status"], name="inbox_status")]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id} ← {self.sender_id}"


class PeerTrustList(models.Model):
    """A peer's signed trust list (tongban-trust-list/1) for one region it serves, as its descriptor or
    a `trust.list` message carried it: what this node verifies the peer's licences against (跨域互认),
    offline, with no call at verification time. Only the newest sequence per (peer, region) is kept."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="trust_lists")
    region = models.CharField(_("区划"), max_length=6)
    sequence = models.PositiveIntegerField(_("序号"))
    next_update = models.DateTimeField(_("下次更新（过期时间）"))
    document = models.JSONField(_("签名信任列表"))
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    class Meta:
        ordering = ["peer_id", "region"]
        verbose_name = _("对端信任列表")
        verbose_name_plural = _("对端信任列表")
        constraints = [models.UniqueConstraint(fields=["peer", "region"], name="peertrustlist_unique")]

    def __str__(self) -> str:
        return f"{self.peer_id}:{self.region}#{self.sequence}"


class FederatedCase(models.Model):
    """A case this node handles for a peer (异地代收代办, the handling side): the peer accepted it at its
    window and handed it over (`case.handover`); this node made a real local case of it. Unique on
    (peer, collab id), so a repeated or concurrent hand-over creates one case."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="federated_cases")
    collab_id = models.CharField(_("业务协同编号"), max_length=80)
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="federated",
                                verbose_name=_("本地办件"))
    handover_message = models.UUIDField(_("移交消息标识"))
    accepting_region = models.CharField(_("收件地区划"), max_length=6)
    accepting_window = models.CharField(_("收件窗口"), max_length=200, blank=True)
    accepted_at = models.DateTimeField(_("收件地受理时间"))
    remote_case = models.CharField(_("收件节点办件编号"), max_length=200, blank=True)
    item_code = models.CharField(_("实施编码"), max_length=31)
    item_version = models.PositiveIntegerField(_("事项版本"))
    delivery = models.CharField(_("送达方式"), max_length=8, blank=True)
    licences_used = models.JSONField(_("使用的电子证照"), default=list, blank=True)
    holder = models.CharField(_("当前持有节点"), max_length=32, blank=True,
                              help_text=_("whose move it is now: this node's code, the peer's, or empty when closed"))
    created_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("跨节点办件")
        verbose_name_plural = _("跨节点办件")
        constraints = [models.UniqueConstraint(fields=["peer", "collab_id"], name="federatedcase_unique_collab")]

    def __str__(self) -> str:
        return f"{self.collab_id} ← {self.peer_id}"


class CaseHop(models.Model):
    """One hop of a cross-node case (责任追溯): what happened, which node holds the case from then on, and
    when; the time a node held the case is the distance to the next hop. `overdue` records a clock that
    ran out while `holder` held the case."""

    class Kind(models.TextChoices):
        HANDED_OVER = "handed_over", _("移交待接收")
        RECEIVED = "received", _("收到移交")
        ACKNOWLEDGED = "acknowledged", _("受理确认")
        NOTICE = "notice", _("要求补正")
        CORRECTION = "correction", _("收到补正材料")
        DECIDED = "decided", _("作出决定")
        DELIVERY = "delivery", _("收到送达安排")
        DELIVERED = "delivered", _("收件地已送达")
        WITHDRAWN = "withdrawn", _("申请人撤回")
        SUPERVISION = "supervision", _("收到督办")
        OVERDUE = "overdue", _("超时")

    # The handling side's hops hang on its FederatedCase; the accepting side's on the remote sub-case.
    federated = models.ForeignKey(FederatedCase, on_delete=models.CASCADE, related_name="hops", null=True, blank=True)
    subcase = models.ForeignKey("cases.SubCase", on_delete=models.CASCADE, related_name="hops", null=True, blank=True)
    kind = models.CharField(_("环节"), max_length=16, choices=Kind.choices)
    holder = models.CharField(_("此后持有节点"), max_length=32, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    message_id = models.UUIDField(_("消息标识"), null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("跨节点环节")
        verbose_name_plural = _("跨节点环节")

    def __str__(self) -> str:
        return f"{self.kind} → {self.holder}"


class PeerGrant(models.Model):
    """A grant of this node's data resource to a department of a peer node (数据跨节点共享): which
    consumer (by USCC, as the peer names it), which fields, for what purpose and period. Deny by
    default, as local grants (tongban.exchange.Grant); queries come as signed synchronous requests."""

    class Status(models.TextChoices):
        GRANTED = "granted", _("已授权")
        REVOKED = "revoked", _("已撤销")

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="data_grants")
    consumer_uscc = models.CharField(_("使用部门统一社会信用代码"), max_length=18)
    consumer_name = models.CharField(_("使用部门"), max_length=128, blank=True)
    resource = models.ForeignKey("exchange.DataResource", on_delete=models.PROTECT, related_name="peer_grants")
    fields = models.JSONField(_("授权数据项"), default=list)
    purpose = models.TextField(_("使用目的"))
    valid_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("失效时间"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.GRANTED)
    granted_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("跨节点共享授权")
        verbose_name_plural = _("跨节点共享授权")

    def __str__(self) -> str:
        return f"{self.resource_id} → {self.peer_id}:{self.consumer_uscc}"
