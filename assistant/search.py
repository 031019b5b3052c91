"""Question -> Hits: dense and lexical retrieval, fused, filtered.

The dense side asks FAISS for its nearest passages, the lexical side scores
every passage with BM25; both are scaled to [0, 1] over the candidates and
mixed with `dense_weight`.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .embed import Embedder
from .index import LoadedIndex
from .schema import Hit, Passage

MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class Filters:
    """Restrictions on what may be returned; empty means no restriction."""

    doc_types: tuple[str, ...] = ()
    practices: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def active(self) -> bool:
        return bool(self.doc_types or self.practices or self.topics or self.date_from or self.date_to)

    def accepts(self, passage: Passage) -> bool:
        """True when the passage passes every restriction."""
        if self.doc_types and passage.doc_type not in self.doc_types:
            return False
        if self.practices and passage.practice not in self.practices:
            return False
        if self.topics and passage.topic not in self.topics:
            return False
        if self.date_from or self.date_to:
            if not passage.date:
                return False
            if self.date_from and passage.date < self.date_from:
                return False
            if self.date_to and passage.date > self.date_to:
                return False
        return True


class Searcher:
    """Hybrid retrieval over one loaded index."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding; recent ones are kept, as people re-ask and methods are compared."""
        with self._vectors_lock:
            vector = self._vectors.get(question)
        if vector is None:
            vector = self.embedder.embed_query(question).reshape(1, -1).astype(np.float32)
            with self._vectors_lock:
                self._vectors[question] = vector
                if len(self._vectors) > 2048:
                    self._vectors.popitem(last=False)
        return vector

    def search(self, question: str, k: int | None = None, filters: Filters | None = None,
               mode: str = "hybrid", candidates: int = 100) -> list[Hit]:
        """The k best passages for the question, best first."""
        k = k or self.settings.k
        size = self.index.size
        if size == 0 or not question.strip():
            return []
        allowed = None
        if filters and filters.active():
            allowed = np.fromiter((filters.accepts(p) for p in self.index.passages), dtype=bool, count=size)
            if not allowed.any():
                return []
        n = min(size, max(candidates, k * 4))

        dense = np.full(size, np.nan, dtype=np.float32)
        if mode in ("hybrid", "dense"):
            dense_ids, dense_scores = self._dense(question, n, allowed)
            dense[dense_ids] = dense_scores
        lexical = np.zeros(size, dtype=np.float32)
        if mode in ("hybrid", "lexical"):
            lexical = self.index.lexical.scores(question)
            if allowed is not None:
                lexical = np.where(allowed, lexical, 0.0)

        if mode == "dense":
            pool = np.flatnonzero(~np.isnan(dense))
            fused = dense[pool]
        elif mode == "lexical":
            pool = np.argsort(-lexical, kind="stable")[:n]
            pool = pool[lexical[pool] > 0]
            fused = lexical[pool]
        else:
            lex_top = np.argsort(-lexical, kind="stable")[:n]
            lex_top = lex_top[lexical[lex_top] > 0]
            pool = np.union1d(np.flatnonzero(~np.isnan(dense)), lex_top)
            d = dense[pool]
            # Lexical candidates beyond the dense top-n get the dense floor.
            floor = np.nanmin(d) if np.isfinite(d).any() else 0.0
            d = np.where(np.isnan(d), floor, d)
            fused = self.settings.dense_weight * _minmax(d) + (1 - self.settings.dense_weight) * _scale_max(lexical[pool])
        if pool.size == 0:
            return []
        order = np.argsort(-fused, kind="stable")[:k]
        hits = []
        for rank, i in enumerate(order, start=1):
            row = int(pool[i])
            hits.append(Hit(
                passage=self.index.passages[row],
                score=float(fused[i]),
                rank=rank,
                dense=float(0.0 if np.isnan(dense[row]) else dense[row]),
                lexical=float(lexical[row]),
            ))
        return hits

    def _dense(self, question: str, n: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        query = self.query_vector(question)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64)))
        scores, ids = self.index.vectors.search(query, n, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]


def _minmax(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values)
    return (values - low) / (high - low)


def _scale_max(values: np.ndarray) -> np.ndarray:
    high = float(values.max()) if values.size else 0.0
    return values / high if high > 0 else np.zeros_like(values)
