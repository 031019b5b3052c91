"""`assistant eval`: retrieval quality of lexical, dense and the shipped retriever, side by side.

Datasets:
- local: eval/questions.jsonl over corpus/ (and ../shared/corpus-anssi where present);
- piaf: PIAF v1.0 questions over their 761 Wikipedia paragraphs (../shared/bench);
- spf: Service-Public fiches, chunked, a hit being any chunk of the gold fiche (../shared/bench).

Passage vectors of the benchmark sets are cached by content hash, so a second
run only encodes the questions.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .chunking import chunk_document, passage_context
from .config import PROJECT_ROOT, Settings
from .embed import Embedder
from .index import LoadedIndex, build_index, load_index
from .lexical import LexicalIndex
from .schema import Document, Passage, Section
from .search import MODES, Searcher

SHARED = PROJECT_ROOT.parent / "shared"
BENCH = SHARED / "bench"
ANSSI = SHARED / "corpus-anssi"
QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
METHOD_LABELS = {"lexical": "lexical (BM25)", "dense": "dense (e5)", "hybrid": "assistant (fusion)"}


@dataclass
class EvalQuestion:
    """A question with what counts as a right passage."""

    id: str
    question: str
    gold: list[dict] = field(default_factory=list)
    in_scope: bool = True
    needs_shared: bool = False
    kind: str = ""


@dataclass
class Dataset:
    name: str
    questions: list[EvalQuestion]
    index: LoadedIndex
    matcher: object  # (Passage, EvalQuestion) -> bool


def in_memory_index(passages: list[Passage], embedder: Embedder, cache_dir: Path, name: str) -> LoadedIndex:
    """An index held in memory, with passage vectors cached on disk by content hash."""
    import faiss

    texts = [passage_context(p) for p in passages]
    digest = hashlib.sha256(("\x1e".join(texts) + embedder.name).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / "eval-vectors" / f"{name}-{embedder.name}-{digest}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        t0 = time.perf_counter()
        vectors = embedder.embed_passages(texts)
        print(f"  {name} : {len(texts)} passages encodés en {time.perf_counter() - t0:.0f} s")
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    manifest = {"passages": len(passages), "dim": int(vectors.shape[1]), "files": {}}
    return LoadedIndex(folder=Path(name), manifest=manifest, passages=passages, vectors=index,
                       lexical=LexicalIndex.build(texts))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_piaf(embedder: Embedder, settings: Settings, limit: int | None = None) -> Dataset | None:
    if not (BENCH / "piaf_v1.0_passages.jsonl").exists():
        return None
    passages = [Passage(id=str(r["passage_id"]), text=r["text"], title=r["title"], source="PIAF (Wikipédia)",
                        doc_type="autre") for r in _jsonl(BENCH / "piaf_v1.0_passages.jsonl")]
    rows = _jsonl(BENCH / "piaf_v1.0_questions_filtered1863.jsonl")
    if limit:
        rows = random.Random(0).sample(rows, min(limit, len(rows)))
    questions = [EvalQuestion(id=str(r["question_id"]), question=r["question"],
                              gold=[{"id": str(r["passage_id"])}]) for r in rows]
    index = in_memory_index(passages, embedder, settings.cache_dir, "piaf")
    return Dataset("piaf", questions, index, lambda p, q: p.id == q.gold[0]["id"])


def load_spf(embedder: Embedder, settings: Settings, limit: int | None = None) -> Dataset | None:
    if not (BENCH / "spf_dila_105_passages.jsonl").exists():
        return None
    passages: list[Passage] = []
    for row in _jsonl(BENCH / "spf_dila_105_passages.jsonl"):
        text = row["text"]
        title = text.split("\n", 1)[0][:150]
        doc = Document(source=str(row["passage_id"]), title=title, doc_type="autre",
                       sections=(Section(text=text),), url=row.get("url"))
        passages.extend(chunk_document(doc, settings.chunk_size, settings.chunk_overlap))
    rows = _jsonl(BENCH / "spf_dila_105_questions.jsonl")
    if limit:
        rows = random.Random(0).sample(rows, min(limit, len(rows)))
    questions = [EvalQuestion(id=str(r["question_id"]), question=r["question"],
                              gold=[{"id": str(r["passage_id"])}]) for r in rows]
    index = in_memory_index(passages, embedder, settings.cache_dir, "spf")
    return Dataset("spf", questions, index, lambda p, q: p.source == q.gold[0]["id"])


def local_matcher(passage: Passage, question: EvalQuestion) -> bool:
    """A passage is right when it comes from a gold document and, if given, its page or section."""
    for gold in question.gold:
        doc = gold.get("doc")
        if doc and not passage.source.endswith(doc):
            continue
        if gold.get("page") is not None and passage.page != gold["page"]:
            continue
        if gold.get("section") and gold["section"].lower() not in (passage.section or "").lower():
            continue
        return True
    return False


def load_local(embedder: Embedder, settings: Settings, path: Path = QUESTIONS) -> Dataset | None:
    if not path.exists():
        return None
    questions = []
    for row in _jsonl(path):
        gold = [row["gold"]] if isinstance(row.get("gold"), dict) else list(row.get("gold") or [])
        gold += list(row.get("alternatives") or [])
        questions.append(EvalQuestion(id=str(row["id"]), question=row["question"], gold=gold,
                                      in_scope=bool(row.get("in_scope", True)),
                                      needs_shared=any("corpus-anssi" in (g.get("doc") or "") for g in gold)
                                      or bool(row.get("needs_shared")),
                                      kind=row.get("kind", "")))
    paths = list(settings.corpus_dirs)
    if ANSSI.exists():
        paths.append(ANSSI)
    else:
        questions = [q for q in questions if not q.needs_shared]
    eval_settings = replace(settings, index_dir=Path(settings.cache_dir) / "eval-index" / settings.fingerprint())
    build_index(paths, eval_settings, embedder, show_progress=False, log=lambda m: None)
    index = load_index(eval_settings.index_dir, eval_settings)
    return Dataset("local", questions, index, local_matcher)


def score_dataset(dataset: Dataset, embedder: Embedder, settings: Settings, methods=MODES) -> dict:
    """Recall@1, Recall@5, MRR@10 per method (in-scope questions only)."""
    searcher = Searcher(dataset.index, embedder, settings)
    results = {}
    scoped = [q for q in dataset.questions if q.in_scope]
    for method in methods:
        ranks = []
        for q in scoped:
            hits = searcher.search(q.question, k=10, mode=method)
            ranks.append(next((h.rank for h in hits if dataset.matcher(h.passage, q)), None))
        results[method] = _metrics(ranks)
    return results


def _metrics(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "R@1": sum(1 for r in ranks if r == 1) / n,
        "R@5": sum(1 for r in ranks if r and r <= 5) / n,
        "MRR@10": sum(1 / r for r in ranks if r and r <= 10) / n,
    }
