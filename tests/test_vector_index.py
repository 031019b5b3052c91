"""The vector index kind follows the collection size, is recorded in the manifest, and both kinds load and search."""
from __future__ import annotations

import numpy as np
import pytest

from assistant import index as index_module
from assistant.index import build_index, choose_index_type, load_index, make_vector_index
from assistant.search import Filters, Searcher


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few hundred centres, like sentence embeddings rather than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dim))
    vectors = centres[rng.integers(0, 200, n)] + 0.6 * rng.normal(size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_small_collections_stay_exact_and_large_ones_go_approximate():
    assert choose_index_type(0) == "flat"
    assert choose_index_type(index_module.FLAT_MAX_VECTORS) == "flat"
    assert choose_index_type(index_module.FLAT_MAX_VECTORS + 1) == "hnsw"


def test_hnsw_finds_what_exact_search_finds():
    data = _clustered(5000)
    queries = _clustered(50, seed=1)
    flat, _ = make_vector_index(data, 64, "flat")
    hnsw, kind = make_vector_index(data, 64, "hnsw")
    assert kind["index_type"] == "hnsw" and kind["index_params"]["M"] == index_module.HNSW_M
    _, exact = flat.search(queries, 10)
    _, approx = hnsw.search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
    assert recall >= 0.95, f"recall@10 of HNSW against exact search is {recall:.3f}"
    # Row order is kept: vector i of the HNSW index is vector i given.
    assert np.allclose(hnsw.reconstruct_n(0, 5), data[:5])


def test_empty_collection_builds_a_flat_index():
    index, kind = make_vector_index(np.zeros((0, 8), np.float32), 8)
    assert kind["index_type"] == "flat" and index.ntotal == 0


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="flat ou hnsw"):
        make_vector_index(np.zeros((1, 8), np.float32), 8, "ivf")


@pytest.mark.parametrize("limit, kind", [(10**9, "flat"), (0, "hnsw")])
def test_built_index_records_its_kind_and_searches_with_filters(tiny_corpus, settings, embedder, monkeypatch,
                                                                limit, kind):
    monkeypatch.setattr(index_module, "FLAT_MAX_VECTORS", limit)
    build_index([tiny_corpus], settings, embedder, show_progress=False)
    loaded = load_index(settings.index_dir, settings)
    assert loaded.manifest["index_type"] == kind, loaded.manifest.get("index_type")
    searcher = Searcher(loaded, embedder, settings)
    hits = searcher.search("comment redémarrer après un rançongiciel", k=3)
    assert hits and hits[0].passage.title == "Guide des sauvegardes"
    # A filter goes through FAISS's ID selector, whose parameter type differs between kinds.
    only = searcher.search("rançongiciels", k=3, filters=Filters(doc_types=("bulletin",)), mode="dense")
    assert only and all(h.passage.doc_type == "bulletin" for h in only)
    # A re-index reuses the stored vectors (reconstructed from either kind).
    (tiny_corpus / "note.md").write_text("# Note\n\nLa Manche trace ses produits laitiers.\n", encoding="utf-8")
    report = build_index([tiny_corpus], settings, embedder, show_progress=False)
    assert report.embedded < report.passages
    assert load_index(settings.index_dir, settings).manifest["index_type"] == kind


