"""Printable Chinese documents (official notices, licences) as A4 PDF.

    from tongban.core.pdf import Document, Section, render
    pdf_bytes = render(Document(title="食品经营许可证", number="湘长市监〔2025〕12号", issuer="长沙市市场监督管理局",
                                issued_on=date(2025, 1, 1), verify_url="https://.../verify/licence/...",
                                sections=[Section(heading="照面信息", rows=[("经营者名称", "长沙饭馆有限公司")])]))

What a page holds: the title centred, the document number, the recipient (主送), sections (a heading,
paragraphs with a two-character first-line indent, a key/value table whose rows break across pages),
the issuer and the date in Chinese at the right with an optional red seal drawing, a QR code of
`verify_url` with the URL printed under it, the footer and "第 1 页 / 共 2 页" on every page.

Fonts: the CJK font is a TrueType collection (Debian fonts-wqy-microhei) that fpdf2 loads directly
(`collection_font_number`) and embeds as a subset. Loading the whole 34,000-glyph face costs ~0.2 s
a document, so at first use a face cut down to GB 2312 (+ Latin) is written to
`<VAR_DIR>/fonts/` and used whenever a document's characters are all in it (about three times
faster); a document with any other character (a rare name character, say) uses the full face.

Wrapping: Chinese has no spaces, so lines break between any two CJK characters; runs of Latin
letters and digits (URLs, numbers) stay whole unless longer than a line; closing punctuation never
starts a line and opening punctuation never ends one (避头尾).

Output is deterministic: the creation date is the document's `issued_on` (00:00 Asia/Shanghai) and
nothing else varies, so the same input gives the same bytes (and hash).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF
from fpdf.enums import TextMode

from .errors import InvalidInput, Problem

log = logging.getLogger("tongban.pdf")

DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT_PACKAGE = "fonts-wqy-microhei"
_SHANGHAI = ZoneInfo("Asia/Shanghai")
_CACHE_VERSION = 1  # bump when the cut-down face changes

# A4 in millimetres.
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 25.0, 22.0, 24.0
CONTENT_W = PAGE_W - 2 * MARGIN_X
BODY_PT, BODY_LH = 11.5, 7.0
TABLE_PT, TABLE_LH, CELL_PAD = 10.5, 6.0, 1.6
KEY_W = 44.0
QR_MM = 30.0
SEAL_R = 19.0
RED = (200, 16, 46)
GREY = (110, 110, 110)
PT_MM = 25.4 / 72


class FontMissing(RuntimeError):
    """The CJK font file is not installed."""


@dataclass
class Section:
    heading: str = ""
    paragraphs: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)  # a key/value table


@dataclass
class Document:
    title: str
    number: str
    issuer: str
    issued_on: date
    sections: list[Section]
    verify_url: str
    seal_text: str = ""
    recipient: str = ""
    footer: str = ""


# --- fonts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Face:
    path: str
    index: int
    charset: frozenset[int] | None  # None: the full face


_faces_lock = threading.Lock()
_faces: dict[tuple, tuple[_Face, _Face | None]] = {}


def font_source() -> tuple[str, int]:
    """The configured CJK font file and its face number in a collection (TONGBAN_CJK_FONT, TONGBAN_CJK_FONT_INDEX
    in settings or the environment)."""
    from django.conf import settings

    path = getattr(settings, "TONGBAN_CJK_FONT", None) or os.environ.get("TONGBAN_CJK_FONT") or DEFAULT_FONT
    index = getattr(settings, "TONGBAN_CJK_FONT_INDEX", None)
    if index is None:
        index = os.environ.get("TONGBAN_CJK_FONT_INDEX", "0")
    return str(path), int(index)


def _common_charset() -> set[int]:
    """ASCII, Latin-1 and the GB 2312 character set (6,763 hanzi and the common punctuation)."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(ord(bytes((hi, lo)).decode("gb2312")))
    return chars


def _cache_dir() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "fonts"


def _build_common_face(source: str, index: int, target: Path) -> frozenset[int]:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=index, recalcTimestamp=False)
    options = subset.Options()
    options.glyph_names = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.layout_features = ["*"]
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_common_charset())
    with _quiet("fontTools.subset"):
        subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            font.save(handle)
        os.replace(tmp, target)  # atomic: a concurrent builder writes the same bytes
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return frozenset(font.getBestCmap())


