"""Unified delivery (统一出件): when every item is finished, all results go out at once, by the
channel the applicant chose: pickup at a window, post with a tracking number, or electronic only.
The applicant is told exactly once, when the results are theirs to have."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from tongban.core.errors import Conflict, InvalidInput, Problem
from tongban.core.transactions import service
from tongban.regions.models import Window

from ..models import Case, SubCase
from ._common import (
    CaseAction,
    issue_notice,
    lock_case,
    require_case,
    require_status,
    snapshot,
    tell,
    today,
    trail,
)


def _results(case: Case) -> list[tuple[str, str]]:
    rows = []
    for sub in case.subcases.select_related("item_version", "result_licence").order_by("position"):
        if sub.status == SubCase.Status.APPROVED:
            what = sub.result_licence.identifier if sub.result_licence_id else (sub.item_version.result_name or "办结")
            rows.append((sub.item_version.name, f"准予：{what}"))
        else:
            rows.append((sub.item_version.name, f"{sub.get_status_display()}：{sub.outcome_reason}"))
    return rows


@service
def choose_delivery(*, case: Case, actor, method: str, window_id: int | None = None, address: str = "") -> Case:
    """The applicant (or the window clerk for them) chooses how to receive the results, any time before delivery."""
    case = lock_case(case)
    require_case(actor, case, CaseAction.CHOOSE_DELIVERY)
    if case.status in (Case.Status.DELIVERED, Case.Status.REFUSED, Case.Status.WITHDRAWN):
        raise Conflict("该办件已结束", "the case is closed", rule="case.closed")
    if method not in Case.Delivery.values:
        raise InvalidInput(Problem("method", "delivery.method", "出件方式须为 window（窗口领取）、post（邮寄）或 electronic（电子送达）",
                                   "method must be window, post or electronic"))
    window = None
    if method == Case.Delivery.WINDOW:
        # Cross-region cases are delivered in the region where they were received (or by post).
        window = Window.objects.filter(pk=window_id, hall__region_id=case.intake_region_id).first() if window_id else (
            Window.objects.filter(hall__region_id=case.intake_region_id).order_by("-categories", "number").filter(
                categories="delivery").first() or Window.objects.filter(hall__region_id=case.intake_region_id).first())
        if window is None:
            raise InvalidInput(Problem("window", "delivery.window", "请选择收件地政务服务中心的领取窗口",
                                       "choose a pickup window of the intake region's service centre"))
    if method == Case.Delivery.POST and not (address or "").strip():
        raise InvalidInput(Problem("address", "required", "邮寄送达须填写地址", "an address is required for post"))
    before = {"delivery_method": case.delivery_method}
    case.delivery_method, case.delivery_window, case.delivery_address = method, window, (address or "").strip()[:256]
    case.save(update_fields=["delivery_method", "delivery_window", "delivery_address", "updated_at"])
    trail("delivery_chosen", case, actor=actor, before=before,
          after={"delivery_method": method, "window": window.number if window else None})
    if case.status == Case.Status.READY and method == Case.Delivery.ELECTRONIC:
        _deliver(case, actor, today(None))
    return case


def on_all_finished(case: Case, *, on: date, actor) -> None:
    """Every item is finished: the case is ready for unified delivery; electronic delivery happens now."""
    before = snapshot(case)
    case.status = Case.Status.READY
    case.save(update_fields=["status", "updated_at"])
    trail("ready", case, actor=actor, before=before, after=snapshot(case))
    if case.delivery_method == Case.Delivery.ELECTRONIC:
        _deliver(case, actor, on)
    elif case.delivery_method == Case.Delivery.WINDOW:
        window = case.delivery_window
        where = f"{window.hall.name}{window.number}号窗口（{window.name}）" if window else "收件地政务服务中心"
        tell(case, "delivery", f"办件 {case.number} 已全部办结，请携带身份证件到{where}领取全部结果。")


def _deliver(case: Case, actor, on: date) -> None:
    before = snapshot(case)
    case.status, case.delivered_at, case.closed_at = Case.Status.DELIVERED, timezone.now(), timezone.now()
    case.save(update_fields=["status", "delivered_at", "closed_at", "tracking_number", "updated_at"])
    how = {Case.Delivery.WINDOW: "窗口领取", Case.Delivery.POST: f"邮寄（快递单号 {case.tracking_number}）",
           Case.Delivery.ELECTRONIC: "电子送达（可在“我的证照”中查看、下载）"}[case.delivery_method]
    notice = issue_notice(case, "delivery", title="统一出件通知书", issuer=f"{case.intake_region.name}政务服务中心", on=on,
                          actor=actor, rows=_results(case),
                          paragraphs=[f"{case.applicant_name}：", f"办件 {case.number}（{case.title}）已全部办结，"
                                      f"全部结果一次送达，送达方式：{how}。"])
    if case.subcases.exclude(remote_node="").exists():  # the handling nodes learn of the delivery
        from .remote import send_delivery

        send_delivery(case, actor=actor)
    if case.delivery_method != Case.Delivery.WINDOW:  # window pickups were told when the results were ready
        tell(case, "delivery", f"办件 {case.number} 的全部结果已{how}，出件通知书 {notice.number}。")
    trail("delivered", case, actor=actor, before=before, after={**snapshot(case), "method": case.delivery_method,
                                                                "tracking_number": case.tracking_number})


@service
def deliver_case(*, case: Case, actor, tracking_number: str = "", on: date | None = None) -> Case:
    """At the window: hand the results over (pickup) or record the post's tracking number."""
    case = lock_case(case)
    require_case(actor, case, CaseAction.DELIVER)
    require_status(case, Case.Status.READY)
    if case.delivery_method == Case.Delivery.POST:
        tracking_number = (tracking_number or "").strip()
        if not tracking_number or len(tracking_number) > 64:
            raise InvalidInput(Problem("tracking_number", "required", "邮寄送达须填写快递单号",
                                       "a tracking number is required for post"))
        case.tracking_number = tracking_number
    _deliver(case, actor, today(on))
    return case