def _scores_one_by_one(index, query, rows, whole_weight, asking=None):
    """The per-passage definition: whole-passage similarity mixed with the best window's, a window that asks
    (`asking`, per vector) lowered by ASKING_PENALTY."""
    from assistant.index import ASKING_PENALTY

    starts = index.window_ranges()
    out = []
    for row in rows:
        low, high = int(starts[row]), int(starts[row + 1])
        sims = index.vectors.reconstruct_n(low, high - low) @ query
        if asking is not None:
            sims = sims - ASKING_PENALTY * asking[low:high]
        best = sims[1:].max() if len(sims) > 1 else sims[0]
        out.append(whole_weight * sims[0] + (1 - whole_weight) * best)
    return np.array(out, dtype=np.float32)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_vectorised_passage_scores_match_the_definition(kind):
    from pathlib import Path

    from assistant.index import LoadedIndex

    rng = np.random.default_rng(3)
    counts = rng.integers(1, 6, 300)  # passages of one to five vectors (whole passage + windows)
    owners = np.repeat(np.arange(300), counts)
    data = _clustered(len(owners))
    vectors, meta = make_vector_index(data, 64, kind)
    index = LoadedIndex(folder=Path("x"), manifest={**meta, "dim": 64}, passages=[None] * 300, vectors=vectors,
                        lexical=None, owners=owners)
    # Windows that ask a question (rule `asks`): a few, never a whole passage (the first vector of each).
    asking = rng.random(len(owners)) < 0.2
    asking[index.window_ranges()[:-1]] = False
    index._asking = asking
    assert np.array_equal(index.matrix(), data)
    query = _clustered(1, seed=5)[0]
    rows = rng.permutation(300)[:120]
    assert np.allclose(index.passage_scores(query, rows, 0.3), _scores_one_by_one(index, query, rows, 0.3, asking),
                       atol=1e-5)
    assert np.allclose(index.passage_scores(query, rows, 0.3, asking=False),
                       _scores_one_by_one(index, query, rows, 0.3), atol=1e-5)
    assert index.passage_scores(query, np.array([], dtype=np.int64), 0.3).shape == (0,)
    # Every passage at once (the flat search path) gives the same scores.
    everything = np.arange(300)
    assert np.allclose(index.all_passage_scores(query, 0.3),
                       _scores_one_by_one(index, query, everything, 0.3, asking), atol=1e-5)
    assert np.allclose(index.all_passage_scores(query, 0.3, asking=False),
                       _scores_one_by_one(index, query, everything, 0.3), atol=1e-5)
    # Both readings from one product are the two readings asked one at a time.
    for got, asking in zip(index.passage_readings(query, rows, 0.3, (True, False)), (True, False)):
        assert np.array_equal(got, index.passage_scores(query, rows, 0.3, asking=asking))
    for got, asking in zip(index.all_passage_readings(query, 0.3, (True, False)), (True, False)):
        assert np.array_equal(got, index.all_passage_scores(query, 0.3, asking=asking))


def test_a_large_index_reads_its_sample_once_for_both_readings(monkeypatch):
    """In a large approximate index, the off-topic check (without the rule `asks`) and the certainty (with it) read
    one sample of scores, each as its definition says, and a rule switched off then on reads anew."""
    from pathlib import Path

    from assistant import rules, search
    from assistant.config import Settings
    from assistant.index import LoadedIndex

    monkeypatch.setattr(search, "STANDING_SAMPLE", 100)
    rng = np.random.default_rng(4)
    counts = rng.integers(1, 6, 300)
    owners = np.repeat(np.arange(300), counts)
    vectors, meta = make_vector_index(_clustered(len(owners)), 64, "hnsw")
    index = LoadedIndex(folder=Path("x"), manifest={**meta, "dim": 64}, passages=[None] * 300, vectors=vectors,
                        lexical=None, owners=owners)
    asking = rng.random(len(owners)) < 0.2
    asking[index.window_ranges()[:-1]] = False
    index._asking = asking
    searcher = Searcher(index, None, Settings())
    query = _clustered(1, seed=5)
    monkeypatch.setattr(searcher, "query_vector", lambda question: query)
    read = []
    monkeypatch.setattr(index, "passage_readings",
                        lambda *args, original=index.passage_readings: read.append((len(args[1]), args[3]))
                        or original(*args))

    typical = searcher.above_typical("q")
    standing = searcher.standing("q")
    # The sample is read once, for both; only the few best passages of the vector search are read apart.
    assert [readings for rows, readings in read if rows == 100] == [(True, False)], read
    sample = searcher._sample
    without = index.passage_scores(query, sample, search.WHOLE_WEIGHT, asking=False)
    with_asks = index.passage_scores(query, sample, search.WHOLE_WEIGHT)
    assert np.isclose(typical, searcher.closest("q", asking=False) - without.mean())
    assert np.isclose(standing, (searcher.closest("q") - with_asks.mean()) / with_asks.std())
    with rules.switched_off("asks"):
        assert np.isclose(searcher.standing("q"), (searcher.closest("q") - without.mean()) / without.std())
    assert np.isclose(searcher.standing("q"), standing)
