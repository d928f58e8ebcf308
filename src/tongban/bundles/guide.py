"""Smart guide (智能导办): find the bundle or item for a question in everyday Chinese.

Query and documents are segmented with jieba; words of a synonym group also count as the group's
canonical term; documents are ranked with BM25. Bundles rank before single items at equal relevance
because a life event is what people ask for ("我想开一家火锅店" -> 我要开饭馆).
The index is built from the database and rebuilt when bundles or items change (fingerprint check).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jieba

from tongban.catalog.models import Item

from .models import Bundle, BundleVersion

jieba.setLogLevel(logging.WARNING)
K1, B = 1.5, 0.75
STOPWORDS = set(["我", "想", "要", "你", "的", "了", "吗", "呢", "啊", "吧", "一", "一家", "一个", "个", "家", "怎么", "如何", "怎样", "需要", "哪些", "什么", "办理", "办", "去", "在", "和", "与", "及", "请问", "可以", "能", "是", "有", "做", "开", "新", "小"])
SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")


@dataclass(frozen=True)
class Hit:
    kind: str  # "bundle" | "item"
    code: str
    name: str
    score: float

    def as_dict(self) -> dict:
        return {"kind": self.kind, "code": self.code, "name": self.name, "score": round(self.score, 3)}


def _synonyms() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and not line.startswith("#"):
            for word in words:
                mapping.setdefault(word, words[0])
                jieba.add_word(word, freq=20000)
    return mapping


class GuideIndex:
    def __init__(self, docs: list[tuple[Hit, str, float]], synonyms: dict[str, str]):
        self.synonyms = synonyms
        self.docs = [(hit, Counter(self.terms(text)), boost) for hit, text, boost in docs]
        self.avg_len = sum(sum(c.values()) for _, c, _ in self.docs) / max(len(self.docs), 1)
        df: Counter = Counter()
        for _, counts, _ in self.docs:
            df.update(counts.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def terms(self, text: str) -> list[str]:
        out = []
        for word in jieba.lcut_for_search(text):
            word = word.strip()
            if not word or word in STOPWORDS or not any(ch.isalnum() for ch in word):
                continue
            out.append(word)
            canonical = self.synonyms.get(word)
            if canonical and canonical != word:
                out.append(canonical)
        return out

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        q_terms = set(self.terms(query))
        scored = []
        for hit, counts, boost in self.docs:
            length = sum(counts.values())
            score = 0.0
            for t in q_terms:
                f = counts.get(t, 0)
                if f:
                    score += self.idf[t] * f * (K1 + 1) / (f + K1 * (1 - B + B * length / self.avg_len))
            if score > 0:
                scored.append(Hit(hit.kind, hit.code, hit.name, score * boost))
        scored.sort(key=lambda h: (-h.score, h.kind, h.code))
        return scored[:limit]


_lock = threading.Lock()
_cache: dict[str, object] = {}


def _fingerprint() -> tuple:
    return (BundleVersion.objects.count(), Bundle.objects.order_by("-id").values_list("id", flat=True).first(),
            Item.objects.count())


def _build() -> GuideIndex:
    synonyms = _synonyms()
    docs: list[tuple[Hit, str, float]] = []
    for bundle in Bundle.objects.filter(versions__status=BundleVersion.Status.PUBLISHED).distinct():
        latest = bundle.versions.order_by("-version").first()
        item_codes = [bi["item"] for bi in latest.definition["items"]] if latest else []
        item_names = " ".join(Item.objects.filter(basic_code__in=item_codes).values_list("name", flat=True).distinct())
        text = " ".join([bundle.name] * 3 + list(bundle.keywords) * 2 + [bundle.description, item_names])
        docs.append((Hit("bundle", bundle.code, bundle.name, 0), text, 1.5))
    for basic_code, name in Item.objects.values_list("basic_code", "name").distinct().order_by("basic_code"):
        docs.append((Hit("item", basic_code, name, 0), name, 1.0))
    return GuideIndex(docs, synonyms)


def index() -> GuideIndex:
    fingerprint = _fingerprint()
    with _lock:
        if _cache.get("fingerprint") != fingerprint:
            _cache["index"] = _build()
            _cache["fingerprint"] = fingerprint
        return _cache["index"]  # type: ignore[return-value]


def search(query: str, limit: int = 10) -> list[Hit]:
    return index().search(query, limit)
