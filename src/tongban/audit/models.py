"""The append-only, hash-chained audit trail (全过程留痕) shared by every app.

`AuditEntry` rows are written only by `tongban.audit.services.append_entry`. The trail is split into
partitions (chains): an entry goes to the partition of its case (else its region, see
`chain.partition_for`), is numbered without gaps within it (`seq`) and linked to the previous entry of
that partition by hash. `AuditPartitionHead` holds each partition's last seq and hash; appenders lock
the heads of the partitions they write (SELECT ... FOR UPDATE), so appends to one partition are
serialised across processes and hosts while different partitions never wait for one another.
`AuditAnchor` rows, written by a periodic job, sign a Merkle root over all heads (decision 0012).

Normal code paths cannot change or remove entries: the queryset refuses update()/delete()/
bulk_create()/bulk_update(), and save() refuses anything but the insert done by append_entry.
That is a guard against mistakes, not a security boundary: integrity is proven by
`verify_chain()`, which detects rows changed or removed behind the ORM's back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .chain import GENESIS_HASH, TEXT_FIELDS, entry_hash


class AppendOnlyError(Exception):
    """An attempt to change, delete or insert audit entries outside append_entry()."""

    def __init__(self, what: str):
        super().__init__(
            f"审计日志只能追加，不能{what} / the audit trail is append-only; {what} refused "
            "(use tongban.audit.services.append_entry)"
        )


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("update()")

    def delete(self):
        raise AppendOnlyError("delete()")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("bulk_update()")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError("bulk_create()")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("update_or_create()")

    def get_or_create(self, *args, **kwargs):
        raise AppendOnlyError("get_or_create()")

    def create(self, **kwargs):
        raise AppendOnlyError("create()")


class AuditEntry(models.Model):
    # 0: the single chain written before partitioning (hash format 1); 1..PARTITIONS: format 2.
    partition = models.PositiveSmallIntegerField(_("分区"), default=0, editable=False)
    seq = models.BigIntegerField(_("序号"), editable=False, help_text=_("分区内的序号"))
    at = models.DateTimeField(_("时间"), editable=False)
    # PROTECT: a user who appears in the trail cannot be deleted (deactivate them instead); the
    # actor's id is part of the hash, so SET_NULL would silently break the chain.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="audit_entries", verbose_name=_("操作人"), editable=False)
    actor_label = models.CharField(_("操作人名称"), max_length=150, editable=False)
    role = models.CharField(_("操作角色"), max_length=32, blank=True, editable=False)
    action = models.CharField(_("操作"), max_length=64, editable=False)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True, editable=False)
    object_id = models.CharField(_("对象标识"), max_length=128, blank=True, editable=False)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, editable=False)
    subject_code = models.CharField(_("当事人证件号码"), max_length=32, blank=True, editable=False,
                                    help_text=_("身份证号码或统一社会信用代码"))
    case_ref = models.CharField(_("办件编号"), max_length=64, blank=True, editable=False)
    reason = models.TextField(_("事由"), blank=True, editable=False)
    before = models.JSONField(_("变更前"), null=True, blank=True, editable=False)
    after = models.JSONField(_("变更后"), null=True, blank=True, editable=False)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, editable=False)
    hash = models.CharField(_("哈希"), max_length=64, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        # id order is every partition's seq order (ids are drawn at insert, under the partition's lock)
        # and roughly the platform-wide time order.
        ordering = ["id"]
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["partition", "seq"], name="audit_partition_seq_unique")]
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_id_idx"),
            models.Index(fields=["subject_code", "id"], name="audit_subject_id_idx"),
            models.Index(fields=["case_ref", "id"], name="audit_case_id_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.partition}.{self.seq} {self.action} {self.object_type}:{self.object_id} ({self.actor_label})"

    def save(self, *args, **kwargs):
        if not self._state.adding or self.pk is not None:
            raise AppendOnlyError("save() of an existing entry")
        if not getattr(self, "_appending", False):
            raise AppendOnlyError("save() outside append_entry()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("delete()")

    def compute_hash(self) -> str:
        return entry_hash(
            partition=self.partition, seq=self.seq, at=self.at, actor_id=self.actor_id, prev_hash=self.prev_hash,
            before=self.before, after=self.after,
            **{name: getattr(self, name) for name in TEXT_FIELDS},
        )


class AuditPartitionHead(models.Model):
    """One row per partition holding its last seq and hash; locked by every append to the partition."""

    partition = models.PositiveSmallIntegerField(_("分区"), primary_key=True)
    last_seq = models.BigIntegerField(_("最后序号"), default=0)
    last_hash = models.CharField(_("最后哈希"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计分区链头")
        verbose_name_plural = _("审计分区链头")
        default_permissions = ()
        ordering = ["partition"]

    def __str__(self) -> str:
        return f"{self.partition}#{self.last_seq} {self.last_hash[:12]}"


class AnchorKey(models.Model):
    """The platform's anchor signing keys; the private half is an AES-256-GCM envelope under the licence
    key store's key-encryption key (tongban.licences.keystore), as licence and node keys are."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("签名中")
        RETIRED = "retired", _("已轮换（仅用于验证）")

    key_id = models.CharField(_("密钥标识"), max_length=80, unique=True)
    algorithm = models.CharField(_("算法"), max_length=16)
    public_key = models.TextField(_("公钥（SPKI DER，base64url）"))
    encrypted_private_key = models.TextField(_("加密私钥"), editable=False)
    kek_fingerprint = models.CharField(_("密钥加密密钥指纹"), max_length=16, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("审计锚定密钥")
        verbose_name_plural = _("审计锚定密钥")
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["status"], condition=models.Q(status="active"),
                                               name="audit_anchorkey_one_active")]

    def __str__(self) -> str:
        return self.key_id


class AuditAnchorQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("update()")

    def delete(self):
        raise AppendOnlyError("delete()")


class AuditAnchor(models.Model):
    """A signed commitment to every partition head at one moment (a Merkle root), chained to the
    previous anchor. Written by the periodic job `audit.anchor` (tongban.audit.anchors)."""

    number = models.BigIntegerField(_("锚定序号"), unique=True, editable=False)
    at = models.DateTimeField(_("时间"), editable=False)
    heads = models.JSONField(_("各分区链头"), editable=False, help_text=_("[[分区, 序号, 哈希], …]"))
    root = models.CharField(_("默克尔根"), max_length=64, editable=False)
    prev_hash = models.CharField(_("前一锚定哈希"), max_length=64, editable=False)
    hash = models.CharField(_("哈希"), max_length=64, editable=False)
    key = models.ForeignKey(AnchorKey, on_delete=models.PROTECT, related_name="anchors",
                            verbose_name=_("签名密钥"), editable=False)
    signature = models.TextField(_("签名（base64url）"), editable=False)

    objects = AuditAnchorQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计锚定")
        verbose_name_plural = _("审计锚定")
        ordering = ["number"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"anchor #{self.number} {self.root[:12]}"

    def save(self, *args, **kwargs):
        if not self._state.adding or self.pk is not None:
            raise AppendOnlyError("save() of an existing anchor")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("delete()")
