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

from .chunking import chunk_document, passage_windows
from .config import PROJECT_ROOT, Settings
from .embed import Embedder
from .index import LoadedIndex, build_index, load_index
from .lexical import LexicalIndex, plain
from .schema import Document, Passage, Section
from .search import MODES, Searcher

SHARED = PROJECT_ROOT.parent / "shared"
BENCH = SHARED / "bench"
ANSSI = SHARED / "corpus-anssi"
QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
THEME_LABELS = PROJECT_ROOT / "eval" / "theme_labels.jsonl"
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
    answer: str = ""  # the gold answer span, where the benchmark gives one (PIAF, Service-Public)


@dataclass
class Dataset:
    name: str
    questions: list[EvalQuestion]
    index: LoadedIndex
    matcher: object  # (Passage, EvalQuestion) -> bool
    query_vectors: dict = field(default_factory=dict)  # question -> embedding, filled by `searcher_for`


def searcher_for(dataset: Dataset, embedder: Embedder, settings: Settings) -> Searcher:
    """A searcher over the dataset, its question embeddings read from the disk cache (computed once)."""
    if not dataset.query_vectors:
        questions = sorted({q.question for q in dataset.questions})
        digest = hashlib.sha256(("\x1e".join(questions) + embedder.name).encode()).hexdigest()[:16]
        cache = Path(settings.cache_dir) / "eval-vectors" / f"{dataset.name}-questions-{embedder.name}-{digest}.npy"
        if cache.exists():
            vectors = np.load(cache)
        else:
            vectors = np.vstack([embedder.embed_query(q).reshape(1, -1) for q in questions]).astype(np.float32)
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, vectors)
        dataset.query_vectors = dict(zip(questions, vectors))
    searcher = Searcher(dataset.index, embedder, settings)
    searcher.remember(dataset.query_vectors)
    return searcher


