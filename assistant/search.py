"""Question -> Hits: dense and lexical retrieval, fused, filtered.

The dense side asks FAISS for its nearest passages, the lexical side scores
every passage with BM25; both are scaled to [0, 1] over the candidates and
mixed with `dense_weight`.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from itertools import islice
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import rules, stages
from .asked import places_in
from .config import Settings
from .dates import TimeHints
from .embed import Embedder
from .index import LoadedIndex
from .lexical import scale_to_max
from .neighbours import SETTINGS as NEIGHBOUR_SETTINGS, Neighbourhood, SectionQuestions, section_keys
from .query import Query, text_of
from .stages import Context
from .schema import Hit, Passage

MODES = ("hybrid", "dense", "lexical")
# Share of the whole-passage similarity in a passage's dense score (the rest: its best sentence window);
# measured on PIAF, Service-Public and the local set (eval/results.md).
WHOLE_WEIGHT = 0.4
# Passages read to tell how far a question's best passage stands above the rest, in an index too large to read all.
STANDING_SAMPLE = 20_000


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


@lru_cache(maxsize=1)
def _numpy_blas_on_one_thread() -> None:
    """numpy's BLAS on one thread, once per process.

    Its products here are small (a question against a few thousand vectors), and its threads, left spinning
    after each one, took a core from the encoder of the next question: in-process search + answer p50 went from
    10.7-12.8 to 9.2-9.9 ms on the corpus + ANSSI index. FAISS's and torch's own thread pools are left alone.
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    paths = [lib["filepath"] for lib in controller.info()
             if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", "")]
    if paths:
        controller.select(filepath=paths).limit(limits=1)


class Searcher:
    """Hybrid retrieval over one loaded index."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Settings,
                 neighbours: SectionQuestions | None = None):
        _numpy_blas_on_one_thread()
        self.index = index
        self.embedder = embedder
        self.settings = settings
        # The training questions read as neighbours (rule `neighbours`); None without a model that has settings.
        fitted = NEIGHBOUR_SETTINGS.get(settings.model) if embedder is not None else None
        self.neighbours = (neighbours or SectionQuestions(embedder, settings.cache_dir)) if fitted else None
        self._section_rows: tuple[dict, Neighbourhood] | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self._capacity = 2048
        self._date_array: np.ndarray | None = None
        self._last_every: tuple[str, dict[bool, np.ndarray]] | None = None
        self._last_mask: tuple[Filters, np.ndarray] | None = None
        self._rows_by_source: dict[str, list[int]] | None = None
        self._latest_bulletin: tuple[Passage | None] | None = None
        self._last_spread: tuple[str, dict[bool, tuple[float, np.ndarray]]] | None = None
        self._sample: np.ndarray | None = None  # the rows `_spread` reads in a large index, drawn once

    def dense_text(self, question: str) -> str:
        """What the dense model reads of a question: its words with their accents put back (lexical.Accents)."""
        return self.index.accents().restore(question)

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding; recent ones are kept, as people re-ask and methods are compared."""
        question = self.dense_text(question)
        with self._vectors_lock:
            vector = self._vectors.get(question)
        if vector is None:
            vector = self.embedder.embed_query(question).reshape(1, -1).astype(np.float32)
            with self._vectors_lock:
                self._vectors[question] = vector
                if len(self._vectors) > self._capacity:
                    self._vectors.popitem(last=False)
        return vector

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Question embeddings computed elsewhere (the evaluation caches them on disk)."""
        with self._vectors_lock:
            self._capacity = max(self._capacity, len(vectors))
            for question, vector in vectors.items():
                self._vectors[question] = np.asarray(vector, dtype=np.float32).reshape(1, -1)

    def search(self, question: str | Query, k: int | None = None, filters: Filters | None = None,
               mode: str = "hybrid", candidates: int | None = None) -> list[Hit]:
        """The k best passages for the question (its text or its Query), best first."""
        k = k or self.settings.k
        size = self.index.size
        query = Query.of(question)
        question = query.text
        if size == 0 or not question.strip():
            return []
        allowed = self.mask(filters)
        if allowed is not None and not allowed.any():
            return []
        n = min(size, max(candidates or self.settings.candidates, k * 4))

        dense = np.full(size, np.nan, dtype=np.float32)
        every = None  # every passage's dense score, when the index is small enough to score them all
        if mode in ("hybrid", "dense"):
            dense_ids, dense_scores, every = self._dense(question, n, allowed)
            dense[dense_ids] = dense_scores
        lexical = np.zeros(size, dtype=np.float32)
        if mode in ("hybrid", "lexical"):
            # The words that say which issue are read by the date ranking, which only the fused mode has.
            lexical = self.index.lexical.scores(query.stems, query.time_words if mode == "hybrid" else frozenset())
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
            # Lexical candidates beyond the dense top-n get their exact dense score, not a guess.
            missing = pool[np.isnan(dense[pool])]
            if missing.size:
                dense[missing] = every[missing] if every is not None else \
                    self.index.passage_scores(self.query_vector(question), missing, WHOLE_WEIGHT)
            d = dense[pool]
            fused = self.settings.dense_weight * _minmax(d) + (1 - self.settings.dense_weight) * scale_to_max(lexical[pool])
        # The rules after retrieval, in the order stages.PIPELINE lists them: on the scored pool, then on the
        # ranking, read until k passages are kept.
        context = Context(self, k=k, mode=mode, lexical_scores=lexical, allowed=allowed)
        for run in stages.SCORING:
            pool, fused = run(query, (pool, fused), context)
        if pool.size == 0:
            return []
        order = np.argsort(-fused, kind="stable")
        ranked = ((int(pool[i]), float(fused[i])) for i in order)
        for run in stages.ORDERING:
            ranked = run(query, ranked, context)
        kept = list(islice(ranked, k))
        return [Hit(passage=self.index.passages[row], score=score, rank=rank,
                    dense=float(0.0 if np.isnan(dense[row]) else dense[row]), lexical=float(lexical[row]))
                for rank, (row, score) in enumerate(kept, start=1)]

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Which passages the filters accept (None: no filter). The last filters' mask is kept (one tuple
        assignment, read only): the search and the checks after it read the same one."""
        if not (filters and filters.active()):
            return None
        last = self._last_mask
        if last is not None and last[0] == filters:
            return last[1]
        allowed = np.fromiter((filters.accepts(p) for p in self.index.passages), dtype=bool, count=self.index.size)
        allowed.flags.writeable = False
        self._last_mask = (filters, allowed)
        return allowed

    def closest(self, question: str | Query, asking: bool = True) -> float:
        """The question's highest dense score over the whole index, whatever the filters (0 when empty);
        `asking` as in `LoadedIndex.passage_scores`."""
        question = text_of(question)
        if self.index.size == 0:
            return 0.0
        _, scores, _ = self._dense(question, 1, None, asking)
        return float(scores[0]) if len(scores) else 0.0

    def standing(self, question: str | Query) -> float:
        """How far the question's best passage stands above the rest of the index: (best - mean) / standard
        deviation of its dense scores over every passage (a sample of STANDING_SAMPLE in a large index)."""
        best, scores = self._spread(text_of(question))
        spread = float(scores.std()) if scores.size else 0.0
        return (best - float(scores.mean())) / spread if spread > 1e-9 else 0.0

    def above_typical(self, question: str | Query) -> float:
        """How far the question's best dense score stands above its mean over the index (a sample of
        STANDING_SAMPLE in a large one): what the scope check weighs against the background (scope.Scope).
        A window that asks a question counts in full here: the rule `asks` orders passages by what they say,
        but a question in the documents is on their topics (with it, one answerable blind test question fell
        off topic)."""
        best, scores = self._spread(text_of(question), asking=False)
        return best - float(scores.mean()) if scores.size else best

    def _spread(self, question: str, asking: bool = True) -> tuple[float, np.ndarray]:
        """The question's best dense score and the scores it is compared with: every passage's, or a fixed
        sample of STANDING_SAMPLE in a large index that is not flat. The scope check and the certainty both read
        them: the last question's are kept (one tuple assignment, as `_every`)."""
        size = self.index.size
        if size < 2:
            return self.closest(question, asking), np.zeros(0, dtype=np.float32)
        if size <= STANDING_SAMPLE or self.index.manifest.get("index_type", "flat") == "flat":
            scores = self._every(question, asking)
            return float(scores.max()), scores
        key = asking and self._asks()
        last = self._last_spread
        if last is None or last[0] != question or key not in last[1]:
            if self._sample is None:
                self._sample = np.sort(np.random.default_rng(0).choice(size, STANDING_SAMPLE, replace=False))
            readings = self._readings()
            scores = self.index.passage_readings(self.query_vector(question), self._sample, WHOLE_WEIGHT, readings)
            last = self._last_spread = (question, {reading: (self.closest(question, reading), sample)
                                                   for reading, sample in zip(readings, scores)})
        return last[1][key]

    def _asks(self) -> bool:
        """Whether the rule `asks` changes any score in this index (it has windows that ask a question)."""
        return rules.on("asks") and bool(self.index.asking().any())

    def _readings(self) -> tuple[bool, ...]:
        """The readings of the scores one question needs: with the rule `asks` (the search, the certainty) and
        without it (the off-topic check), or one when the rule changes nothing here."""
        return (True, False) if self._asks() else (False,)

    def dense_scores(self, question: str | Query) -> np.ndarray:
        """Every passage's dense score for the question, whatever the filters (a copy: the caller may keep it)."""
        question = text_of(question)
        if self.index.size == 0:
            return np.zeros(0, dtype=np.float32)
        return self._every(question).copy()

    def _every(self, question: str, asking: bool = True) -> np.ndarray:
        """Every passage's dense score for the question: one product over all stored vectors. The scope check,
        the standing and the search of one question all read it; the last question's is kept (one tuple
        assignment, so a concurrent question never reads another's scores). `asking` as in
        `LoadedIndex.passage_scores`: both readings come from the one product."""
        key = asking and self._asks()
        last = self._last_every
        if last is None or last[0] != question or key not in last[1]:
            readings = self._readings()
            scores = self.index.all_passage_readings(self.query_vector(question), WHOLE_WEIGHT, readings)
            last = self._last_every = (question, dict(zip(readings, scores)))
        return last[1][key]

    def place_not_covered(self, question: str | Query) -> str | None:
        """A region or country the question names (« aides cyber en Bretagne ») that no passage names."""
        if getattr(self, "_places", None) is None:
            self._places = places_in(f"{p.title} {p.section or ''} {p.text}" for p in self.index.passages)
        return next((place for place in Query.of(question).places if place not in self._places), None)

    def uncovered_period(self, question: str | Query) -> TimeHints | None:
        """The issue a question asks for (« le bulletin de novembre 2026 », « n° 60 ») when nothing indexed has it."""
        hints = Query.of(question).hints
        if not hints.publication:
            return None
        # « le bulletin de décembre 2023 » asks for an issue: a guide dated 2023 does not cover it.
        if hints.date_from:
            issues = self.doc_types() == "bulletin"
            dated = self.in_period(hints) & issues if issues.any() else self.in_period(hints)
            if not dated.any():
                return hints
        if hints.number is not None and not self.numbered(hints.number).any():
            return hints
        return None

    def issue_of(self, hints: TimeHints, allowed: np.ndarray | None = None) -> str | None:
        """The source of the one bulletin issue the hints name (its number, its month, or the newest within
        `allowed`, the filters' mask), or None when they name none or several."""
        bulletins = self.doc_types() == "bulletin"
        if allowed is not None:
            bulletins = bulletins & allowed
        if hints.number is not None:
            rows = bulletins & self.numbered(hints.number)
        elif hints.date_from:
            rows = bulletins & self.in_period(hints)
        elif hints.latest and not hints.last:
            dated = bulletins & (self.dates() != "")
            if not dated.any():
                return None
            rows = dated & (self.dates() == max(self.dates()[dated]))
        else:
            return None
        sources = {self.index.passages[row].source for row in np.flatnonzero(rows)}
        return sources.pop() if len(sources) == 1 else None

    def rows_of(self, source: str) -> list[int]:
        """The rows of one document's passages, in the document's order (page, then the order they were cut)."""
        if self._rows_by_source is None:  # read once per index: an overview reads many issues
            passages, by_source = self.index.passages, {}
            for row, passage in enumerate(passages):
                by_source.setdefault(passage.source, []).append(row)
            self._rows_by_source = {source: sorted(rows, key=lambda row: (passages[row].page or 0, row))
                                    for source, rows in by_source.items()}
        return list(self._rows_by_source.get(source, ()))

    def section_prior(self, question: str) -> np.ndarray | None:
        """Per passage, WEIGHT × the share of the question's nearest training questions written for its section
        (neighbours.py); None when there are no training questions for this model."""
        fitted = NEIGHBOUR_SETTINGS.get(self.settings.model)
        if self.neighbours is None or fitted is None:
            return None
        count, temperature, weight = fitted
        if self._section_rows is None:  # once per index: each section's rows, the training questions naming one
            by_key: dict = {}
            for row, passage in enumerate(self.index.passages):
                for key in section_keys(passage.source, passage.section):
                    by_key.setdefault(key, []).append(row)
            self._section_rows = ({key: np.asarray(rows) for key, rows in by_key.items()},
                                  self.neighbours.within(by_key))
        rows_of, held = self._section_rows
        shares = held.shares(self.query_vector(question), count, temperature)
        if not shares:
            return None
        prior = np.zeros(self.index.size, dtype=np.float32)
        for key, share in shares.items():
            prior[rows_of[key]] += weight * share
        return prior

    def latest_bulletin(self) -> Passage | None:
        """A passage of the most recent dated bulletin, if any; found once per index (every follow-up reads it)."""
        if self._latest_bulletin is None:
            dated = [p for p in self.index.passages if p.doc_type == "bulletin" and p.date]
            self._latest_bulletin = (max(dated, key=lambda p: p.date) if dated else None,)
        return self._latest_bulletin[0]

    def in_period(self, hints: TimeHints) -> np.ndarray:
        """Which passages are dated within the period the hints name."""
        dates = self.dates()
        return (dates >= hints.date_from) & (dates <= hints.date_to) & (dates != "")

    def about_year(self, hints: TimeHints) -> np.ndarray:
        """Which passages a heading dates in the one whole year the hints name, whatever their own date: the
        January 2025 bulletin's « Équipements de bordure, porte d'entrée favorite en 2024 » is about 2024
        (« et pour 2024 ? » after « quel bilan de la menace cyber pour 2025 ? »). None of them for a month or a
        span of months."""
        if not (hints.date_from and hints.date_from.endswith("-01-01")
                and hints.date_to == f"{hints.date_from[:4]}-12-31"):
            return np.zeros(self.index.size, dtype=bool)
        year = hints.date_from[:4]
        cached = getattr(self, "_about_year", None)
        if cached is None or cached[0] != year:
            pattern = re.compile(rf"\b{year}\b")
            cached = self._about_year = (year, np.array([bool(pattern.search(p.section or "")) for p in
                                                         self.index.passages], dtype=bool))
        return cached[1]

    def doc_types(self) -> np.ndarray:
        """Every passage's document type, in row order."""
        if getattr(self, "_doc_type_array", None) is None:
            self._doc_type_array = np.array([p.doc_type for p in self.index.passages])
        return self._doc_type_array

    def dates(self) -> np.ndarray:
        """Every passage's date ('' when undated), in row order."""
        if self._date_array is None:
            self._date_array = np.array([p.date or "" for p in self.index.passages])
        return self._date_array

    def numbered(self, number: int) -> np.ndarray:
        """Which passages belong to the issue numbered `number` (« n° 42 » in their title)."""
        pattern = re.compile(rf"\bn°\s*{number}\b")
        return np.array([bool(pattern.search(p.title)) for p in self.index.passages], dtype=bool)

    def _dense(self, question: str, n: int, allowed: np.ndarray | None,
               asking: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Rows and dense scores of the n best passages, best first; and every passage's score when computed."""
        import faiss

        query = self.query_vector(question)
        if self.index.manifest.get("index_type", "flat") == "flat":
            # An exact index scans every vector anyway: one product scores every passage, no second pass.
            every = self._every(question, asking)
            rows = np.flatnonzero(allowed) if allowed is not None else np.arange(self.index.size)
            if n < rows.size:
                rows = rows[np.argpartition(-every[rows], n - 1)[:n]]
            rows = rows[np.lexsort((rows, -every[rows]))]
            return rows, every[rows], every
        owners = self.index.owners
        params = None
        if allowed is not None:
            windows = np.flatnonzero(allowed[owners]).astype(np.int64)
            params = self.index.search_parameters(faiss.IDSelectorBatch(windows))
        # Passages hold a few windows each: ask for enough windows to cover n passages.
        want = min(int(self.index.vectors.ntotal), max(n * 4, n + 32))
        scores, ids = self.index.vectors.search(query, want, params=params)
        keep = ids[0] >= 0
        rows = np.unique(owners[ids[0][keep]])
        exact = self.index.passage_scores(query, rows, WHOLE_WEIGHT, asking)
        order = np.argsort(-exact, kind="stable")[:n]
        return rows[order], exact[order], None


def _minmax(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values)
    return (values - low) / (high - low)
