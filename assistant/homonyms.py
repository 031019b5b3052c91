"""Words of the documents in their everyday sense (« un pare-feu pour la cheminée »): out of the off-topic check.

The off-topic check (scope.py) reads how near a question is to the index and
to a background of general French, and which of the two its words belong to.
A word of the documents (« pare-feu », « virus », « charte », « bulletin »)
draws a question on a fireplace, the flu, a logo or a school report towards
the index, and it was answered with the firewall guide, the cyber charter or
the bulletin. `data/homonyms.tsv` lists such words with the words that give
their everyday sense away; when a question holds both, the check reads it
without the word (rule `homonyms`). The search and the answer read the
question as typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import rules
from .glossary import pairs
from .lexical import fold

HOMONYMS = Path(__file__).resolve().parent / "data" / "homonyms.tsv"


@dataclass(frozen=True)
class Homonyms:
    """(word, context) pairs of patterns over folded text."""

    entries: tuple[tuple[re.Pattern, re.Pattern], ...]

    @classmethod
    def load(cls, path: Path = HOMONYMS) -> "Homonyms":
        entries = []
        for number, word, context in pairs(path, "mot<TAB>contexte"):
            try:
                entries.append((re.compile(rf"(?<![\w-])(?:{word})(?![\w-])"),
                                re.compile(rf"(?<![\w-])(?:{context})(?![\w-])")))
            except re.error as err:
                raise ValueError(f"{path}, ligne {number} : expression invalide ({err})") from err
        return cls(tuple(entries))

    def everyday(self, question: str) -> str | None:
        """The question (folded) without the words it uses in their everyday sense, or None when it uses none."""
        if not rules.on("homonyms"):
            return None
        text = fold(question)
        found = False
        for word, context in self.entries:
            if word.search(text) and context.search(word.sub(" ", text)):
                text, found = word.sub(" ", text), True
        return " ".join(text.split()) if found else None


@lru_cache(maxsize=1)
def homonyms() -> Homonyms:
    return Homonyms.load()