def in_memory_index(passages: list[Passage], embedder: Embedder, cache_dir: Path, name: str) -> LoadedIndex:
    """An index held in memory, with passage vectors cached on disk by content hash."""
    import faiss

    windows, owners = [], []
    for row, passage in enumerate(passages):
        for window in passage_windows(passage):
            windows.append(window)
            owners.append(row)
    digest = hashlib.sha256(("\x1e".join(windows) + embedder.name).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / "eval-vectors" / f"{name}-{embedder.name}-{digest}.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        t0 = time.perf_counter()
        vectors = embedder.embed_passages(windows)
        print(f"  {name} : {len(passages)} passages ({len(windows)} extraits) encodés en "
              f"{time.perf_counter() - t0:.0f} s")
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    manifest = {"passages": len(passages), "vectors": len(windows), "dim": int(vectors.shape[1]), "files": {}}
    return LoadedIndex(folder=Path(name), manifest=manifest, passages=passages, vectors=index,
                       lexical=LexicalIndex.build(passages), owners=np.asarray(owners, dtype=np.int64))


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _bench_questions(path: Path, limit: int | None) -> list[EvalQuestion]:
    """Questions of a benchmark file with their gold passage id; a fixed random sample when limited."""
    rows = _jsonl(path)
    if limit:
        rows = random.Random(0).sample(rows, min(limit, len(rows)))
    return [EvalQuestion(id=str(r["question_id"]), question=r["question"], gold=[{"id": str(r["passage_id"])}],
                         answer=r.get("answer") or "") for r in rows]


def load_piaf(embedder: Embedder, settings: Settings, limit: int | None = None) -> Dataset | None:
    if not (BENCH / "piaf_v1.0_passages.jsonl").exists():
        return None
    passages = [Passage(id=str(r["passage_id"]), text=r["text"], title=r["title"], source="PIAF (Wikipédia)",
                        doc_type="autre") for r in _jsonl(BENCH / "piaf_v1.0_passages.jsonl")]
    questions = _bench_questions(BENCH / "piaf_v1.0_questions_filtered1863.jsonl", limit)
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
    questions = _bench_questions(BENCH / "spf_dila_105_questions.jsonl", limit)
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
    searcher = searcher_for(dataset, embedder, settings)
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


# ---------------------------------------------------------------- abstention and the report


def abstention_study(dataset: Dataset, embedder: Embedder, settings: Settings) -> dict:
    """Calibrate the abstention weight and threshold on one half of the local questions, report on the other."""
    from .answer import issue_topic_found, signals, value_missing

    searcher = searcher_for(dataset, embedder, settings)
    lexical = dataset.index.lexical
    rows = []
    for q in dataset.questions:
        if searcher.uncovered_period(q.question) is not None:
            rows.append((q, 0.0, 0.0, False))  # an issue that is not indexed: refused whatever the threshold
            continue
        hits = searcher.search(q.question, k=settings.k)
        if value_missing(hits, q.question) is not None:
            rows.append((q, 0.0, 0.0, False))  # asks for a value no passage gives: refused whatever the threshold
            continue
        on_issue = issue_topic_found(hits, q.question)
        if on_issue is not None:  # a named issue: answered when it names the topic, whatever the threshold
            rows.append((q, float("inf"), 0.0, on_issue))
            continue
        rows.append((q, *signals(hits, q.question, lexical), bool(hits)))
    calibrate = [r for r in rows if int(hashlib.md5(r[0].id.encode()).hexdigest(), 16) % 2 == 0]
    held_out = [r for r in rows if r not in calibrate]

    def rates(part, threshold, weight):
        refused = [(q.in_scope, (not has) or best + weight * cov < threshold) for q, best, cov, has in part]
        oos = [r for scope, r in refused if not scope]
        ins = [r for scope, r in refused if scope]
        return (sum(oos) / len(oos) if oos else 0.0, sum(ins) / len(ins) if ins else 0.0, len(oos), len(ins))

    best_choice, best_value = (0.0, 0.0), -1.0
    for weight in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3):
        for threshold in sorted({round(b + weight * c, 4) for _, b, c, _ in calibrate}):
            oos_rate, in_rate, _, _ = rates(calibrate, threshold, weight)
            # In-scope refusals must stay rare (≤ 5 %); then refuse as many out-of-scope questions as possible.
            value = oos_rate - 10 * max(0.0, in_rate - 0.05) - 0.5 * in_rate
            if value > best_value:
                best_choice, best_value = (threshold, weight), value
    threshold, weight = best_choice
    cal, held = rates(calibrate, threshold, weight), rates(held_out, threshold, weight)
    shipped = settings.abstention()
    now = rates(held_out, *shipped)
    return {
        "calibrated_threshold": threshold, "calibrated_weight": weight,
        "calibration": {"oos_abstained": cal[0], "in_scope_abstained": cal[1], "n_oos": cal[2], "n_in": cal[3]},
        "held_out": {"oos_abstained": held[0], "in_scope_abstained": held[1], "n_oos": held[2], "n_in": held[3]},
        "shipped_threshold": shipped[0], "shipped_weight": shipped[1],
        "held_out_shipped": {"oos_abstained": now[0], "in_scope_abstained": now[1]},
    }


def theme_accuracy(passages: list[Passage], path: Path = THEME_LABELS) -> dict | None:
    """Share of hand-labelled passages whose practice and topic tags agree with the labels."""
    if not path.exists():
        return None
    by_start = {(Path(p.source).name, p.text[:60]): p for p in passages}
    found = practice_ok = topic_ok = 0
    for label in _jsonl(path):
        passage = by_start.get((Path(label["source"]).name, label["text_start"][:60]))
        if passage is None:
            continue
        found += 1
        practice_ok += passage.practice == label["practice"]
        topic_ok += passage.topic == label["topic"]
    if not found:
        return None
    return {"n": found, "practice_accuracy": practice_ok / found, "topic_accuracy": topic_ok / found}


