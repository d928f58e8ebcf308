"""What an uploaded material file really is, checked by its structure, not by its name or first bytes.

- PDF: parses (pypdf), has at least one page, and carries no JavaScript, launch actions or embedded
  files unless `TONGBAN_PDF_ALLOW_ACTIVE_CONTENT` is set; an encrypted PDF must open without a password.
- OFD (GB/T 33190): a ZIP package whose OFD.xml has the OFD root element, and whose DocBody/DocRoot
  points to a Document.xml in the package with the Document root element.
- JPEG / PNG: decodes completely (Pillow), and is what its first bytes say.
- Size: at most `TONGBAN_MAX_UPLOAD_MB` (settings), one limit for the API, the portal and window scans.

`inspect(content, field)` returns the content type or raises InvalidInput naming the field and the rule,
in Chinese and English.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from xml.etree import ElementTree

from django.conf import settings

from tongban.core.errors import InvalidInput, Problem

MAGIC = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"PK\x03\x04": "application/ofd",  # OFD is a ZIP container; checked further below
}
ACCEPTED = "PDF、JPEG、PNG 或 OFD"
_PDF_OBJECT_BUDGET = 200_000  # objects walked looking for active content; beyond it the file is refused
_OFD_XML_LIMIT = 2 * 1024 * 1024  # bytes of OFD.xml / Document.xml read
_OFD_NAMESPACE = "http://www.ofdspec.org/2016"


def max_upload_bytes() -> int:
    return int(getattr(settings, "TONGBAN_MAX_UPLOAD_MB", 20)) * 1024 * 1024


def sniff(head: bytes) -> str | None:
    for magic, content_type in MAGIC.items():
        if head.startswith(magic):
            return content_type
    return None


def inspect(content: bytes, field: str = "file") -> str:
    """The content type of a well-formed upload, or InvalidInput naming `field` and the rule."""
    def refuse(rule: str, zh: str, en: str):
        raise InvalidInput(Problem(field, rule, zh, en))

    if not content:
        refuse("file.empty", "文件为空", "the file is empty")
    limit = max_upload_bytes()
    if len(content) > limit:
        refuse("file.size", f"文件不能超过 {limit // 1048576} MB", f"the file exceeds {limit // 1048576} MB")
    content_type = sniff(content[:16])
    if content_type is None:
        refuse("file.type", f"只接受 {ACCEPTED} 文件", "only PDF, JPEG, PNG or OFD files are accepted")
    problem = {"application/pdf": _pdf_problem, "application/ofd": _ofd_problem}.get(content_type, _image_problem)(
        content, content_type)
    if problem:
        refuse(*problem)
    return content_type


def _pdf_problem(content: bytes, _type: str) -> tuple[str, str, str] | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    broken = ("file.pdf.structure", "文件不是结构完整的 PDF（无法解析或没有页面）",
              "the file is not a well-formed PDF (it does not parse or has no pages)")
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return ("file.pdf.encrypted", "PDF 文件设有打开密码，请上传未加密的文件",
                    "the PDF needs a password to open; upload it without encryption")
        if len(reader.pages) < 1:
            return broken
        found = _active_content(reader)
    except _TooComplex:
        return ("file.pdf.complex", "PDF 文件结构过于复杂，无法检查", "the PDF is too complex to be checked")
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, OSError,
            AssertionError, ZeroDivisionError):
        return broken
    if found and not getattr(settings, "TONGBAN_PDF_ALLOW_ACTIVE_CONTENT", False):
        kinds = "、".join(sorted(found))
        return ("file.pdf.active_content", f"PDF 文件含有脚本、启动动作或嵌入文件（{kinds}），出于安全原因不予接受",
                f"the PDF contains JavaScript, launch actions or embedded files ({', '.join(sorted(found))}); "
                "it is refused for safety")
    return None


class _TooComplex(Exception):
    pass


def _active_content(reader) -> set[str]:
    """Walk every object reachable from the trailer: JavaScript, launch actions, embedded files."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    walked = 0
    while stack:
        node = stack.pop()
        walked += 1
        if walked > _PDF_OBJECT_BUDGET:
            raise _TooComplex
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            for key, value in dict.items(node):
                if key in ("/JS", "/JavaScript") or (key == "/S" and value == "/JavaScript"):
                    found.add("javascript")
                elif key == "/S" and value == "/Launch" or key == "/Launch":
                    found.add("launch")
                elif key in ("/EmbeddedFiles", "/EF", "/RichMedia") or (key == "/Type" and value == "/EmbeddedFile"):
                    found.add("embedded-file")
                if key not in ("/Parent", "/P"):  # back references lead to where the walk came from
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(list.__iter__(node))
    return found


def _ofd_problem(content: bytes, _type: str) -> tuple[str, str, str] | None:
    not_ofd = ("file.ofd.structure", "文件不是有效的 OFD 版式文件（GB/T 33190：缺少 OFD.xml、文档根节点或文档）",
               "the file is not a valid OFD document (GB/T 33190: OFD.xml, its OFD root element or the document is missing)")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            root = _xml(package, "OFD.xml")
            if root is None or _local(root.tag) != "OFD" or _namespace(root.tag) not in ("", _OFD_NAMESPACE):
                return not_ofd
            doc_root = next((el.text or "" for el in root.iter() if _local(el.tag) == "DocRoot"), "").strip()
            if not doc_root:
                return not_ofd
            document = _xml(package, posixpath.normpath(doc_root.lstrip("/")))
            if document is None or _local(document.tag) != "Document":
                return not_ofd
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError, ValueError, OSError, EOFError,
            NotImplementedError, RuntimeError):
        return not_ofd
    return None


def _xml(package: zipfile.ZipFile, name: str):
    try:
        info = package.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _OFD_XML_LIMIT:
        return None
    with package.open(info) as handle:
        data = handle.read(_OFD_XML_LIMIT + 1)
    if len(data) > _OFD_XML_LIMIT or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None  # no DTDs or entities: an OFD file has none, and they are how XML bombs work
    return ElementTree.fromstring(data)  # noqa: S314 - no DTD or entity gets here (checked above)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _image_problem(content: bytes, content_type: str) -> tuple[str, str, str] | None:
    from PIL import Image

    expected = {"image/jpeg": "JPEG", "image/png": "PNG"}[content_type]
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
        with Image.open(io.BytesIO(content)) as image:
            if image.format != expected:
                raise ValueError(image.format)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return ("file.image.size", "图片像素过多，无法处理", "the image has too many pixels")
    except (OSError, ValueError, SyntaxError, EOFError, TypeError):
        return ("file.image.structure", f"文件不是可以解码的 {expected} 图片", f"the file is not a {expected} image that decodes")
    return None
