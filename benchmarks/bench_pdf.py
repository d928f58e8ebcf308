"""PDF rendering: pages per second for a one-page Chinese notice, against fpdf2 rendering the same
layout's text with a core Latin font (no font embedding) in the same run.

    cd /work/main && .venv/bin/python -m benchmarks bench_pdf

Cases:
- baseline (fpdf2, core Helvetica): the same number of lines of ASCII text through multi_cell, no
  TrueType font at all: what fpdf2 costs without a CJK font;
- fpdf2 + full TTC face: the same Chinese text through multi_cell with the whole WenQuanYi face
  loaded from the collection (what using the .ttc directly costs);
- render(): `tongban.core.pdf.render` of a one-page notice (title, number, recipient, a paragraph,
  a 6-row table, QR code, seal), using the cut-down GB 2312 face from the var dir;
- render() with a non-GB 2312 character: the same notice forced onto the full face.
Each case is measured in ROUNDS interleaved rounds and its best median kept (the machine is shared).
"""

from __future__ import annotations

from datetime import date

from benchmarks.harness import Result, measure, report, setup_django

ROUNDS = 3
RUNS = 15

TEXT = ("为贯彻落实《国务院关于加快推进政务服务“一网通办”的指导意见》，进一步优化营商环境，"
        "现就食品经营许可证换证工作通知如下。请于2025年6月30日前，通过通办平台办理。")


def _notice(recipient: str = "各食品经营者"):
    from tongban.core.pdf import Document, Section

    return Document(
        title="关于开展食品经营许可证换证工作的通知", number="湘长市监〔2025〕12号", issuer="长沙市市场监督管理局",
        issued_on=date(2025, 3, 1), recipient=recipient,
        sections=[Section(heading="一、工作内容", paragraphs=[TEXT, TEXT]),
                  Section(heading="二、证照信息", rows=[(f"字段{i}", f"长沙市岳麓区麓山路 {i} 号") for i in range(6)])],
        verify_url="https://tongban.example.gov.cn/verify/licence/1.2.156.3005.2.11100000000000900X001."
                   "11430100000001000X.00000001.001.K",
        seal_text="长沙市市场监督管理局", footer="本通知由通办平台生成")


def main() -> None:
    setup_django()
    from fpdf import FPDF

    from tongban.core import pdf

    full, common = pdf.faces()
    assert common is not None, "the cut-down face could not be built"
    latin = ("To implement the guidance on one-stop online government services and improve the business "
             "environment, food business licences are to be renewed as follows. ") * 2

    def baseline() -> bytes:
        doc = FPDF(unit="mm", format="A4")
        doc.add_page()
        doc.set_font("helvetica", size=11)
        doc.multi_cell(0, 7, latin)
        for i in range(6):
            doc.cell(44, 8, f"Field {i}", border=1)
            doc.cell(116, 8, f"No. {i} Lushan Road, Yuelu District", border=1, new_x="LMARGIN", new_y="NEXT")
        return bytes(doc.output())

    def fpdf_full_face() -> bytes:
        with pdf._quiet("fontTools.subset"):
            return _fpdf_full_face()

    def _fpdf_full_face() -> bytes:
        doc = FPDF(unit="mm", format="A4")
        doc.add_font("cjk", "", full.path, collection_font_number=full.index)
        doc.add_page()
        doc.set_font("cjk", size=11)
        doc.multi_cell(0, 7, TEXT * 2)
        for i in range(6):
            doc.cell(44, 8, f"字段{i}", border=1)
            doc.cell(116, 8, f"长沙市岳麓区麓山路 {i} 号", border=1, new_x="LMARGIN", new_y="NEXT")
        return bytes(doc.output())

    notice, rare = _notice(), _notice("王堃")

    cases = {
        "baseline: fpdf2 core Helvetica, same text": baseline,
        "fpdf2 + full TTC face (multi_cell)": fpdf_full_face,
        "render() notice, cut-down GB 2312 face": lambda: pdf.render(notice),
        "render() notice, full face (rare character)": lambda: pdf.render(rare),
    }
    best: dict[str, Result] = {}
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            result = measure(name, fn, runs=RUNS, warmup=2)
            if name not in best or result.median_s < best[name].median_s:
                best[name] = result
    report("PDF rendering (one A4 page; per s = pages per second)", list(best.values()),
           baseline="baseline: fpdf2 core Helvetica, same text")
    size = len(pdf.render(notice))
    print(f"\nnotice size: {size:,} bytes (CJK subset embedded); full-face notice: {len(pdf.render(rare)):,} bytes")


if __name__ == "__main__":
    main()
