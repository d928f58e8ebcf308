"""Machine text that must not reach people (issue 14, finding 6): rule expressions, catalogue keys, step
keys, ledger kinds, field paths, validator tags, ISO timestamps. `machine_text(html)` returns the visible
text fragments of a page that match one of the patterns (empty when the page speaks plainly); the
browser tests use the same patterns on `document.body.innerText`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

FORBIDDEN = {
    "rule text": r"condition not met|\b[a-z]+(?:_[a-z]+)+\s*(?:>=|<=|==|!=|<|>)\s*\S|\[[a-z_]+ *(?:==|>=|<=|!=|<|>)|\b(?:True|False)\b",
    "bracketed key": r"\((?:[a-z]+[-_])+[a-z]+(?:…|\.\.\.)?\)|\(legal_entities",
    "field path": r"(?<![\w-])(?:materials|form|answers|decision)\.[a-z][a-z_-]+(?:\.[a-z_-]+)*(?![\w.])",
    "validator tag": r"\[(?:gb|GB)\d+\]",
    "ISO timestamp": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d{3,6}",
    "ledger kind": r"\b(?:start|pause|resume|extend|stop|finish)\s*·\s*[a-z]+|^(?:start|pause|resume|extend)$",
    "step key": r"^(?:accept|review|decide|issue|deliver|approve)$",
}
PATTERN = re.compile("|".join(f"(?:{p})" for p in FORBIDDEN.values()), re.MULTILINE)


class _Text(HTMLParser):
    SKIP = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        elif tag in {"br", "li", "p", "td", "th", "div", "tr", "h1", "h2", "h3", "h4", "dd", "dt", "option", "span"}:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(line.strip() for line in "".join(parser.parts).splitlines() if line.strip())


def machine_text(html: str) -> list[str]:
    """The lines of the page's visible text that contain machine text (empty: none)."""
    return [line for line in visible_text(html).splitlines() if PATTERN.search(line)]
