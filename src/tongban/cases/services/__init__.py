"""The write layer of case handling. Import services from here."""

from .delivery import choose_delivery, deliver_case
from .handling import (
                       act,
                       claim,
                       decide_extension,
                       end_special_procedure,
                       fetch_shared_material,
                       supply_correction,
                       supply_minor_material,
                       withdraw_case,
                       withdraw_item,
)
from .intake import (
                       accept_case,
                       attach_file,
                       commit_material,
                       completeness_problems,
                       deem_accepted,
                       issue_one_time_notice,
                       open_material_file,
                       promise_material,
                       refuse_case,
                       remove_file,
                       start_case,
                       submit_case,
                       update_draft,
                       use_licence,
)
from .supervision import acknowledge_supervision, recompute_open_deadlines, send_supervision_notice, sweep

__all__ = [
    "accept_case", "acknowledge_supervision", "act", "attach_file", "choose_delivery", "claim", "commit_material",
    "completeness_problems", "decide_extension", "deem_accepted", "deliver_case", "end_special_procedure", "fetch_shared_material",
    "issue_one_time_notice", "open_material_file", "promise_material", "recompute_open_deadlines", "refuse_case",
    "remove_file", "send_supervision_notice", "start_case", "submit_case", "supply_correction", "supply_minor_material",
    "sweep", "update_draft", "use_licence", "withdraw_case", "withdraw_item",
]
