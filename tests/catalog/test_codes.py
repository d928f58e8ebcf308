import pytest
from stdnum.cn import ric, uscc

from tongban.core import codes


@pytest.mark.parametrize("serial", [1, 42, 987654])
def test_generated_uscc_passes_gb32100(serial):
    value = codes.make_uscc(registration="91", region="421200", serial=serial)
    assert uscc.is_valid(value)
    assert codes.check_uscc(value) == []


def test_generated_id_number_passes_gb11643():
    value = codes.make_id_number(region="430102", birth="19860921", sequence=27)
    assert ric.is_valid(value)
    assert codes.check_id_number(value) == []


def test_bad_numbers_name_the_rule_in_both_languages():
    [problem] = codes.check_id_number("421202198609210000", field="holder")
    assert problem.field == "holder" and problem.rule.startswith("gb11643.")
    assert "居民身份证号码" in problem.zh and "ID number" in problem.en
    assert "0000" in problem.zh and "198609" not in problem.zh  # masked
    [problem] = codes.check_uscc("91421200MA4XXXXX00")
    assert problem.rule == "gb32100"


def test_implementation_code_is_checked_against_department_and_basic_code():
    dept = codes.make_uscc(registration="11", region="421200", serial=1)
    other = codes.make_uscc(registration="11", region="421200", serial=2)
    good = f"{dept}3000117001000"
    assert codes.check_implementation_code(good, basic_code="000117001000", department_uscc=dept) == []
    rules = {p.rule for p in codes.check_implementation_code(f"{other}9000117002000", basic_code="000117001000", department_uscc=dept)}
    assert rules == {"implementation_code.department", "implementation_code.level", "implementation_code.basic_code"}
    [short] = codes.check_implementation_code("123", basic_code="000117001000", department_uscc=dept)
    assert short.rule == "implementation_code.length"


def test_basic_code_structure():
    assert codes.check_basic_code("000117001000") == []
    assert codes.check_basic_code("00991700100")[0].rule == "basic_code.format"
    assert codes.check_basic_code("009917001000")[0].rule == "basic_code.type"


def test_mask_keeps_only_ends():
    assert codes.mask("430102199001011234") == "4301**********1234"


def test_a_basic_code_read_as_a_number_is_told_to_quote_it():
    [problem] = codes.check_basic_code(138152448)
    assert problem.rule == "basic_code.format" and "加引号" in problem.zh and "quote it" in problem.en


def test_item_types_come_from_the_data_file_and_match_the_standard():
    """GB/T 39554.1: 01-10 kinds of administrative power, 20 public service; nothing else assigned."""
    assert set(codes.ITEM_TYPES) == {f"{n:02d}" for n in range(1, 11)} | {"20"}
    assert codes.ITEM_TYPES["01"][0] == "行政许可" and codes.ITEM_TYPES["07"][0] == "行政确认"
    assert codes.check_basic_code("001117001000")[0].rule == "basic_code.type"  # 11 is not assigned
    assert codes.check_basic_code("002030001000") == []
