"""The benchmark runs end to end on a tiny input and writes its files (no timing is asserted)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from benchmarks.bench import BenchConfig, main, percentiles, run_bench, synthetic_vectors


def test_percentiles_of_nothing_and_of_samples():
    assert percentiles([]) == {"n": 0}
    stats = percentiles([0.001 * i for i in range(1, 101)])
    assert stats["n"] == 100 and stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= 100


def test_synthetic_vectors_are_unit_length_and_reproducible():
    a, b = synthetic_vectors(300, 32, seed=4), synthetic_vectors(300, 32, seed=4)
    assert a.shape == (300, 32) and a.dtype.name == "float32"
    assert abs(float((a * a).sum(axis=1).mean()) - 1.0) < 1e-4
    assert (a == b).all()


def test_tiny_bench_runs_every_section_and_writes_its_files(tiny_corpus, settings, tmp_path):
    out = tmp_path / "out"
    config = BenchConfig(out_dir=out, corpus=[tiny_corpus], questions=12, scale_sizes=(1500,), server_passages=1500,
                         concurrency=3, model_prep=False, log=lambda message: None)
    run_bench(settings, config)
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    for section in ("machine", "ingestion", "encoders", "latency", "http", "scale", "server_large", "targets"):
        assert section in report, f"section {section} absente de bench.json"
    assert report["machine"]["cores"] >= 1 and report["machine"]["versions"]["faiss-cpu"]
    assert report["ingestion"]["documents"] == 3 and report["ingestion"]["reindex_embedded"] == 0
    assert report["latency"]["search_and_answer"]["n"] == 12
    assert report["http"]["one_client"]["errors"] == 0 and report["http"]["concurrent"]["errors"] == 0
    assert report["http"]["concurrent"]["requests"] == 12
    assert {row["kind"] for row in report["scale"]} == {"flat", "hnsw", "ivf"}
    assert all(row["recall_at_10"] == 1.0 for row in report["scale"] if row["kind"] == "flat")
    assert report["server_large"]["passages"] == 1500 and report["server_large"]["one_client"]["errors"] == 0
    text = (out / "bench.md").read_text(encoding="utf-8")
    for heading in ("## Objectifs de l'issue", "## Ingestion", "## Latence d'une question",
                    "## Passage à l'échelle", "## Mémoire du serveur"):
        assert heading in text, f"{heading} absent de bench.md"


def test_bench_command_writes_its_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MODEL", "hash")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--out", str(out), "--questions", "5", "--sizes", "500",
                                       "--server-passages", "0", "--no-http", "--no-langchain", "--no-model-prep"])
    assert result.exit_code == 0, result.output
    assert (out / "bench.md").is_file() and (out / "bench.json").is_file()
    bad = CliRunner().invoke(main, ["--sizes", "dix"])
    assert bad.exit_code == 2 and "--sizes" in bad.output
