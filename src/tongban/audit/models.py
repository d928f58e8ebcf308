"""The append-only, hash-chained audit trail (全过程留痕) shared by every app.

`AuditEntry` rows are written only by `tongban.audit.services.append_entry`, which numbers them
without gaps (`seq`) and links each to the previous one by hash (see `chain.py`). `AuditChainHead`
is a single row holding the last seq and hash; appenders lock it (SELECT ... FOR UPDATE), which
serialises appends across processes and hosts.

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
    seq = models.BigIntegerField(_("序号"), unique=True, editable=False)
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
        ordering = ["seq"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq_idx"),
            models.Index(fields=["subject_code", "seq"], name="audit_subject_seq_idx"),
            models.Index(fields=["case_ref", "seq"], name="audit_case_seq_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} ({self.actor_label})"

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
            seq=self.seq, at=self.at, actor_id=self.actor_id, prev_hash=self.prev_hash,
            before=self.before, after=self.after,
            **{name: getattr(self, name) for name in TEXT_FIELDS},
        )


class AuditChainHead(models.Model):
    """The single row (id 1) holding the chain's last seq and hash; locked by every append."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    last_seq = models.BigIntegerField(_("最后序号"), default=0)
    last_hash = models.CharField(_("最后哈希"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")]

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
