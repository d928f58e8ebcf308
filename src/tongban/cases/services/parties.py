"""Who may file for whom: the legal representative, or an agent under a mandate (委托代办)."""

from __future__ import annotations

from datetime import date

from tongban.accounts.selectors import require_acting_for


def check_may_file_for(actor, enterprise, basic_codes: list[str], on: date):
    """The mandate the actor files under (None for the legal representative); InvalidInput naming
    `acting_as` and the rule (no mandate, revoked, expired, out of scope) otherwise. Checked on every
    write, so a revoked mandate stops the agent at once."""
    return require_acting_for(actor, enterprise, basic_codes, on=on)
