"""Case handling (办件): a case, one sub-case per item, its materials, deadlines, actions and notices.

See docs/cases.md for the model in a few lines. Writes go through tongban.cases.services only; every
state change also lands in the hash-chained audit trail (tongban.audit).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseSequence(models.Model):
    """The last case number handed out per region and day; reserved under a row lock."""

    region_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "day"], name="casesequence_unique_day")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day} #{self.last}"



class Workflow(models.Model):
    """An item's review steps as data (states, actions, roles, working-day budget per step), versioned.

    `definition` = {"steps": [{"code", "name", "name_en", "roles": [...], "days": int | null,
    "actions": [...], "decision": bool}]}; the sub-case pins the version it started with.
    """

    code = models.SlugField(_("流程编码"), max_length=64)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=128)
    definition = models.JSONField(_("流程定义"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("办理流程")
        verbose_name_plural = _("办理流程")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="workflow_unique_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def steps(self) -> list[dict]:
        return self.definition["steps"]

    def step(self, code: str) -> dict:
        for step in self.steps():
            if step["code"] == code:
                return step
        raise KeyError(code)


class WorkflowAssignment(models.Model):
    """Which workflow an item (by basic code) follows, nationwide or in one region (the region wins)."""

    basic_code = models.CharField(_("事项基本编码"), max_length=12)
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, null=True, blank=True,
                               verbose_name=_("区划（空表示全国）"))
    workflow_code = models.SlugField(_("流程编码"), max_length=64)

    class Meta:
        verbose_name = _("事项流程配置")
        verbose_name_plural = _("事项流程配置")
        constraints = [models.UniqueConstraint(fields=["basic_code", "region"], name="workflowassignment_unique"),
                       models.UniqueConstraint(fields=["basic_code"], condition=models.Q(region__isnull=True),
                                               name="workflowassignment_unique_national")]

    def __str__(self) -> str:
        return f"{self.basic_code} -> {self.workflow_code}"



class Case(models.Model):
    class Kind(models.TextChoices):
        BUNDLE = "bundle", _("一件事")
        ITEM = "item", _("单事项")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待预审")
        CORRECTION = "correction", _("待补正")
        ACCEPTED = "accepted", _("办理中")
        READY = "ready", _("待出件")
        DELIVERED = "delivered", _("已出件")
        REFUSED = "refused", _("不予受理")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上申请")
        WINDOW = "window", _("窗口受理")

    class Delivery(models.TextChoices):
        WINDOW = "window", _("窗口领取")
        POST = "post", _("邮寄送达")
        ELECTRONIC = "electronic", _("电子送达")

    class ApplicantKind(models.TextChoices):
        PERSON = "person", _("自然人")
        ENTERPRISE = "enterprise", _("法人")

    number = models.CharField(_("办件编号"), max_length=24, unique=True)
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    channel = models.CharField(_("受理渠道"), max_length=8, choices=Channel.choices)
    title = models.CharField(_("名称"), max_length=128)
    bundle_version = models.ForeignKey("bundles.BundleVersion", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="cases", verbose_name=_("一件事版本"))
    item_code = models.CharField(_("单事项基本编码"), max_length=12, blank=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="cases",
                               verbose_name=_("办理地"))
    intake_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="intake_cases",
                                      verbose_name=_("收件地"))
    intake_hall = models.ForeignKey("regions.ServiceHall", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="cases", verbose_name=_("收件大厅"))
    plan_date = models.DateField(_("适用版本日期"))
    # Who: the applicant party (a person or an enterprise), the person account that owns the case, and
    # whoever filed it (the applicant, an agent under a mandate, or a window clerk on their behalf).
    applicant_kind = models.CharField(_("申请人类别"), max_length=10, choices=ApplicantKind.choices)
    applicant_code = models.CharField(_("申请人证件号码"), max_length=18)
    applicant_name = models.CharField(_("申请人名称"), max_length=128)
    applicant_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="cases", verbose_name=_("申请人账号"))
    enterprise = models.ForeignKey("accounts.Enterprise", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="cases", verbose_name=_("申请企业"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="filed_cases",
                                 verbose_name=_("经办人"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="agent_cases", verbose_name=_("代办人"))
    mandate = models.ForeignKey("accounts.Mandate", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="cases", verbose_name=_("委托代办授权"))
    answers = models.JSONField(_("情形问答"), default=dict, blank=True)
    plan = models.JSONField(_("办理方案"), default=dict, blank=True)
    form = models.JSONField(_("申请表"), default=dict, blank=True)
    form_sources = models.JSONField(_("申请表数据来源"), default=dict, blank=True)
    # Intake and acceptance (行政许可法 Art. 32).
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_on = models.DateField(_("收到申请日期"), null=True, blank=True)
    notice_due = models.DateField(_("补正告知期限"), null=True, blank=True)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="accepted_cases", verbose_name=_("受理人"))
    deemed_accepted = models.BooleanField(_("逾期未告知视为受理"), default=False)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Unified delivery (统一出件).
    delivery_method = models.CharField(_("出件方式"), max_length=12, choices=Delivery.choices,
                                       default=Delivery.ELECTRONIC)
    delivery_window = models.ForeignKey("regions.Window", on_delete=models.PROTECT, null=True, blank=True,
                                        verbose_name=_("领取窗口"))
    delivery_address = models.CharField(_("邮寄地址"), max_length=256, blank=True)
    tracking_number = models.CharField(_("快递单号"), max_length=64, blank=True)
    delivered_at = models.DateTimeField(_("出件时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        indexes = [
            models.Index(fields=["applicant_user", "-id"], name="case_by_applicant"),
            models.Index(fields=["applicant_code", "-id"], name="case_by_applicant_code"),
            models.Index(fields=["intake_region", "status", "-id"], name="case_by_intake"),
            models.Index(fields=["region", "-id"], name="case_by_region"),
            models.Index(fields=["status", "notice_due"], name="case_notice_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def cross_region(self) -> bool:
        return self.region_id != self.intake_region_id


class RemoteStatus(models.TextChoices):
    """Where a remote sub-case stands, as the handling node's messages tell this node."""

    NONE = "", _("本地办理")
    HANDED_OVER = "handed_over", _("已移交，待办理地受理确认")
    ACKNOWLEDGED = "acknowledged", _("办理地已受理，审查中")
    CORRECTION = "correction", _("办理地要求补正")
    CORRECTION_SENT = "correction_sent", _("补正材料已移交")
    APPROVED = "approved", _("办理地准予许可")
    DENIED = "denied", _("办理地不予许可")