def run_eval(settings: Settings, embedder: Embedder, datasets=("local", "piaf", "spf"), limit: int | None = None,
             out_dir: Path | None = None) -> dict:
    """Score every dataset with every method and write eval/results.{md,json,png}."""
    loaders = {"local": lambda: load_local(embedder, settings), "piaf": lambda: load_piaf(embedder, settings, limit),
               "spf": lambda: load_spf(embedder, settings, limit)}
    report: dict = {"model": embedder.name, "settings": settings.fingerprint_fields(),
                    "dense_weight": settings.dense_weight, "datasets": {}, "skipped": []}
    started = time.perf_counter()
    for name in datasets:
        t0 = time.perf_counter()
        dataset = loaders[name]()
        if dataset is None:
            report["skipped"].append(name)
            print(f"  {name} : ignoré (données absentes de ../shared)")
            continue
        entry = {"questions": len(dataset.questions), "passages": dataset.index.size,
                 "methods": score_dataset(dataset, embedder, settings)}
        if any(q.answer for q in dataset.questions):
            entry["answer"] = answer_study(dataset, embedder, settings)
        if name == "local":
            report["themes"] = theme_accuracy(dataset.index.passages)
            entry["abstention"] = abstention_study(dataset, embedder, settings)
            entry["by_kind"] = _by_kind(dataset, embedder, settings)
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        report["datasets"][name] = entry
        print(format_table({name: entry}))
    report["seconds"] = round(time.perf_counter() - started, 1)
    if out_dir is not None:
        write_report(report, out_dir)
    return report


def answer_study(dataset: Dataset, embedder: Embedder, settings: Settings) -> dict:
    """How often the extractive answer (threshold aside) holds the benchmark's gold answer span, and its length."""
    from .answer import compose_answer

    searcher = searcher_for(dataset, embedder, settings)
    lexical = dataset.index.lexical
    held, refused, lengths = 0, 0, []
    asked = [q for q in dataset.questions if q.answer]
    for q in asked:
        answer = compose_answer(q.question, searcher.search(q.question, k=settings.k), lexical=lexical,
                                following=dataset.index.following)
        held += plain(q.answer) in plain(answer.text)
        refused += answer.abstained  # without a threshold, only the value check refuses
        lengths.append(len(answer.text))
    n = len(asked) or 1
    return {"n": len(asked), "contains_gold": held / n, "value_refused": refused / n,
            "mean_chars": round(sum(lengths) / len(lengths), 1) if lengths else 0.0}


def _by_kind(dataset: Dataset, embedder: Embedder, settings: Settings) -> dict:
    searcher = searcher_for(dataset, embedder, settings)
    kinds: dict[str, list] = {}
    for q in dataset.questions:
        if not q.in_scope:
            continue
        hits = searcher.search(q.question, k=10)
        kinds.setdefault(q.kind or "autre", []).append(
            next((h.rank for h in hits if dataset.matcher(h.passage, q)), None))
    return {kind: _metrics(ranks) for kind, ranks in sorted(kinds.items())}


def format_table(datasets: dict) -> str:
    lines = ["| jeu | méthode | questions | R@1 | R@5 | MRR@10 |", "|---|---|---|---|---|---|"]
    for name, entry in datasets.items():
        for method, m in entry["methods"].items():
            lines.append(f"| {name} | {METHOD_LABELS.get(method, method)} | {m['n']} | {m['R@1']:.3f} | "
                         f"{m['R@5']:.3f} | {m['MRR@10']:.3f} |")
    return "\n".join(lines)


