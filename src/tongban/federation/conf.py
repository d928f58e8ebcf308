"""Federation settings, read from Django settings first and the environment second (at call time,
so a test or a `tongban` command run with another node's environment sees its own values)."""

from __future__ import annotations

import os
import re

from django.conf import settings

NODE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")


def _get(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def _float(name: str, default: float) -> float:
    try:
        return float(_get(name, str(default)))
    except ValueError:
        return default


def node_code() -> str:
    """This node's code, or "" when this deployment is not a federation node."""
    return _get("TONGBAN_NODE_CODE").strip()


def enabled() -> bool:
    return bool(node_code())


def node_url() -> str:
    return _get("TONGBAN_NODE_URL", "http://127.0.0.1:8000").rstrip("/")


def node_name() -> str:
    return _get("TONGBAN_NODE_NAME") or node_code()


def node_regions() -> list[str]:
    """The regions this node serves: TONGBAN_NODE_REGIONS, or every region in the database."""
    raw = _get("TONGBAN_NODE_REGIONS").strip()
    if raw:
        return sorted({code.strip() for code in raw.split(",") if code.strip()})
    from tongban.regions.models import Region

    return sorted(Region.objects.filter(level__in=["city", "county"]).values_list("code", flat=True))


def key_algorithm() -> str:
    return _get("TONGBAN_NODE_KEY_ALGORITHM", "Ed25519")


def reachable() -> bool:
    return _get("TONGBAN_NODE_REACHABLE", "1").strip().lower() not in {"0", "false", "no", "off"}


def lease_s() -> float:
    return _float("TONGBAN_FED_LEASE_S", 60.0)


def retry_base_s() -> float:
    return _float("TONGBAN_FED_RETRY_BASE_S", 2.0)


def retry_max_s() -> float:
    return _float("TONGBAN_FED_RETRY_MAX_S", 900.0)


def max_attempts() -> int:
    return int(_float("TONGBAN_FED_MAX_ATTEMPTS", 120))


def stuck_after_s() -> float:
    return _float("TONGBAN_FED_STUCK_AFTER_S", 900.0)


def http_timeout_s() -> float:
    return _float("TONGBAN_FED_HTTP_TIMEOUT_S", 30.0)


def clock_skew_s() -> float:
    return _float("TONGBAN_FED_CLOCK_SKEW_S", 300.0)


def pull_interval_s() -> float:
    return _float("TONGBAN_FED_PULL_INTERVAL_S", 5.0)


def batch_size() -> int:
    return max(1, min(100, int(_float("TONGBAN_FED_BATCH", 20))))


def fault_pause_after_send_s() -> float:
    """Fault injection for the kill-mid-send test: pause between receiving receipts and recording them.
    Never honoured in production."""
    if getattr(settings, "PRODUCTION", False):
        return 0.0
    return _float("TONGBAN_FED_FAULT_PAUSE_AFTER_SEND_S", 0.0)
