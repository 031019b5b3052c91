"""Question -> Query: what a question says, read once and passed on.

The search, the checks and the answer used to re-read the question string:
`time_hints` and its callers six times, `fold` eleven, the asked value five
(an `lru_cache` hid part of the cost, not the tangle). A `Query` holds every
reading they need; it is built once per question (`Query.parse`) and every
later step takes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .asked import AskedValue, answer_shape, asked_value, asks_advice, places_named
from .dates import TimeHints, issue_topic_of, time_hints, time_words_of
from .lexical import analyze, fold


@dataclass(frozen=True)
class Query:
    """One question as every stage reads it."""

    text: str
    folded: str  # lower case, accents folded (lexical.fold)
    stems: tuple[str, ...]  # lexical.analyze, in order: what BM25 and the answer's word weights read
    hints: TimeHints  # the month, year, number or « le dernier » it names (dates.time_hints)
    time_words: frozenset[str]  # the stems that only say which issue (dates.time_words)
    # What a question about a named issue asks about: empty for the issue itself (« le dernier bulletin »), None
    # when it names no issue (dates.issue_topic).
    topic: frozenset[str] | None
    # The value it asks for (asked.asked_value), read with the rules on when it is parsed: its year is left
    # out when the rule « year » is off.
    asked: AskedValue | None
    shape: re.Pattern | None  # what a sentence that answers it holds (asked.answer_shape)
    places: tuple[str, ...]  # the regions and countries it names (asked.places_named)
    advice: bool  # it asks what to do (asked.asks_advice)

    @classmethod
    def parse(cls, text: str) -> "Query":
        """Read the question once."""
        asked, stems, hints, folded = asked_value(text), tuple(analyze(text)), time_hints(text), fold(text)
        return cls(text=text, folded=folded, stems=stems, hints=hints, time_words=time_words_of(hints),
                   topic=issue_topic_of(stems, hints), asked=asked, shape=answer_shape(text, asked),
                   places=tuple(places_named(text)), advice=asks_advice(folded))

    @classmethod
    def of(cls, question: "str | Query") -> "Query":
        """The question as a Query: parsed when given as text (the public entries accept both)."""
        return question if isinstance(question, Query) else cls.parse(question)


def text_of(question: "str | Query") -> str:
    """The question's text, whether given as text or as a Query (the dense side reads the text)."""
    return question.text if isinstance(question, Query) else question
