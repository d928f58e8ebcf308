"""Structure and check-character rules for the codes the platform handles.

- 居民身份证号码 (GB 11643) and 统一社会信用代码 (GB 32100) through python-stdnum.
- Region codes (GB/T 2260): six digits.
- Item basic code (基本编码, 12): 2 region + 2 item type + 5 main item + 3 sub-item, digits.
- Item implementation code (实施编码, 31): implementing body's USCC (18) + exercise level (1) + basic code (12).
Each check returns a list of Problems (empty when valid) so callers can report all at once.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from .errors import Problem


def _item_types() -> dict[str, tuple[str, str]]:
    """政务服务事项类型 from the data file catalog/item-types.json (GB/T 39554.1 / GB/T 39046), not code."""
    path = Path(__file__).resolve().parent.parent / "catalog" / "item-types.json"
    types = json.loads(path.read_text(encoding="utf-8"))["types"]
    return {code: (names["zh"], names["en"]) for code, names in types.items()}


ITEM_TYPES: dict[str, tuple[str, str]] = _item_types()
# 行使层级: 1 national, 2 provincial, 3 municipal, 4 county, 5 township, 6 village.
EXERCISE_LEVELS = {"1": "国家级", "2": "省级", "3": "市级", "4": "县级", "5": "乡镇级", "6": "村级"}

_REGION_RE = re.compile(r"^\d{6}$")
_BASIC_RE = re.compile(r"^\d{12}$")


def mask(number: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """Mask a personal number for display (脱敏): 4301**********1234."""
    if not number:
        return ""
    if len(number) <= keep_start + keep_end:
        return "*" * len(number)
    return number[:keep_start] + "*" * (len(number) - keep_start - keep_end) + number[-keep_end:]


def check_id_number(value: str, field: str = "id_number", *, on: date | None = None) -> list[Problem]:
    """GB 11643: 17 digits and a check character (MOD 11-2), a birth date that exists, is not in the
    future and not before 1890, and an address code that was a county-level region at that date.
    Rules: gb11643.format, gb11643.check, gb11643.birth_date, gb11643.region."""
    value = str(value or "").strip().upper()
    shown = mask(value)

    def problem(rule: str, zh: str, en: str) -> list[Problem]:
        return [Problem(field, f"gb11643.{rule}", f"居民身份证号码 {shown} 不符合 GB 11643：{zh}",
                        f"ID number {shown} is not valid per GB 11643: {en}")]

    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return problem("format", "应为 18 位（17 位数字加 1 位校验码）", "18 characters (17 digits and a check character)")
    if ric.calc_check_digit(value) != value[17]:
        return problem("check", "校验码错误", "wrong check character")
    try:
        birth = ric.get_birth_date(value)
    except StdnumError:
        return problem("birth_date", "出生日期不存在", "the birth date does not exist")
    if birth > (on or date.today()) or birth.year < 1890:
        return problem("birth_date", "出生日期不合理（在未来或早于 1890 年）",
                       "the birth date is implausible (in the future or before 1890)")
    try:
        ric.get_birth_place(value)
    except StdnumError:
        return problem("region", f"地址码 {value[:6]} 不是出生时有效的县级行政区划代码",
                       f"the address code {value[:6]} was not a county-level region code at the birth date")
    return []


def check_uscc(value: str, field: str = "uscc") -> list[Problem]:
    try:
        uscc.validate(value)
    except StdnumError:
        return [Problem(field, "gb32100", f"统一社会信用代码 {value!s} 不符合 GB 32100（18 位，校验码正确）",
                        f"unified social credit code {value!s} is not valid per GB 32100 (18 characters, correct check character)")]
    return []


def check_region_code(value: str, field: str = "region") -> list[Problem]:
    if not _REGION_RE.match(str(value or "")):
        return [Problem(field, "gbt2260", f"行政区划代码 {value!s} 应为 6 位数字（GB/T 2260）",
                        f"region code {value!s} must be 6 digits (GB/T 2260)")]
    return []


def check_basic_code(value: str, field: str = "basic_code") -> list[Problem]:
    was_number = isinstance(value, int) and not isinstance(value, bool)
    value = str(value or "")
    if not _BASIC_RE.match(value):
        zh = f"基本编码 {value} 应为 12 位数字（2 位区划 + 2 位类型 + 5 位主项 + 3 位子项）"
        en = f"basic code {value} must be 12 digits (2 region + 2 type + 5 main item + 3 sub-item)"
        if was_number:  # a YAML file with the code unquoted: it became a number without its leading zeros
            zh += "；该编码被读成了数字，请加引号，如 \"000117001000\""
            en += "; it was read as a number: quote it, e.g. \"000117001000\""
        return [Problem(field, "basic_code.format", zh, en)]
    if value[2:4] not in ITEM_TYPES:
        return [Problem(field, "basic_code.type", f"基本编码 {value} 的事项类型 {value[2:4]} 不在 GB/T 39046 类型表中",
                        f"basic code {value} has item type {value[2:4]}, which is not a GB/T 39046 item type")]
    return []


def check_implementation_code(value: str, *, basic_code: str, department_uscc: str,
                              field: str = "implementation_code") -> list[Problem]:
    value = str(value or "")
    if len(value) != 31:
        return [Problem(field, "implementation_code.length", f"实施编码 {value} 应为 31 位（统一社会信用代码 18 + 行使层级 1 + 基本编码 12），实际 {len(value)} 位",
                        f"implementation code {value} must be 31 characters (USCC 18 + exercise level 1 + basic code 12), got {len(value)}")]
    problems: list[Problem] = []
    if check_uscc(value[:18]):
        problems.append(Problem(field, "implementation_code.uscc", f"实施编码前 18 位 {value[:18]} 不是有效的统一社会信用代码",
                                f"the first 18 characters {value[:18]} of the implementation code are not a valid USCC"))
    elif department_uscc and value[:18] != department_uscc:
        problems.append(Problem(field, "implementation_code.department", f"实施编码前 18 位 {value[:18]} 与实施主体的统一社会信用代码 {department_uscc} 不一致",
                                f"the first 18 characters {value[:18]} of the implementation code differ from the implementing department's USCC {department_uscc}"))
    if value[18] not in EXERCISE_LEVELS:
        problems.append(Problem(field, "implementation_code.level", f"实施编码第 19 位行使层级 {value[18]} 应为 1-6",
                                f"the exercise level (19th character) {value[18]} must be 1 to 6"))
    if value[19:] != basic_code:
        problems.append(Problem(field, "implementation_code.basic_code", f"实施编码后 12 位 {value[19:]} 与基本编码 {basic_code} 不一致",
                                f"the last 12 characters {value[19:]} of the implementation code differ from the basic code {basic_code}"))
    return problems


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(*, registration: str, region: str, serial: int) -> str:
    """A structurally valid 统一社会信用代码 for demo and test data (never a real organisation's).

    registration: 2 characters (e.g. "11" for a government body, "91" for a company).
    """
    body = f"{serial:08d}"[-8:]
    head = f"{registration}{region}{body}{_org_code_check(body)}"
    return head + uscc.calc_check_digit(head)


def make_id_number(*, region: str, birth: str, sequence: int) -> str:
    """A structurally valid 居民身份证号码 (GB 11643) for demo and test data; birth as YYYYMMDD."""
    head = f"{region}{birth}{sequence:03d}"
    return head + ric.calc_check_digit(head + "0")  # stdnum expects a placeholder check digit
