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

A fourth signal compares the question with questions rather than texts
(`QuestionBank`): `train/blind_sections.jsonl`, 1,139 questions written
for the shipped documents' sections, and `data/offtopic_questions.jsonl`, 800
questions written in the same voices on everything else (cooking, payroll,
office software, a bulletin de salaire, a pare-feu de cheminée…). Both sides
are questions, in owners' words, so what tells them apart is the topic, not
the register. Only the questions about documents of the index at hand count
on the first side: on an index of other documents (PIAF) the signal is 0.

The background's and the banks' vectors are computed once per model and kept in
the cache folder, keyed by their content and the model's name.
"""
from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from . import rules
from .config import PROJECT_ROOT, Settings
from .embed import Embedder, cached_vectors, embed_questions
from .homonyms import homonyms
from .lexical import analyze
from .query import Query

BACKGROUND = Path(__file__).resolve().parent / "data" / "background.jsonl"
ON_TOPIC_QUESTIONS = (PROJECT_ROOT / "train" / "blind_sections.jsonl",)
OFF_TOPIC_QUESTIONS = Path(__file__).resolve().parent / "data" / "offtopic_questions.jsonl"
# The questions' nearness on each side is the mean cosine of its NEAREST closest questions there.
NEAREST = 5


def read_rows(path: Path) -> list[dict]:
    """The rows of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def background_texts(path: Path = BACKGROUND) -> list[str]:
    """The background passages, in file order."""
    return [row["text"] for row in read_rows(path)]


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
                    self._vectors = cached_vectors(background_texts(self.path), self.embedder, self.cache_dir,
                                                    "background", self.embedder.embed_passages)
        return self._vectors

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


