"""Plain English advice while officers write (GOV.UK style: reading age about 9): a
reading-age estimate, long sentences, passive voice and SEND jargon from a data file
(publisher/data/send_jargon.txt). Advice only: nothing is ever refused because of it.

The reading age is the Flesch-Kincaid grade plus 5 (a grade is a school year in the US,
starting at age 5-6), with syllables counted by a simple vowel-group rule: a rough guide,
as any formula is, not a measure of how clear the words are.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JARGON_FILE = Path(__file__).resolve().parent / "data" / "send_jargon.txt"
TARGET_AGE = 9
LONG_SENTENCE = 25
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*•]\s+")
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_URL = re.compile(r"https?://\S+|\[([^\]]*)\]\([^)]*\)")
_IRREGULAR = (
    "given|taken|made|done|seen|known|shown|written|sent|held|paid|told|found|kept|left|"
    "brought|bought|built|chosen|run|put|set|met|heard|led|read|won|cut|shut|spent|begun"
)
_PASSIVE = re.compile(
    rf"\b(am|is|are|was|were|be|been|being|get|gets|got)\s+(\w+ly\s+)?(\w+ed|{_IRREGULAR})\b",
    re.I,
)


@dataclass(frozen=True)
class Advice:
    reading_age: int | None
    words: int
    long_sentences: list[str] = field(default_factory=list)
    passive: list[str] = field(default_factory=list)
    jargon: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            (self.reading_age is None or self.reading_age <= TARGET_AGE + 2)
            and not self.long_sentences
            and not self.passive
            and not self.jargon
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "reading_age": self.reading_age,
            "words": self.words,
            "long_sentences": self.long_sentences,
            "passive": self.passive,
            "jargon": [{"word": w, "instead": i} for w, i in self.jargon],
        }


@functools.cache
def jargon_list(path: Path = JARGON_FILE) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "|" not in line:
            continue
        word, instead = (part.strip() for part in line.split("|", 1))
        # Acronyms match in capitals only ("LA", not "la"); other words in any case.
        flags = 0 if word.isupper() else re.I
        out.append((re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", flags), word, instead))
    return tuple(out)


def syllables(word: str) -> int:
    word = word.lower().strip("'’-")
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def advise(text: str) -> Advice:
    text = _URL.sub(lambda m: m.group(1) or "", text or "")
    text = re.sub(r"<[^>]{0,500}>", " ", text)
    sentences = [s.strip() for s in _SENTENCES.split(text) if _WORDS.search(s or "")]
    words = _WORDS.findall(text)
    reading_age = None
    if words and sentences:
        per_sentence = len(words) / len(sentences)
        per_word = sum(syllables(w) for w in words) / len(words)
        grade = 0.39 * per_sentence + 11.8 * per_word - 15.59
        reading_age = max(5, round(grade + 5))
    long_ones = [s for s in sentences if len(_WORDS.findall(s)) > LONG_SENTENCE]
    passive = sorted({m.group(0) for m in _PASSIVE.finditer(text)})
    jargon = [(word, instead) for pattern, word, instead in jargon_list() if pattern.search(text)]
    return Advice(reading_age, len(words), long_ones[:5], passive[:10], jargon)