class SubCase(models.Model):
    RemoteStatus = RemoteStatus

    class Status(models.TextChoices):
        PENDING = "pending", _("待受理")
        WAITING = "waiting", _("等待前置事项")
        ACTIVE = "active", _("办理中")
        APPROVED = "approved", _("准予许可")
        DENIED = "denied", _("不予许可")
        CANCELLED = "cancelled", _("已取消")
        WITHDRAWN = "withdrawn", _("已撤回")
        STOPPED = "stopped", _("已终止")

    OPEN = (Status.PENDING, Status.WAITING, Status.ACTIVE)

    class Hold(models.TextChoices):
        NONE = "", _("无")
        CORRECTION = "correction", _("补正")
        SPECIAL = "special", _("特别程序")
        MINOR = "minor", _("容缺材料待补")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subcases", verbose_name=_("办件"))
    key = models.CharField(_("事项键"), max_length=64)
    position = models.PositiveSmallIntegerField(_("序号"))
    stage = models.PositiveSmallIntegerField(_("阶段"))
    after = models.JSONField(_("前置事项"), default=list, blank=True)
    item_version = models.ForeignKey("catalog.ItemVersion", on_delete=models.PROTECT, related_name="subcases",
                                     verbose_name=_("事项版本"))
    # Empty for a remote sub-case (handled by a peer node): no local department or workflow.
    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="subcases",
                                   null=True, blank=True, verbose_name=_("办理部门"))
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, null=True, blank=True,
                                 verbose_name=_("办理流程"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    step = models.CharField(_("当前环节"), max_length=32, blank=True)
    hold = models.CharField(_("暂停原因"), max_length=12, choices=Hold.choices, blank=True, default="")
    held_since = models.DateField(_("暂停起始"), null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="assigned_subcases", verbose_name=_("承办人"))
    # Deadlines: a budget in working days from `started_on` plus the closed pauses and approved
    # extensions; the due dates are stored (recomputed on every change) so queues sort by them.
    started_on = models.DateField(_("起算日期"), null=True, blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("法定时限（工作日）"))
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"))
    paused_days = models.PositiveSmallIntegerField(_("已扣除工作日"), default=0)
    extension_days = models.PositiveSmallIntegerField(_("已延长工作日"), default=0)
    statutory_due = models.DateField(_("法定办结日期"), null=True, blank=True)
    promised_due = models.DateField(_("承诺办结日期"), null=True, blank=True)
    due_provisional = models.BooleanField(_("日期为暂定"), default=False)
    ack_due = models.DateField(_("跨域限时反馈日期"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认接收时间"), null=True, blank=True)
    decided_on = models.DateField(_("决定日期"), null=True, blank=True)
    finished_on = models.DateField(_("办结日期"), null=True, blank=True)
    outcome_reason = models.TextField(_("决定理由"), blank=True)
    result_licence = models.ForeignKey("licences.Licence", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("结果证照"))
    revision = models.PositiveIntegerField(_("修订号"), default=0)
    # Remote handling (异地代收代办 across nodes, docs/federation.md §8): this node accepted the item at
    # its window; peer `remote_node` handles it under its own item code and version (pinned from the
    # agreed list). `item_version` is then this node's counterpart of the same basic code, whose form
    # and checklist the window examined. Messages of the case carry `collab_id` (业务协同编号).
    remote_node = models.CharField(_("办理节点"), max_length=32, blank=True)
    remote_region = models.CharField(_("办理地区划"), max_length=6, blank=True)
    remote_item_code = models.CharField(_("办理节点实施编码"), max_length=31, blank=True)
    remote_item_version = models.PositiveIntegerField(_("办理节点事项版本"), null=True, blank=True)
    remote_status = models.CharField(_("异地办理状态"), max_length=16, choices=RemoteStatus.choices, blank=True,
                                     default="")
    remote_case_number = models.CharField(_("办理节点办件编号"), max_length=64, blank=True)
    remote_notice = models.JSONField(_("办理节点补正要求"), default=dict, blank=True)
    collab_id = models.CharField(_("业务协同编号"), max_length=80, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("子办件")
        verbose_name_plural = _("子办件")
        ordering = ["case_id", "position"]
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="subcase_unique_key")]
        indexes = [
            models.Index(fields=["department", "status", "promised_due", "id"], name="subcase_queue"),
            models.Index(fields=["status", "promised_due"], name="subcase_due"),
            # The officer's case list: "cases with an item of my department" as an index-only semi-join.
            models.Index(fields=["department", "case"], name="subcase_by_department"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number}/{self.key}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_remote(self) -> bool:
        return bool(self.remote_node)


class DeadlineEntry(models.Model):
    """The deadline ledger: every event that moves (or explains) a sub-case's due dates."""

    class Kind(models.TextChoices):
        START = "start", _("起算")
        PAUSE = "pause", _("暂停计时")
        RESUME = "resume", _("恢复计时")
        EXTENSION = "extension", _("延长")
        RECOMPUTE = "recompute", _("日历变更重算")

    subcase = models.ForeignKey(SubCase, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    hold = models.CharField(max_length=12, blank=True)
    on = models.DateField()
    days = models.SmallIntegerField(default=0, help_text="working days this entry adds to the budget")
    reason = models.CharField(max_length=512, blank=True)
    statutory_due = models.DateField(null=True, blank=True)
    promised_due = models.DateField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.on} {self.days:+d}"



class CaseMaterial(models.Model):
    """One line of the case's checklist and how it is satisfied."""

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("申请人提交")
        LICENCE = "licence", _("电子证照")
        DATA = "data", _("共享数据")
        COMMITMENT = "commitment", _("告知承诺")
        PRODUCED = "produced", _("前序事项结果")

    class Status(models.TextChoices):
        MISSING = "missing", _("未提交")
        PROVIDED = "provided", _("已提交")
        DEFECTIVE = "defective", _("需补正")
        PENDING = "pending", _("容缺待补")
        COMMITTED = "committed", _("已承诺")
        AWAITED = "awaited", _("待前序事项产生")
        SHARED = "shared", _("共享获取")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    code = models.SlugField(_("材料编码"), max_length=64)
    name = models.CharField(_("材料名称"), max_length=128)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    required = models.BooleanField(_("必要"), default=True)
    minor = models.BooleanField(_("可容缺"), default=False)
    commitment_allowed = models.BooleanField(_("可告知承诺"), default=False)
    licence_type_code = models.CharField(max_length=21, blank=True)
    data_resource = models.CharField(max_length=64, blank=True)
    used_by = models.JSONField(_("适用事项"), default=list)
    producer = models.CharField(_("产生事项"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.MISSING)
    defect = models.CharField(_("补正原因"), max_length=256, blank=True)
    promised_by = models.DateField(_("承诺补齐日期"), null=True, blank=True)
    commitment = models.TextField(_("承诺内容"), blank=True)
    licence = models.ForeignKey("licences.Licence", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    licence_check = models.JSONField(_("证照核验结果"), default=dict, blank=True)
    data = models.JSONField(_("共享数据"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case_id", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "code"], name="casematerial_unique_code")]

    def __str__(self) -> str:
        return self.name


def _upload_path(instance: MaterialFile, filename: str) -> str:
    # Content-addressed: the name is the hash, so a file cannot be swapped under its record.
    return f"cases/{instance.sha256[:2]}/{instance.sha256}"


class MaterialFile(models.Model):
    material = models.ForeignKey(CaseMaterial, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=_upload_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    scanned = models.BooleanField(_("窗口扫描"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"



class Action(models.Model):
    """Every handling action, with its idempotency key: a repeated request finds its first answer here."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    subcase = models.ForeignKey(SubCase, on_delete=models.CASCADE, null=True, blank=True, related_name="actions")
    key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    action = models.CharField(max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    role = models.CharField(max_length=16, blank=True)
    step_from = models.CharField(max_length=32, blank=True)
    step_to = models.CharField(max_length=32, blank=True)
    status_from = models.CharField(max_length=12, blank=True)
    status_to = models.CharField(max_length=12, blank=True)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.action} {self.step_from}->{self.step_to}"



class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")

    subcase = models.ForeignKey(SubCase, on_delete=models.CASCADE, related_name="extension_requests")
    days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.TextField(_("理由"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"+{self.days} ({self.status})"



class Notice(models.Model):
    """A written notice to the applicant; its content is frozen at issue and verifiable by token."""

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", _("一次性告知书")
        ACCEPTANCE = "acceptance", _("受理通知书")
        REFUSAL = "refusal", _("不予受理通知书")
        CORRECTION = "correction", _("补正通知书")
        SPECIAL = "special", _("特别程序告知书")
        EXTENSION = "extension", _("延长期限告知书")
        DECISION = "decision", _("审批决定书")
        CANCELLATION = "cancellation", _("事项终止告知书")
        WITHDRAWAL = "withdrawal", _("撤回确认书")
        DELIVERY = "delivery", _("出件通知书")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    subcase = models.ForeignKey(SubCase, on_delete=models.CASCADE, null=True, blank=True, related_name="notices")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    number = models.CharField(max_length=40, unique=True)
    issued_on = models.DateField()
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    issuer_name = models.CharField(max_length=128)
    content = models.JSONField()
    digest = models.CharField(max_length=64)
    token = models.CharField(max_length=32, unique=True)
    # Signed like a licence by the issuing department's key (tongban.cases.notices). Notices issued before
    # signing existed keep an empty signature: the verification page says they are unsigned.
    signer = models.ForeignKey("regions.Department", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    payload = models.TextField(blank=True, default="", editable=False)
    signing_key = models.ForeignKey("licences.SigningKey", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", editable=False)
    signature = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def signed(self) -> bool:
        return bool(self.signature)


class NoticeCounter(models.Model):
    """The last notice sequence number of a case, row-locked when a notice is numbered: numbers are
    unique and without gaps however many officers and clerks issue notices at once."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.case_id}: {self.last}"


class Message(models.Model):
    """What the applicant is told (站内消息); one row per telling, so "told once" is checkable."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=24)
    text = models.TextField()
    at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:40]}"



class DeadlineAlert(models.Model):
    """A warning or overdue record raised by the sweep, once per sub-case, kind and due date."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("即将到期预警")
        PROMISED_OVERDUE = "promised_overdue", _("超承诺时限")
        STATUTORY_OVERDUE = "statutory_overdue", _("超法定时限")
        ACK_OVERDUE = "ack_overdue", _("跨域超时未确认")

    subcase = models.ForeignKey(SubCase, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due = models.DateField()
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subcase", "kind", "due"], name="deadlinealert_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.due}"



class SupervisionNotice(models.Model):
    """督办: a supervisor's written demand to a department about a sub-case (or its queue)."""

    department = models.ForeignKey("regions.Department", on_delete=models.PROTECT, related_name="supervision_notices")
    subcase = models.ForeignKey(SubCase, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="supervision_notices")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    respond_by = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    response = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"督办 {self.department_id} {self.issued_at:%Y-%m-%d}"


class RemoteLicence(models.Model):
    """A licence issued by a peer node's department for a remote sub-case, as received in
    `case.decision`, with the result of its verification here against the peer's trust lists
    (跨域互认). Kept in this node's licence library for the applicant (holder code)."""

    subcase = models.OneToOneField(SubCase, on_delete=models.CASCADE, related_name="remote_licence")
    identifier = models.CharField(_("证照标识"), max_length=80)
    holder_code = models.CharField(_("持证主体代码"), max_length=18, db_index=True)
    holder_name = models.CharField(_("持证主体名称"), max_length=128, blank=True)
    type_name = models.CharField(_("证照类型"), max_length=128, blank=True)
    issuer_uscc = models.CharField(_("发证部门统一社会信用代码"), max_length=18)
    issuer_name = models.CharField(_("发证部门"), max_length=128, blank=True)
    source_node = models.CharField(_("来源节点"), max_length=32)
    document = models.JSONField(_("签名证照文档（含状态列表快照）"))
    verification = models.JSONField(_("核验结果"), default=dict)
    valid = models.BooleanField(_("核验通过"), default=False)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("异地签发证照")
        verbose_name_plural = _("异地签发证照")

    def __str__(self) -> str:
        return self.identifier