class _quiet:
    """Silence a chatty library logger (fontTools reports every table it drops) for a block."""

    def __init__(self, name: str):
        self.logger = logging.getLogger(name)

    def __enter__(self):
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)
        return False


def faces() -> tuple[_Face, _Face | None]:
    """(full face, cut-down common face or None), resolved once per process and font file."""
    path, index = font_source()
    try:
        stat = os.stat(path)
    except OSError:
        raise FontMissing(
            f"CJK font not found: {path}. Install the Debian package {FONT_PACKAGE} "
            f"(`apt-get install {FONT_PACKAGE}`, or `make setup`), or set TONGBAN_CJK_FONT to a TrueType "
            f"font with Chinese glyphs. / 未找到中文字体 {path}：请安装 Debian 软件包 {FONT_PACKAGE}。") from None
    key = (path, index, stat.st_size, stat.st_mtime_ns)
    with _faces_lock:
        if key in _faces:
            return _faces[key]
        full = _Face(path, index, None)
        digest = hashlib.sha256(repr((*key, _CACHE_VERSION)).encode()).hexdigest()[:16]
        target = _cache_dir() / f"cjk-common-{digest}.ttf"
        common: _Face | None = None
        try:
            if target.exists():
                from fontTools.ttLib import TTFont

                charset = frozenset(TTFont(str(target), lazy=True)["cmap"].getBestCmap())
            else:
                charset = _build_common_face(path, index, target)
                log.info("cut-down CJK face written", extra={"path": str(target)})
            common = _Face(str(target), 0, charset)
        except Exception:  # noqa: BLE001 - the full face always works; the cache is only an optimisation
            log.warning("cannot build the cut-down CJK face; using the full font", exc_info=True)
        _faces[key] = (full, common)
        return full, common


def _face_for(chars: set[int]) -> _Face:
    full, common = faces()
    if common is not None and common.charset is not None and chars <= common.charset:
        return common
    return full


# --- line breaking --------------------------------------------------------------------------------------

NO_LINE_START = frozenset("，。、；：？！）」』》〉】〕…—·”’%‰,.;:?!)]}>")
NO_LINE_END = frozenset("（「『《〈【〔“‘([{<")
_UNITS = re.compile(r"\n|[ \t]+|[A-Za-z0-9@#$&*+=/\\_.:;,!?%'\"()\[\]{}<>~^|-]+|.", re.S)


def wrap(text: str, width: float, measure: Callable[[str], float], *, first_width: float | None = None) -> list[str]:
    """Break `text` into lines no wider than `width` (the first line `first_width`), measuring with
    `measure`. Breaks between any two CJK characters, keeps Latin/digit runs whole unless longer
    than a line, honours "\\n", and keeps closing punctuation off a line's start (it may hang past
    the margin by one character) and opening punctuation off a line's end."""
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    limit = first_width if first_width is not None else width

    def flush() -> None:
        nonlocal current, used, limit
        lines.append("".join(current).rstrip())
        current, used, limit = [], 0.0, width

    units = _UNITS.findall(text)
    queue: list[str] = list(reversed(units))
    while queue:
        unit = queue.pop()
        if unit == "\n":
            flush()
            continue
        if unit.isspace() and not current:
            continue  # no leading blanks on a line
        w = measure(unit)
        if used + w <= limit + 1e-6:
            current.append(unit)
            used += w
            continue
        if unit in NO_LINE_START and current:
            current.append(unit)  # hanging punctuation
            used += w
            continue
        if len(unit) > 1 and not unit.isspace() and (not current or w > width):
            # a run longer than a whole line: split it character by character
            queue.extend(reversed(list(unit)))
            continue
        if unit.isspace():
            flush()
            continue
        carried: list[str] = []
        while current and current[-1] in NO_LINE_END and len(current) > 1:
            carried.insert(0, current.pop())
        if not current:
            current.append(unit)
            used += w
            continue
        flush()
        for c in carried:
            current.append(c)
            used += measure(c)
        queue.append(unit)
    if current or not lines:
        lines.append("".join(current).rstrip())
    return lines


# --- rendering ------------------------------------------------------------------------------------------


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("cjk", size=8)
        self.set_text_color(*GREY)
        if self.footer_text:
            self.cell(0, 4, self.footer_text, align="C", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0, 0, 0)