def write_report(report: dict, out_dir: Path) -> None:
    """results.md (tables), results.json (everything) and results.png (chart)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    md = ["# Évaluation de la recherche", "",
          f"Modèle : `{report['model']}` — réglages : `{json.dumps(report['settings'], ensure_ascii=False)}` — "
          f"poids dense de la fusion : {report['dense_weight']} — durée : {report['seconds']} s.", "",
          "Produit par `assistant eval` (`make eval`). R@k : part des questions dont un bon passage est dans les k "
          "premiers ; MRR@10 : moyenne de 1/rang du premier bon passage. Questions hors sujet exclues de ces mesures.",
          "", format_table(report["datasets"]), ""]
    answered = {name: entry["answer"] for name, entry in report["datasets"].items() if entry.get("answer")}
    if answered:
        md += ["## La réponse extractive", "",
               "Part des questions dont la réponse de l'assistant (les phrases citées au-dessus des sources, sans "
               "seuil d'abstention) contient la réponse attendue du jeu, à la casse, aux accents et à la ponctuation "
               "près ; part des questions refusées par le contrôle de la valeur demandée (toutes ont pourtant une "
               "réponse dans leur passage) ; longueur moyenne de la réponse.", "",
               "| jeu | questions | réponse contient la réponse attendue | refusées faute de valeur | "
               "longueur moyenne (caractères) |", "|---|---|---|---|---|"]
        md += [f"| {name} | {a['n']} | {a['contains_gold']:.3f} | {a['value_refused']:.1%} | {a['mean_chars']:.0f} |"
               for name, a in answered.items()]
        md.append("")
    local = report["datasets"].get("local")
    if local:
        ab = local["abstention"]
        md += ["## Abstention (jeu local)", "",
               "Confiance = meilleure similarité dense + poids × part (pondérée par l'IDF) des mots de la question "
               "présents dans le premier passage ; en dessous du seuil, l'assistant dit qu'il n'a pas trouvé. "
               "Une question qui demande une valeur (montant, taux, nombre, durée, date, téléphone, adresse, nom…) "
               "est refusée quel que soit le seuil quand aucun des cinq passages affichés n'en donne une près du mot "
               "sur lequel elle porte (`assistant/asked.py`), comme une question sur un bulletin non indexé. "
               "Une question sur un bulletin nommé (« le dernier bulletin », « la veille de mars 2025 ») est "
               "répondue quel que soit le seuil quand un mot de son sujet figure dans les trois premiers passages, "
               "refusée sinon.", "",
               f"Calibré sur une moitié des questions : seuil {ab['calibrated_threshold']:.4f}, poids "
               f"{ab['calibrated_weight']} (livré : seuil {ab['shipped_threshold']:.4f}, poids {ab['shipped_weight']}).",
               "",
               "| moitié | hors sujet refusées | dans le sujet refusées |", "|---|---|---|",
               f"| calibration | {ab['calibration']['oos_abstained']:.1%} ({ab['calibration']['n_oos']}) | "
               f"{ab['calibration']['in_scope_abstained']:.1%} ({ab['calibration']['n_in']}) |",
               f"| test (seuil calibré) | {ab['held_out']['oos_abstained']:.1%} ({ab['held_out']['n_oos']}) | "
               f"{ab['held_out']['in_scope_abstained']:.1%} ({ab['held_out']['n_in']}) |",
               f"| test (seuil livré) | {ab['held_out_shipped']['oos_abstained']:.1%} | "
               f"{ab['held_out_shipped']['in_scope_abstained']:.1%} |", "",
               "## Jeu local par type de question (assistant)", "",
               "| type | questions | R@1 | R@5 | MRR@10 |", "|---|---|---|---|---|"]
        for kind, m in local["by_kind"].items():
            md.append(f"| {kind} | {m['n']} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['MRR@10']:.3f} |")
        md.append("")
    if report.get("themes"):
        t = report["themes"]
        md += ["## Étiquetage des thèmes", "",
               f"Sur {t['n']} passages étiquetés à la main (`eval/theme_labels.jsonl`) : "
               f"pratique {t['practice_accuracy']:.3f}, sujet {t['topic_accuracy']:.3f}.", ""]
    if report["skipped"]:
        md.append(f"Jeux ignorés (données absentes) : {', '.join(report['skipped'])}.")
    (out_dir / "results.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    _chart(report, out_dir / "results.png")


def _chart(report: dict, path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = list(report["datasets"])
    if not names:
        return
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        methods = report["datasets"][name]["methods"]
        metrics = ["R@1", "R@5", "MRR@10"]
        width = 0.8 / max(1, len(methods))
        for i, (method, values) in enumerate(methods.items()):
            ax.bar([x + i * width for x in range(len(metrics))], [values[m] for m in metrics], width,
                   label=METHOD_LABELS.get(method, method))
        ax.set_xticks([x + width * (len(methods) - 1) / 2 for x in range(len(metrics))], metrics)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} ({report['datasets'][name]['questions']} questions)")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
