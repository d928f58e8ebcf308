"""Real small files for upload tests, made in the test run (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import zipfile

from tongban.cases.simulation import minimal_pdf

__all__ = ["minimal_pdf", "small_png", "small_jpeg", "ofd_package", "pdf_with"]


def small_png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="PNG")
    return out.getvalue()


def small_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 200, 30)).save(out, format="JPEG")
    return out.getvalue()


def ofd_package(*, root: str = "OFD", doc_root: str = "Doc_0/Document.xml", with_document: bool = True) -> bytes:
    """An OFD package (GB/T 33190) with OFD.xml pointing to its document."""
    ns = "http://www.ofdspec.org/2016"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:{root} xmlns:ofd="{ns}" Version="1.0" '
                                    f'DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>1</ofd:DocID></ofd:DocInfo>'
                                    f"<ofd:DocRoot>{doc_root}</ofd:DocRoot></ofd:DocBody></ofd:{root}>")
        if with_document:
            package.writestr("Doc_0/Document.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{ns}">'
                                                   "<ofd:CommonData><ofd:MaxUnitID>1</ofd:MaxUnitID></ofd:CommonData>"
                                                   "<ofd:Pages/></ofd:Document>")
    return out.getvalue()


def pdf_with(*, javascript: bool = False, launch: bool = False, embedded: bool = False) -> bytes:
    """A one-page PDF (pypdf) carrying the active content asked for."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if javascript:
        writer.add_open_action(DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                                 NameObject("/JS"): TextStringObject("app.alert('x');")}))
    if launch:
        writer.add_open_action(DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                                 NameObject("/F"): TextStringObject("calc.exe")}))
    if embedded:
        writer.add_attachment("payload.txt", b"hello")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
