"""Why a smart-guide hit matched a question: the query words found in the hit's text.

The guide (tongban.bundles.guide) ranks with BM25 over jieba words plus synonym groups; this module
only reads the same index to say which words of the question made a hit match, and through which
synonym ("火锅店" -> 饭馆). Pure reads, no database access beyond the guide's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongban.bundles import guide


@dataclass(frozen=True)
class Match:
    word: str  # as typed (segmented)
    via: str = ""  # the synonym group's term that matched, when the word itself did not


def explain(index: guide.GuideIndex, query: str, hits: list[guide.Hit]) -> dict[tuple[str, str], list[Match]]:
    """(kind, code) -> the matched words of `query`, in the order typed (`index` = guide.index())."""
    wanted = {(h.kind, h.code) for h in hits}
    counts_of = {(hit.kind, hit.code): counts for hit, counts, _ in index.docs if (hit.kind, hit.code) in wanted}
    words: list[str] = []
    for word in index.terms(query):
        if word in query and word not in words:  # typed words, not the synonym terms added for them
            words.append(word)
    out: dict[tuple[str, str], list[Match]] = {}
    for key, counts in counts_of.items():
        matches = []
        for word in words:
            canonical = index.synonyms.get(word, word)
            if counts.get(word):
                matches.append(Match(word))
            elif canonical != word and counts.get(canonical):
                matches.append(Match(word, canonical))
        out[key] = matches
    return out

