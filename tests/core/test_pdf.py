"""tongban.core.pdf: the PDF parses, Chinese text and the URL come out, long text wraps onto more pages,
the QR code is an embedded image that decodes to the URL, and the same input gives the same bytes."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date

import pytest

from tongban.core import pdf
from tongban.core.errors import InvalidInput
from tongban.core.pdf import Document, Section, render, wrap

URL = "https://tongban.example.gov.cn/verify/licence/1.2.156.3005.2.11100000000000900X001.11430100000001000X.00000001.001.K"
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def notice(paragraphs: int = 1, rows: int = 3, **overrides) -> Document:
    text = ("为贯彻落实《国务院关于加快推进政务服务“一网通办”的指导意见》，进一步优化营商环境，"
            "现就食品经营许可证换证工作通知如下。")
    doc = Document(
        title="关于开展食品经营许可证换证工作的通知", number="湘长市监〔2025〕12号", issuer="长沙市市场监督管理局",
        issued_on=date(2025, 3, 1), recipient="各食品经营者",
        sections=[Section(heading="一、工作内容", paragraphs=[text] * paragraphs),
                  Section(heading="二、证照信息",
                          rows=[(f"字段{i}", f"长沙市岳麓区麓山路 {i} 号") for i in range(rows)])],
        verify_url=URL, seal_text="长沙市市场监督管理局", footer="本通知由通办平台生成")
    return replace(doc, **overrides)


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def tool(name: str, *args: str, check: bool = True) -> str:
    """Run a poppler/zbar command (by its full path) and return its standard output."""
    exe = shutil.which(name)
    assert exe, f"{name} not installed"
    return subprocess.run([exe, *args], check=check, capture_output=True, text=True).stdout  # noqa: S603


def text_of(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return tool("pdftotext", "-enc", "UTF-8", str(path), "-")


def test_a_notice_is_a_one_page_a4_pdf_with_an_embedded_cjk_subset():
    data = render(notice())
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert page_count(data) == 1
    assert b"/Font" in data and b"/FontFile2" in data  # TrueType embedded
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+WenQuanYi", data)  # a subset (six-letter tag)
    assert b"/MediaBox [0 0 595.28 841.89]" in data  # A4
    assert len(data) < 200_000


@needs_poppler
def test_chinese_text_url_page_numbers_and_metadata_come_out(tmp_path):
    data = render(notice())
    text = text_of(data, tmp_path)
    flat = re.sub(r"\s+", "", text)
    for expected in ("关于开展食品经营许可证换证工作的通知", "湘长市监〔2025〕12号", "各食品经营者：",
                     "一网通办", "长沙市岳麓区麓山路1号", "2025年3月1日", "第1页/共1页", "本通知由通办平台生成"):
        assert expected in flat, expected
    assert URL in flat
    info = tool("pdfinfo", "-enc", "UTF-8", str(tmp_path / "doc.pdf"))
    assert re.search(r"Title:\s+关于开展食品经营许可证换证工作的通知", info)
    assert re.search(r"Creator:\s+Tongban 通办", info)
    assert re.search(r"Pages:\s+1\n", info)


@needs_poppler
def test_long_text_and_long_tables_continue_on_more_pages(tmp_path):
    data = render(notice(paragraphs=20, rows=40))
    pages = page_count(data)
    assert pages >= 3
    flat = re.sub(r"\s+", "", text_of(data, tmp_path))
    assert f"第1页/共{pages}页" in flat and f"第{pages}页/共{pages}页" in flat
    assert "字段39" in flat and "长沙市岳麓区麓山路39号" in flat  # the last row made it
    assert flat.count("为贯彻落实") == 20


def test_the_qr_code_is_an_embedded_image():
    data = render(notice())
    assert b"/Subtype /Image" in data


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="poppler/zbar missing")
def test_the_qr_code_decodes_to_the_verify_url(tmp_path):
    (tmp_path / "doc.pdf").write_bytes(render(notice()))
    tool("pdftoppm", "-r", "150", "-png", str(tmp_path / "doc.pdf"), str(tmp_path / "page"))
    png = sorted(tmp_path.glob("page*.png"))[-1]
    decoded = tool("zbarimg", "-q", "--raw", str(png), check=False).strip()
    assert decoded == URL


def test_same_input_same_bytes_and_the_date_is_the_creation_date():
    first, second = render(notice()), render(notice())
    assert first == second
    assert b"D:20250301000000+08'00'" in first
    assert render(notice(issued_on=date(2025, 3, 2))) != first


def test_characters_outside_gb2312_use_the_full_face(tmp_path):
    # 堃 and 喆 are common in names but not in GB 2312: the cut-down face cannot draw them.
    assert pdf._face_for({ord("堃")}).charset is None
    assert pdf._face_for({ord("中")}).charset is not None
    data = render(notice(recipient="王堃、李喆"))
    if shutil.which("pdftotext"):
        assert "王堃、李喆" in text_of(data, tmp_path)


def test_bad_documents_name_the_field():
    with pytest.raises(InvalidInput) as exc:
        render(notice(title=" ", verify_url=""))
    assert {p.field for p in exc.value.problems} == {"title", "verify_url"}


def test_a_missing_font_names_the_debian_package(settings, monkeypatch):
    settings.TONGBAN_CJK_FONT = "/nonexistent/font.ttc"
    with pytest.raises(pdf.FontMissing, match="fonts-wqy-microhei"):
        render(notice())


# --- line breaking (pure) -----------------------------------------------------------------------------


def measure(s: str) -> float:
    return sum(1.0 if ord(c) > 0x2E7F else 0.5 for c in s)  # CJK 1 unit, Latin half


def test_wrap_breaks_chinese_between_any_characters():
    assert wrap("一二三四五六七八九十", 4, measure) == ["一二三四", "五六七八", "九十"]


def test_wrap_keeps_closing_punctuation_off_a_line_start_and_opening_off_a_line_end():
    lines = wrap("一二三四，五六七（八九）", 4, measure)
    assert not any(line[0] in pdf.NO_LINE_START for line in lines)
    assert not any(line[-1] in pdf.NO_LINE_END for line in lines)
    assert "".join(lines) == "一二三四，五六七（八九）"


def test_wrap_keeps_latin_runs_whole_and_splits_only_runs_longer_than_a_line():
    assert wrap("地址 https://a.cn 结束", 6, measure) == ["地址", "https://a.cn", "结束"]
    long = "x" * 30
    assert "".join(wrap(long, 6, measure)) == long and all(measure(line) <= 6 for line in wrap(long, 6, measure))


def test_wrap_first_line_indent_and_hard_breaks():
    assert wrap("一二三四五六", 4, measure, first_width=2) == ["一二", "三四五六"]
    assert wrap("一二\n三", 10, measure) == ["一二", "三"]
    assert wrap("", 10, measure) == [""]
