"""Is a question about the indexed documents at all? Decided against a shipped background of general French.

An absolute similarity threshold says more about how a question is worded
and which corpus is indexed than about whether the documents treat it: e5
gives 0.82-0.90 to almost any French question against almost any French
passage. So the question is compared with the index and, at once, with
`data/background.jsonl`: 2,436 short statements on about 330 everyday,
encyclopedic and business-administration topics (cooking, sport, weather,
health, family procedures, history, astrology, homework…; accounting, VAT,
payroll, labour law, legal forms, leases, loans…) written for this project,
avoiding what the programme's documents are about: a business owner's
question on payroll or VAT is as much outside them as one on the weather. A question nearer that background than the
index, in words the index hardly knows, is off topic (`Scope`).

Nearer is measured on each side from what is typical there: how far the best
passage stands above the question's mean similarity to the index, against how
far the best statement stands above its mean similarity to the background.
Every text of an encyclopedic index (PIAF) is nearer any question than the
programme's documents are, and so is every statement of the background; the
raw best similarities called 13 PIAF questions of 1,863 off topic on their own
index (« Qui gagne la course Paris-Roubaix ? », whose background statement on
the race scored 0.876 against 0.834 for its passage), the centred ones 5, for
one off-topic dev question fewer caught (eval/attempts.md).

The background holds statements only, in written French: informal chat-style
questions in it drew business owners' informal questions by their register
rather than their topic (blind dev half: 10 of 16 off-topic questions caught
at no answerable one, against 13 of 16 with statements only).

The background's vectors are computed once per model and kept in the cache
folder, keyed by the background's content and the model's name.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import Settings
from .embed import Embedder
from .homonyms import homonyms
from .lexical import analyze
from .query import Query

BACKGROUND = Path(__file__).resolve().parent / "data" / "background.jsonl"


def background_texts(path: Path = BACKGROUND) -> list[str]:
    """The background passages, in file order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["text"] for row in rows]


@lru_cache(maxsize=2)
def general_words(path: Path = BACKGROUND) -> frozenset[str]:
    """The words the background writes without accents (« pense », « marche »): words of general French as they
    are, which the accents rule leaves as typed (lexical.Accents)."""
    return frozenset(word for text in background_texts(path) for word in re.findall(r"\w+", text.lower())
                     if word.isascii())


@dataclass
class Background:
    """The background's vectors for one embedder, loaded or computed on first use."""

    embedder: Embedder
    cache_dir: Path
    path: Path = BACKGROUND

    def __post_init__(self):
        self._vectors: np.ndarray | None = None
        self._frequencies: tuple[dict[str, int], int] | None = None
        self._lock = threading.Lock()

    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = self._load()
        return self._vectors

    def _load(self) -> np.ndarray:
        texts = background_texts(self.path)
        digest = hashlib.sha256(("\x1e".join(texts) + self.embedder.name).encode()).hexdigest()[:16]
        cache = Path(self.cache_dir) / "background" / f"{self.embedder.name}-{digest}.npy"
        if cache.exists():
            vectors = np.load(cache)
            if vectors.shape[0] == len(texts):
                return np.ascontiguousarray(vectors, dtype=np.float32)
        vectors = np.ascontiguousarray(self.embedder.embed_passages(texts), dtype=np.float32)
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".tmp.npy")
        np.save(partial, vectors)
        partial.replace(cache)
        return vectors

    def document_frequencies(self) -> tuple[dict[str, int], int]:
        """How many background passages hold each analyzed word, and how many passages there are."""
        if self._frequencies is None:
            texts = background_texts(self.path)
            self._frequencies = (dict(Counter(t for text in texts for t in set(analyze(text)))), len(texts))
        return self._frequencies

    def above_typical(self, query: np.ndarray) -> float:
        """How far the question's highest similarity to a background passage stands above its mean one."""
        vectors = self.vectors()
        if vectors.size == 0:
            return 0.0
        similarities = vectors @ np.asarray(query, dtype=np.float32).ravel()
        return float(similarities.max() - similarities.mean())