@dataclass
class QuestionBank:
    """Questions about the shipped documents (each with its document) and questions off them, in the same voices.

    `nearness` is how much nearer a question is to the former than to the latter, never above 0: a question
    nearer the off-topic questions counts down in the scope score; one nearer the documents' questions is left
    to the other signals. It applies to an index that holds one of the documents the on-topic questions were
    written for (`about`); an index without them (PIAF, a maintainer's own documents) reads the same with the
    bank or without it. A bank file that is absent (an install without `train/`) is an empty side.
    """

    embedder: Embedder
    cache_dir: Path
    on_paths: tuple[Path, ...] = ON_TOPIC_QUESTIONS
    off_path: Path = OFF_TOPIC_QUESTIONS

    def __post_init__(self):
        self._vectors: tuple[np.ndarray, np.ndarray, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def vectors(self) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
        """(the on-topic questions' vectors, the off-topic ones', the file names of the documents the on-topic
        questions were written for)."""
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    on = [row for path in self.on_paths if path.exists() for row in read_rows(path)]
                    off = [row["text"] for row in read_rows(self.off_path)] if self.off_path.exists() else []
                    embed = partial(embed_questions, self.embedder)
                    self._vectors = (cached_vectors([r["question"] for r in on], self.embedder, self.cache_dir,
                                                     "questions", embed),
                                     cached_vectors(off, self.embedder, self.cache_dir, "questions", embed),
                                     frozenset(r["gold"][0]["doc"] for r in on))
        return self._vectors

    def about(self, documents: frozenset[str]) -> bool:
        """Whether an index of these documents (file names) is the programme's: it holds one of the documents the
        on-topic questions were written for, and there are off-topic questions to compare with. All the on-topic
        questions count then: a question on fraud is on the programme's topics in an index that lacks the
        bulletin the bank's fraud questions were written for."""
        _, off, docs = self.vectors()
        return off.shape[0] > 0 and not docs.isdisjoint(documents)

    def nearness(self, query: np.ndarray) -> float:
        """Mean cosine of the question's NEAREST closest on-topic questions less that of its closest off-topic
        ones, capped at 0 (for an index the bank is `about`)."""
        on, off, _ = self.vectors()
        query = np.asarray(query, dtype=np.float32).ravel()
        near_on = np.sort(on @ query)[-NEAREST:].mean()
        near_off = np.sort(off @ query)[-NEAREST:].mean()
        return min(0.0, float(near_on - near_off))


# Off topic when (index best - index mean) - (background best - background mean) of the question's similarities
# + KNOWN × (share of the question's words the index knows) + ODDS × (mean log-odds of the question's words, index
# against background, counts smoothed by SMOOTHING) + BANK × (QuestionBank.nearness) < THRESHOLD, per model (None:
# no check). Learnt by `assistant eval` on the dev halves of the blind set and of the local set (eval/results.md,
# « Réglages appris »), never on a test half.
SCOPES: dict[str, tuple[float, float, float, float, float] | None] = {
    "e5-small": (0.0, 0.02, -0.0195, 2.0, 3.0), "use-multilingual": None, "hash": None}


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
    A fourth, with a question bank (rule `bank`): how much nearer the question
    is to questions written off the documents' topics than to questions
    written about the index's documents (`QuestionBank.nearness`, at most 0).
    """

    background: Background
    known_weight: float = 0.0
    odds_weight: float = 0.0
    threshold: float | None = None
    smoothing: float = 0.5
    bank_weight: float = 0.0
    bank: QuestionBank | None = None

    def __post_init__(self):
        self._about: tuple[object, bool] | None = None  # (the index, whether the bank is about it)

    @classmethod
    def for_model(cls, background: Background, settings: Settings, bank: QuestionBank | None = None) -> "Scope":
        fitted = SCOPES.get(settings.model)
        return cls(background, *fitted, bank=bank) if fitted else cls(background, bank=bank)

    def warm(self) -> None:
        """Encode (or read from the cache) the background's and the bank's vectors now, not at a question."""
        if self.threshold is not None:
            self.background.vectors()
            if self.bank is not None and self.bank_weight:
                self.bank.vectors()

    def signals(self, searcher, question: str | Query) -> tuple[float, float, float, float]:
        """(how far the best passage stands above the index's typical one, less how far the best background
        passage stands above the background's typical one; share of the question's words the index knows; mean
        log-odds of its words, index against background; nearness to the bank's questions, 0 without it)."""
        query = Query.of(question)
        vector = searcher.query_vector(query.text)
        margin = searcher.above_typical(query.text) - self.background.above_typical(vector)
        lexical = searcher.index.lexical
        terms = lexical.terms(query.stems)
        known = sum(t in lexical.model.vocab_dict for t in terms) / len(terms) if terms else 1.0
        return margin, known, self._odds(searcher, terms, self.smoothing), self.nearness(searcher, vector)

    def nearness(self, searcher, vector: np.ndarray) -> float:
        """The question bank's signal (`QuestionBank.nearness`); 0 without a bank, with the rule `bank` off, or for an
        index the bank is not about (read once per index)."""
        if self.bank is None or not rules.on("bank"):
            return 0.0
        index = searcher.index
        if self._about is None or self._about[0] is not index:
            self._about = (index, self.bank.about(frozenset(Path(p.source).name for p in index.passages)))
        return self.bank.nearness(vector) if self._about[1] else 0.0

    def odds(self, searcher, question: str | Query, smoothing: float | None = None) -> float:
        """The mean log-odds of the question's words, index against background (`log_odds`)."""
        terms = searcher.index.lexical.terms(Query.of(question).stems)
        return self._odds(searcher, terms, self.smoothing if smoothing is None else smoothing)

    def _odds(self, searcher, terms: list[str], smoothing: float) -> float:
        return log_odds(terms, searcher.index.lexical.document_frequency, searcher.index.size,
                        self.background.document_frequencies(), smoothing)

    def score(self, margin: float, known: float, odds: float, nearness: float = 0.0) -> float:
        return margin + self.known_weight * known + self.odds_weight * odds + self.bank_weight * nearness

    def off_topic(self, searcher, question: str | Query, bank: bool = True) -> bool:
        """Whether the question is off topic (never when no threshold is learnt for the model); the rule « scope »
        that switches it off is read by its stage (stages.off_topic). `bank` False leaves the question bank out: a
        follow-up read alone (« et si un salarié perd son téléphone ? ») is a fragment, which the bank's whole
        questions (« j'ai perdu mon téléphone, comment le bloquer ? ») judge by what it lacks."""
        query = Query.of(question)
        if self.threshold is None or not query.text.strip() or searcher.index.size == 0:
            return False
        # « un pare-feu pour la cheminée »: read without the words it uses in their everyday sense (homonyms.py).
        everyday = homonyms().everyday(query.text)
        if everyday:
            query = Query.parse(everyday)
        margin, known, odds, nearness = self.signals(searcher, query)
        return self.score(margin, known, odds, nearness if bank else 0.0) < self.threshold
