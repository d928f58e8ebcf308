"""Message types that go both ways of a cross-node case (`case.withdrawn`, `supervision.notice`): the
inbox picks the accepting side's handler when this node minted the collab id (a remote sub-case of it
exists here) and the handling side's when the sender handed the case over to it (docs/federation.md §3).
One process: this node is `changsha` (accepting) in the first tests, and the handling side is covered
by tests/federation/test_handling.py plus the dispatch test below."""

from __future__ import annotations

import pytest

from tests.demo_fixtures import demo_full  # noqa: F401 - fixture
from tongban.federation.envelope import MessageType

from . import test_accepting as accepting
from .test_accepting import accepted_remote_case, deliver, now_iso, remote_sub

changsha, xiangtan = accepting.changsha, accepting.xiangtan  # the accepting node's fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_full")]


def test_a_withdrawal_by_the_handling_node_stops_the_remote_item_here_once(xiangtan):
    from tongban.audit.selectors import trail_for_case
    from tongban.cases.models import Action, Case, SubCase
    from tongban.federation.models import InboxMessage

    case = accepted_remote_case()
    sub = remote_sub(case)
    wire = deliver(xiangtan, sub, MessageType.WITHDRAWN, {"withdrawn_at": now_iso(), "reason": "申请人在湘潭撤回"})
    from tongban.federation.inbox import receive_batch

    receive_batch([wire])  # the same message again: nothing more
    sub.refresh_from_db()
    case.refresh_from_db()
    assert sub.status == SubCase.Status.WITHDRAWN and sub.outcome_reason == "申请人在湘潭撤回"
    assert Action.objects.filter(subcase=sub, action="remote_withdrawn").count() == 1
    assert [e.action for e in trail_for_case(case.number)].count("case.remote_withdrawn") == 1
    assert InboxMessage.objects.get(message_id=wire["envelope"]["message_id"]).status == "applied"
    # Nothing is open any more: the case is no longer waiting on the handling node.
    assert case.status != Case.Status.ACCEPTED


def test_a_withdrawal_after_the_decision_leaves_the_decision_standing(xiangtan):
    from tongban.cases.models import Action, SubCase

    case = accepted_remote_case()
    sub = remote_sub(case)
    deliver(xiangtan, sub, MessageType.DECISION, {"outcome": "deny", "reason": "不符合条件", "decided_at": now_iso()})
    deliver(xiangtan, sub, MessageType.WITHDRAWN, {"withdrawn_at": now_iso(), "reason": "迟到的撤回"})
    sub.refresh_from_db()
    assert sub.status == SubCase.Status.DENIED and sub.outcome_reason == "不符合条件"
    assert Action.objects.filter(subcase=sub, action="remote_withdrawn").count() == 1  # recorded, changes nothing


def test_a_supervision_notice_from_the_handling_node_is_recorded_on_the_accepted_case_once(xiangtan):
    from tongban.audit.selectors import trail_for_case
    from tongban.cases.models import Action, SupervisionNotice
    from tongban.federation.inbox import receive_batch

    case = accepted_remote_case()
    sub = remote_sub(case)
    wire = deliver(xiangtan, sub, MessageType.SUPERVISION,
                   {"subject": "补正材料未移交", "text": "请督促申请人补正", "due_on": "2030-01-02"})
    receive_batch([wire])
    [action] = Action.objects.filter(subcase=sub, action="remote_supervised")
    assert "请督促申请人补正" in action.reason and "xiangtan" in action.reason
    [entry] = [e for e in trail_for_case(case.number) if e.action == "case.remote_supervised"]
    assert entry.after["due_on"] == "2030-01-02" and entry.after["by_node"] == "xiangtan"
    assert not SupervisionNotice.objects.exists()  # no department here handles a remote item


def test_a_two_way_message_from_another_node_than_the_handling_one_changes_nothing(xiangtan):
    from tongban.cases.models import SubCase
    from tongban.federation.descriptors import import_descriptor
    from tongban.federation.inbox import receive_batch
    from tongban.federation.models import InboxMessage

    from .fakes import FakeNode

    case = accepted_remote_case()
    sub = remote_sub(case)
    other = FakeNode("zhuzhou", regions=("430200",))
    import_descriptor(other.descriptor(), fingerprint=other.fingerprint)
    wire = other.message("changsha", MessageType.WITHDRAWN, {"withdrawn_at": now_iso(), "reason": "x"},
                         collab_id=sub.collab_id)
    receive_batch([wire])
    sub.refresh_from_db()
    assert sub.status == SubCase.Status.ACTIVE
    assert InboxMessage.objects.get(message_id=wire["envelope"]["message_id"]).status == "failed"


def test_a_two_way_message_for_a_collab_id_neither_accepted_nor_handled_here_fails_by_name(xiangtan):
    from tongban.federation.inbox import receive_batch
    from tongban.federation.models import InboxMessage

    wire = xiangtan.message("changsha", MessageType.SUPERVISION, {"subject": "督办", "text": "请办理"},
                            collab_id="changsha-430100-20261130-ffffffff")
    receive_batch([wire])
    row = InboxMessage.objects.get(message_id=wire["envelope"]["message_id"])
    assert row.status == "failed" and "NoCaseHere" in row.error


def test_each_side_has_its_own_handler_and_a_second_one_for_a_side_is_refused():
    from tongban.cases.services import remote
    from tongban.federation import handling
    from tongban.federation.inbox import ACCEPTING, HANDLING, SIDED, handler

    for type_ in (MessageType.WITHDRAWN, MessageType.SUPERVISION):
        assert SIDED[type_][ACCEPTING].__module__ == remote.__name__
        assert SIDED[type_][HANDLING].__module__ == handling.__name__
    with pytest.raises(RuntimeError):
        handler(MessageType.WITHDRAWN, side=HANDLING)(lambda message: None)
    with pytest.raises(RuntimeError):
        handler(MessageType.WITHDRAWN)(lambda message: None)
