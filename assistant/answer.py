"""Hits -> Answer: the sentences that answer, with [n] marks, or an honest « not found »."""
from __future__ import annotations

import re

from .schema import Answer, Hit

NOT_FOUND = ("Je n'ai pas trouvé de réponse à cette question dans les documents du programme "
             "d'intelligence économique de la Région Normandie.")

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"(]?[A-ZÀÂÉÈÊÎÔÛÇ0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, cut at sentence ends (not at abbreviations like « M. » or « art. »)."""
    parts = []
    for block in text.split("\n"):
        parts.extend(s.strip() for s in _SENTENCE_END.split(block) if s.strip())
    return parts


def compose_answer(question: str, hits: list[Hit], max_sentences: int = 2) -> Answer:
    """The first sentences of the best passage, marked [1]; abstains when there is no hit."""
    if not hits:
        return Answer(question=question, text=NOT_FOUND, abstained=True, hits=())
    sentences = split_sentences(hits[0].passage.text)[:max_sentences]
    text = " ".join(sentences) + " [1]"
    return Answer(question=question, text=text, abstained=False, hits=tuple(hits))
