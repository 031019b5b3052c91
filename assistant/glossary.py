"""English and colloquial words read as the French the documents write (« deepfakes » -> « hypertrucages »).

People type « deepfake », « ransomware », « phishing »; the documents may
write only « hypertrucage », « rançongiciel », « hameçonnage ». The lexical side
cannot match a word the index does not hold, and e5-small does not carry
« deepfakes » to « hypertrucages »: « qu'est-ce que la veille a publié sur les
deepfakes ? » found an article on packages « publiés » on a registry. A word
of `data/glossary.tsv` the index does not know is read as its equivalent when
the index knows that one (rule `glossary`); a word the index knows is left as
typed (an index of English guides keeps « phishing »).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from . import rules

GLOSSARY = Path(__file__).resolve().parent / "data" / "glossary.tsv"


@dataclass(frozen=True)
class Glossary:
    """Terms (longest first, so « deep fakes » is read before « fakes ») and their equivalents."""

    entries: tuple[tuple[re.Pattern, str, str], ...]
    # A term's plural equivalent, where the glossary gives it (« pcs » -> « ordinateurs »): « nos vieux PC
    # portables » reads « nos vieux ordinateurs portables », the term being the same in both numbers.
    plurals: tuple[tuple[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path = GLOSSARY) -> "Glossary":
        rows = [(term, equivalent) for _, term, equivalent in pairs(path, "terme<TAB>équivalent")]
        rows.sort(key=lambda row: -len(row[0]))
        given = dict(rows)
        plurals = tuple((term, given[term + "s"]) for term, _ in rows if term + "s" in given)
        return cls(tuple((re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.I), term, equivalent)
                         for term, equivalent in rows), plurals)

    @cached_property
    def _plural_of(self) -> dict[str, str]:
        return dict(self.plurals)

    def read(self, question: str, knows: Callable[[str], bool]) -> str:
        """The question with each term `knows` rejects replaced by its equivalent `knows` accepts."""
        if not rules.on("glossary"):
            return question
        plurals = self._plural_of
        for pattern, term, equivalent in self.entries:
            if pattern.search(question) and not knows(term) and knows(equivalent):
                def agreed(match: re.Match, term=term, equivalent=equivalent) -> str:
                    before = question[:match.start()]
                    return plurals[term] if term in plurals and _PLURAL_BEFORE.search(before) else equivalent
                question = pattern.sub(agreed, question)
        return question


def pairs(path: Path, shape: str) -> list[tuple[int, str, str]]:
    """The (line number, left, right) of a data file of two tab-separated columns, comments (#) and blank lines
    left out; a line of another shape is an error naming the file, the line and the `shape` expected."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("\t")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"{path}, ligne {number} : attendu « {shape} », lu {line!r}")
        rows.append((number, parts[0], parts[1]))
    return rows


# A plural determiner right before a term, maybe with an adjective between (« nos vieux », « les deux »).
_PLURAL_BEFORE = re.compile(r"\b(?:les|des|nos|vos|mes|tes|ses|leurs|ces|plusieurs|quelques|\d+)\s+(?:\w+\s+)?$",
                            re.I)


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    """The shipped glossary, read once."""
    return Glossary.load()
