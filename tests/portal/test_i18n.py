"""The English catalogue: complete for the portal's strings, and the committed .mo matches the .po."""

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
ENTRY = re.compile(r'^(?:msgctxt ((?:".*"\n)+))?msgid ((?:".*"\n)+)(?:msgid_plural ((?:".*"\n)+))?'
                   r'((?:msgstr(?:\[\d\])? (?:".*"\n)+)+)', re.M)


def _text(block: str) -> str:
    return "".join(ast.literal_eval(part) for part in re.findall(r'("(?:[^"\\]|\\.)*")', block))


def _entries() -> dict:
    entries = {}
    for m in ENTRY.finditer(PO.read_text(encoding="utf-8")):
        msgid = _text(m.group(2))
        if not msgid or "#, fuzzy" in m.group(0):
            continue
        if m.group(1):  # a msgctxt: the catalogue's key is "context\x04msgid" (what pgettext looks up)
            msgid = _text(m.group(1)) + "\x04" + msgid
        strs = [_text(s) for s in re.findall(r'msgstr(?:\[\d\])? ((?:".*"\n)+)', m.group(4))]
        entries[msgid] = (_text(m.group(3)) if m.group(3) else None, strs)
    return entries


def test_every_portal_string_has_an_english_translation():
    entries = _entries()
    assert len(entries) > 100
    missing = [msgid for msgid, (_plural, strs) in entries.items() if not all(strs)]
    assert missing == []


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for msgid, (plural, strs) in _entries().items():
        if plural is None:
            assert compiled.gettext(msgid) == strs[0], f"run `make messages`: {msgid!r} differs in the .mo"
        else:
            assert compiled.ngettext(msgid, plural, 1) == strs[0]
            assert compiled.ngettext(msgid, plural, 2) == strs[1]
