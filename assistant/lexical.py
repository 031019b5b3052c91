"""French lexical retrieval: an analyzer (elisions, stop words, Snowball stems,
accents folded) and a BM25 index (bm25s) saved as plain files beside the vectors.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_FRENCH

    words = set(STOPWORDS_FRENCH) | {"quel", "quelle", "quels", "quelles", "comment", "est-ce", "faut", "peut"}
    return frozenset(fold(w) for w in words)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


def fold(text: str) -> str:
    """Lower case without accents, œ/æ spelled out."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def _fold_word(word: str) -> str:
    # Words repeat across passages and answers: folding each distinct word once is most of analyze's speed.
    return fold(word)


def analyze(text: str) -> list[str]:
    """French tokens for BM25: elisions cut, stop words dropped, stems with accents folded.

    Accents are folded before stemming: questions are often typed without
    accents, and « securite » must stem like « sécurité ».
    """
    text = _ELISION.sub(" ", text.lower().replace("’", "'"))
    stops = _stopwords()
    kept = [w for w in (_fold_word(w) for w in _WORD.findall(text)) if w not in stops and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(kept) if kept else []


class LexicalIndex:
    """BM25 over analyzed passages; row i is passage i."""

    FOLDER = "lexical"

    def __init__(self, model):
        self.model = model

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        """Index the given texts (already including titles and headings)."""
        import bm25s

        # k1 and b measured on PIAF and Service-Public (eval/results.md): shorter-passage friendly.
        model = bm25s.BM25(k1=0.9, b=0.4)
        tokens = [analyze(t) or [""] for t in texts]
        model.index(tokens, show_progress=False)
        return cls(model)

    @property
    def size(self) -> int:
        return int(self.model.scores["num_docs"])

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of analyzed tokens (unknown tokens weigh as the rarest)."""
        if not hasattr(self, "_df"):
            self._df = np.diff(np.asarray(self.model.scores["indptr"]))
        n = self.size
        out = {}
        for token in tokens:
            token_id = self.model.vocab_dict.get(token)
            df = int(self._df[token_id]) if token_id is not None and token_id < len(self._df) else 0
            out[token] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage for the question (zeros when no word is known)."""
        tokens = [t for t in analyze(question) if t in self.model.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Plain .npy and .json files under folder/lexical."""
        self.model.save(str(folder / self.FOLDER), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        """Load what save() wrote."""
        import bm25s

        return cls(bm25s.BM25.load(str(folder / cls.FOLDER), show_progress=False, verbosity=0))
