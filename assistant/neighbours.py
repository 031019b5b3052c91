"""Questions written blind for the documents' sections, read as the neighbours of a new question (rule `neighbours`).

The training questions were written by fresh writers who saw only the titles and section headings of `corpus/`
and of the ANSSI guidance, never their text, each for one section (train/README.md):
`train/blind_sections.jsonl` paraphrases each heading in the users' voices, `train/blind_situations.jsonl` gives
a situation from the users' working life that the section answers (« on embauche un apprenti au bureau d'études,
comment éviter qu'il parte avec nos plans ? »). A new question's nearest training questions (e5 cosine) say which
sections people who ask that way are after: those sections' passages (their sub-sections' included) gain WEIGHT ×
the softmax share (over the NEIGHBOURS nearest, at TEMPERATURE) of the training questions written for them, added
to the fused score. The neighbours are taken among the questions written for a section of the index at hand: over
the shipped corpus alone, a third of the weight had gone to ANSSI sections it does not hold.

It reads the question as a whole, where the fusion reads its words: a question about a foreign fund taking a stake
finds the questions written for « Choisir ses partenaires, clients et investisseurs », whatever words it shares
with the passages. An index without the documents the training questions were written for (PIAF, a maintainer's
own) has no section they name, and ranks as without the rule.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Container
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .config import PROJECT_ROOT
from .embed import Embedder, cached_vectors, embed_questions
from .scope import read_rows

TRAINING = (PROJECT_ROOT / "train" / "blind_sections.jsonl", PROJECT_ROOT / "train" / "blind_situations.jsonl")

# (NEIGHBOURS, TEMPERATURE, WEIGHT) per model (None: no prior). The plateau found on the training questions alone,
# each file's questions asked against the other file's; within it, the weight that loses nothing on the dev halves
# (eval/attempts.md, session 19). Never chosen on a test half.
SETTINGS: dict[str, tuple[int, float, float] | None] = {"e5-small": (10, 0.02, 0.8), "use-multilingual": None,
                                                        "hash": None}

SECTION_SEPARATOR = " › "  # between the headings of a section's path (readers.py)
SectionKey = tuple[str, "str | None"]  # (the document's file name, its section heading)


def section_keys(source: str, section: str | None) -> list[SectionKey]:
    """The keys the training files may name a passage's section by: its file's name with its heading and with each
    enclosing heading, a section holding its sub-sections (« Voyager à l'étranger › Au retour » is in « Voyager à
    l'étranger »)."""
    name = os.path.basename(source)
    if not section:
        return [(name, None)]
    path = section.split(SECTION_SEPARATOR)
    return [(name, SECTION_SEPARATOR.join(path[:depth])) for depth in range(1, len(path) + 1)]


@dataclass
class SectionQuestions:
    """The training questions' vectors and the section each was written for, loaded or computed on first use
    (encoded once per model, about 20 s, then read from the cache folder)."""

    embedder: Embedder
    cache_dir: Path
    paths: tuple[Path, ...] = TRAINING

    def __post_init__(self):
        self._loaded: tuple[np.ndarray, list[SectionKey]] | None = None
        self._lock = threading.Lock()

    def vectors(self) -> tuple[np.ndarray, list[SectionKey]]:
        """(one row per training question, the section each was written for). Absent files are empty."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    vectors, keys = [np.zeros((0, self.embedder.dim), dtype=np.float32)], []
                    for path in self.paths:
                        if not path.exists():
                            continue
                        rows = read_rows(path)
                        # One cache file per training file: the question bank (scope.py) reads the first too.
                        vectors.append(cached_vectors([r["question"] for r in rows], self.embedder, self.cache_dir,
                                                      "questions", partial(embed_questions, self.embedder)))
                        keys += [(r["gold"][0]["doc"], r["gold"][0]["section"]) for r in rows]
                    self._loaded = (np.vstack(vectors), keys)
        return self._loaded

    def within(self, held: Container[SectionKey] | None = None) -> Neighbourhood:
        """The training questions written for a section among `held` (all of them with None), kept once per
        index rather than selected at every question."""
        vectors, keys = self.vectors()
        kept = [row for row, key in enumerate(keys) if held is None or key in held]
        return Neighbourhood(vectors[kept], [keys[row] for row in kept])


@dataclass(frozen=True)
class Neighbourhood:
    """The training questions a question's neighbours are taken from: their vectors and the section each names."""

    vectors: np.ndarray
    keys: list[SectionKey]

    def shares(self, query: np.ndarray, neighbours: int, temperature: float) -> dict[SectionKey, float]:
        """Each section's share of the question's `neighbours` nearest training questions, weighted by the softmax
        of their cosines at `temperature`; the shares sum to 1 (empty without training questions)."""
        if not self.keys:
            return {}
        cosines = self.vectors @ np.asarray(query, dtype=np.float32).ravel()
        nearest = np.argsort(-cosines, kind="stable")[:neighbours]
        weights = np.exp((cosines[nearest] - cosines[nearest].max()) / temperature)
        weights /= weights.sum()
        out: dict[SectionKey, float] = {}
        for row, weight in zip(nearest, weights):
            out[self.keys[row]] = out.get(self.keys[row], 0.0) + float(weight)
        return out