# Off topic when (index best - index mean) - (background best - background mean) of the question's similarities
# + KNOWN × (share of the question's words the index knows) + ODDS × (mean log-odds of the question's words, index
# against background, counts smoothed by SMOOTHING) < THRESHOLD, per model (None: no check). Learnt by `assistant
# eval` on the dev halves of the blind set and of the local set (eval/results.md, « Réglages appris »), never on a
# test half.
SCOPES: dict[str, tuple[float, float, float, float] | None] = {"e5-small": (0.0, 0.03, -0.0111, 5.0),
                                                        "use-multilingual": None, "hash": None}


def log_odds(terms: list[str], index_frequency, index_size: int, background: tuple[dict[str, int], int],
             smoothing: float = 0.5) -> float:
    """Mean over the question's words (met in either) of log(share of index passages holding the word / share of
    background passages holding it): above 0 for the index's own words (« veille », « sauvegarde »), below for
    everyday ones (« frein », « netflix »). Each count gets `smoothing` background passages' worth more (the same
    share of the index's passages on the index side), so that a word seen a few times in one and never in the
    other (a town of the region) does not outweigh the rest, and so that an index of 200 passages and one of
    20,000 read the same words alike (a fixed count would weigh ten times more in the small one)."""
    frequencies, size = background
    prior = smoothing / max(size, 1)
    odds = []
    for term in dict.fromkeys(terms):
        in_index, in_background = index_frequency(term), frequencies.get(term, 0)
        if in_index or in_background:
            odds.append(math.log((in_index + prior * index_size) / (index_size * (1 + 2 * prior)))
                        - math.log((in_background + smoothing) / (size + 2 * smoothing)))
    return sum(odds) / len(odds) if odds else 0.0


@dataclass
class Scope:
    """Off topic: nearer the background of general French than the index, in words that are the background's.

    Three signals, each relative to the index at hand:
    - how much nearer the question is to its best passage than to the best
      background passage (e5 cosine), each taken from the question's mean
      similarity on its side;
    - how many of its words (stems, typos corrected) the index has at all;
    - how typical its words are of the index rather than of the background
      (mean log-odds of their document frequencies).
    « il va pleuvoir à Deauville ? » is nearer the background's weather, in
    words the background uses; an informal question on a trip abroad may be
    nearer the background's travel tips, but its words (ordinateur, salon,
    wifi) are the index's.
    """

    background: Background
    known_weight: float = 0.0
    odds_weight: float = 0.0
    threshold: float | None = None
    smoothing: float = 0.5

    @classmethod
    def for_model(cls, background: Background, settings: Settings) -> "Scope":
        fitted = SCOPES.get(settings.model)
        return cls(background, *fitted) if fitted else cls(background)

    def signals(self, searcher, question: str | Query) -> tuple[float, float, float]:
        """(how far the best passage stands above the index's typical one, less how far the best background
        passage stands above the background's typical one; share of the question's words the index knows; mean
        log-odds of its words, index against background)."""
        query = Query.of(question)
        margin = searcher.above_typical(query.text) - self.background.above_typical(searcher.query_vector(query.text))
        lexical = searcher.index.lexical
        terms = lexical.terms(query.stems)
        known = sum(t in lexical.model.vocab_dict for t in terms) / len(terms) if terms else 1.0
        return margin, known, self._odds(searcher, terms, self.smoothing)

    def odds(self, searcher, question: str | Query, smoothing: float | None = None) -> float:
        """The mean log-odds of the question's words, index against background (`log_odds`)."""
        terms = searcher.index.lexical.terms(Query.of(question).stems)
        return self._odds(searcher, terms, self.smoothing if smoothing is None else smoothing)

    def _odds(self, searcher, terms: list[str], smoothing: float) -> float:
        return log_odds(terms, searcher.index.lexical.document_frequency, searcher.index.size,
                        self.background.document_frequencies(), smoothing)

    def score(self, margin: float, known: float, odds: float) -> float:
        return margin + self.known_weight * known + self.odds_weight * odds

    def off_topic(self, searcher, question: str | Query) -> bool:
        """Whether the question is off topic (never when no threshold is learnt for the model); the rule « scope »
        that switches it off is read by its stage (stages.off_topic)."""
        query = Query.of(question)
        if self.threshold is None or not query.text.strip() or searcher.index.size == 0:
            return False
        # « un pare-feu pour la cheminée »: read without the words it uses in their everyday sense (homonyms.py).
        everyday = homonyms().everyday(query.text)
        if everyday:
            query = Query.parse(everyday)
        return self.score(*self.signals(searcher, query)) < self.threshold