def _check(document: Document) -> None:
    problems = []
    if not document.title.strip():
        problems.append(Problem("title", "required", "标题必填", "title is required"))
    if not document.verify_url.strip():
        problems.append(Problem("verify_url", "required", "核验地址必填", "verify_url is required"))
    if not isinstance(document.issued_on, date):
        problems.append(Problem("issued_on", "date", "成文日期应为日期", "issued_on must be a date"))
    if problems:
        raise InvalidInput(problems)


def _all_text(document: Document) -> str:
    parts = [document.title, document.number, document.issuer, document.verify_url, document.seal_text,
             document.recipient, document.footer, _chinese_date(document.issued_on),
             "第页共/ 0123456789：，。编号"]
    for section in document.sections:
        parts.append(section.heading)
        parts.extend(section.paragraphs)
        for key, value in section.rows:
            parts.extend((key, value))
    return "".join(parts)


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class _Writer:
    def __init__(self, pdf: _Pdf):
        self.pdf = pdf
        self.bottom = PAGE_H - MARGIN_BOTTOM
        self._widths: dict[tuple[str, float], float] = {}

    def measure_at(self, size: float) -> Callable[[str], float]:
        def measure(s: str) -> float:
            key = (s, size)
            w = self._widths.get(key)
            if w is None:
                w = self._widths[key] = self.pdf.get_string_width(s)
            return w
        return measure

    def room(self) -> float:
        return self.bottom - self.pdf.get_y()

    def ensure(self, height: float) -> None:
        if self.room() < height:
            self.pdf.add_page()

    def lines(self, text: str, *, size: float, lh: float, align: str = "L", indent_chars: int = 0,
              x: float = MARGIN_X, width: float = CONTENT_W, bold: bool = False, color=(0, 0, 0)) -> None:
        pdf = self.pdf
        pdf.set_font("cjk", size=size)
        measure = self.measure_at(size)
        indent = indent_chars * measure("中")
        for i, line in enumerate(wrap(text, width, measure, first_width=width - indent)):
            self.ensure(lh)
            left = x + (indent if i == 0 else 0)
            pdf.set_xy(left, pdf.get_y())
            style = {"text_mode": TextMode.FILL_STROKE, "line_width": 0.15, "draw_color": color} if bold else {}
            with pdf.local_context(text_color=color, **style):
                pdf.cell(width - (left - x), lh, line, align=align, new_x="LMARGIN", new_y="NEXT")

    def table(self, rows: Sequence[tuple[str, str]]) -> None:
        pdf = self.pdf
        pdf.set_font("cjk", size=TABLE_PT)
        pdf.set_draw_color(150, 150, 150)
        pdf.set_line_width(0.2)
        measure = self.measure_at(TABLE_PT)
        value_w = CONTENT_W - KEY_W
        full_page = self.bottom - MARGIN_TOP
        for key, value in rows:
            keys = wrap(str(key), KEY_W - 2 * CELL_PAD, measure)
            values = wrap(str(value), value_w - 2 * CELL_PAD, measure)
            n = max(len(keys), len(values))
            height = n * TABLE_LH + 2 * CELL_PAD
            if self.room() < height and height <= full_page:
                pdf.add_page()  # keep a row whole when it fits on a page
            i = 0
            while i < n:
                fits = int((self.room() - 2 * CELL_PAD) // TABLE_LH)
                if fits < 1:
                    pdf.add_page()
                    continue
                take = min(fits, n - i)
                y = pdf.get_y()
                h = take * TABLE_LH + 2 * CELL_PAD
                pdf.set_fill_color(244, 244, 244)
                pdf.rect(MARGIN_X, y, KEY_W, h, style="DF")
                pdf.rect(MARGIN_X + KEY_W, y, value_w, h, style="D")
                for j in range(take):
                    line_y = y + CELL_PAD + j * TABLE_LH
                    if i + j < len(keys):
                        pdf.set_xy(MARGIN_X + CELL_PAD, line_y)
                        pdf.cell(KEY_W - 2 * CELL_PAD, TABLE_LH, keys[i + j])
                    if i + j < len(values):
                        pdf.set_xy(MARGIN_X + KEY_W + CELL_PAD, line_y)
                        pdf.cell(value_w - 2 * CELL_PAD, TABLE_LH, values[i + j])
                pdf.set_xy(MARGIN_X, y + h)
                i += take
        pdf.ln(3)

    def seal(self, text: str, cx: float, cy: float) -> None:
        pdf = self.pdf
        with pdf.local_context(blend_mode="Multiply", draw_color=RED, fill_color=RED, text_color=RED, line_width=0.9):
            self._seal(text, cx, cy)

    def _seal(self, text: str, cx: float, cy: float) -> None:
        pdf = self.pdf
        pdf.circle(cx, cy, SEAL_R, style="D")
        pdf.star(cx, cy, SEAL_R * 0.13, SEAL_R * 0.33, corners=5, style="F")
        chars = list(text)[:24]
        if chars:
            size = max(7.0, min(13.0, 230.0 / max(len(chars), 1) / 1.6))
            pdf.set_font("cjk", size=size)
            span = min(250.0, 22.0 * len(chars))  # degrees of arc the text covers
            radius = SEAL_R - size * PT_MM * 0.5 - 1.6
            for i, ch in enumerate(chars):
                angle = 90 + span / 2 - (span * (i + 0.5) / len(chars))
                rad = math.radians(angle)
                x, y = cx + radius * math.cos(rad), cy - radius * math.sin(rad)
                with pdf.rotation(angle - 90, x, y):
                    pdf.text(x - pdf.get_string_width(ch) / 2, y + size * PT_MM * 0.35, ch)


def _qr_png(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    return buffer


def render(document: Document) -> bytes:
    """The document as an A4 PDF (bytes). Same input, same bytes."""
    _check(document)
    face = _face_for({ord(c) for c in _all_text(document)})
    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    pdf.footer_text = document.footer
    with _quiet("fpdf.output"), _quiet("fontTools.subset"):
        pdf.add_font("cjk", "", face.path, collection_font_number=face.index)
    pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
    pdf.set_auto_page_break(False)  # the writer breaks pages itself (rows, headings, the closing block)
    pdf.alias_nb_pages()
    pdf.set_creation_date(datetime.combine(document.issued_on, time(0), tzinfo=_SHANGHAI))
    pdf.set_title(document.title)
    pdf.set_author(document.issuer)
    pdf.set_subject(document.number)
    pdf.set_creator("Tongban 通办")
    pdf.set_lang("zh-CN")
    pdf.add_page()
    w = _Writer(pdf)

    w.lines(document.title, size=20, lh=11, align="C", bold=True)
    if document.number:
        w.lines(document.number, size=10, lh=6.5, align="C", color=GREY)
    pdf.ln(1.5)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN_X, pdf.get_y(), PAGE_W - MARGIN_X, pdf.get_y())
    pdf.ln(5)
    if document.recipient:
        w.lines(f"{document.recipient}：", size=BODY_PT, lh=BODY_LH)
    for section in document.sections:
        if section.heading:
            w.ensure(BODY_LH + 2 + TABLE_LH + 2 * CELL_PAD)  # no heading alone at a page's foot
            pdf.ln(1)
            w.lines(section.heading, size=13, lh=8, bold=True)
        for paragraph in section.paragraphs:
            w.lines(paragraph, size=BODY_PT, lh=BODY_LH, indent_chars=2)
            pdf.ln(1)
        if section.rows:
            w.table(section.rows)

    # Closing block: QR code and its URL on the left; issuer, date and seal on the right.
    pdf.set_font("cjk", size=7)
    url_lines = wrap(document.verify_url, 78, w.measure_at(7))
    block = max(QR_MM + 3 + 3.5 * len(url_lines), 2 * SEAL_R + 4)
    pdf.ln(4)
    w.ensure(block)
    top = pdf.get_y()
    pdf.image(_qr_png(document.verify_url), x=MARGIN_X, y=top, w=QR_MM, h=QR_MM,
              alt_text="核验二维码 / verification QR code")
    pdf.set_y(top + QR_MM + 1)
    pdf.set_text_color(*GREY)
    for line in url_lines:
        pdf.set_x(MARGIN_X)
        pdf.cell(80, 3.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    right_x = PAGE_W - MARGIN_X - 70
    # GB/T 9704: the issuer above the date, the seal centred on them and pressing down on the date.
    date_y = top + SEAL_R + 6
    pdf.set_xy(right_x, date_y - BODY_LH)
    pdf.set_font("cjk", size=BODY_PT)
    pdf.cell(70, BODY_LH, document.issuer, align="C", new_x="LEFT", new_y="NEXT")
    pdf.cell(70, BODY_LH, _chinese_date(document.issued_on), align="C")
    if document.seal_text:
        w.seal(document.seal_text, right_x + 35, top + SEAL_R)
    with _quiet("fontTools.subset"):
        return bytes(pdf.output())
