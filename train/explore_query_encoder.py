"""Exploration: a query encoder fine-tuned for the programme's documents, the passages keeping their vectors.

A copy of e5-small encodes the questions; its top TOP layers are trained so that a question lands near its
passage's stored vectors among every candidate passage (InfoNCE over a fixed matrix: no passage is re-encoded,
an index keeps its vectors, and training reads only short questions, about 1.5 min an epoch on 2 cores). Training
questions: `train/blind_sections.jsonl` and `train/blind_situations.jsonl` (positives: every passage of the
section written for, in the corpus + ANSSI evaluation index), and with piaf=1 PIAF's training half less a
validation quarter (chosen by title). Never the blind set, Service-Public, or PIAF's held-out half (not even as
negatives).

Reports, before training and after each epoch: dense R@1 / R@5 on PIAF's validation quarter (against all PIAF
passages, windows mixed as the searcher mixes them) and dense top 1 / 3 on the blind set's dev half; at the end,
the fused ranking of the blind dev half, the shipped corpus's dev half and the local dev half with the tuned
question vectors for retrieval (the neighbours prior still reads the shipped encoder's, which its training
questions were encoded with).

    .venv/bin/python train/explore_query_encoder.py epochs=3 > /tmp/query-encoder.log 2>&1 &

Run on 2026-12-07 (session 20; numbers in eval/attempts.md). Not part of the product: serving it needs an ONNX
export of the tuned layers and the scope, certainty and neighbours kept on the shipped encoder's vectors.
"""
from __future__ import annotations

import hashlib
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from assistant import evaluate as ev
from assistant.config import load_settings
from assistant.e5_convert import ensure_e5_model
from assistant.embed import get_embedder
from assistant.search import WHOLE_WEIGHT, Searcher

args = dict(a.split("=") for a in sys.argv[1:] if "=" in a)
TOP, EPOCHS = int(args.get("top", 2)), int(args.get("epochs", 3))
LR, BATCH, TAU = float(args.get("lr", 3e-5)), int(args.get("batch", 32)), float(args.get("tau", 0.05))
PIAF = int(args.get("piaf", 1))
TRAINING = (Path("train/blind_sections.jsonl"), Path("train/blind_situations.jsonl"))


def validation_quarter(title: str) -> bool:
    return int(hashlib.md5(("val" + title).encode()).hexdigest(), 16) % 4 == 0


def passage_scores(queries: np.ndarray, index) -> np.ndarray:
    """Each question's dense score of each passage, as the searcher mixes them (without the rule `asks`)."""
    return np.vstack([index.all_passage_scores(query, WHOLE_WEIGHT, asking=False) for query in queries])


def main() -> None:
    torch.manual_seed(0), random.seed(0), np.random.seed(0), torch.set_num_threads(2)
    settings = load_settings()
    embedder = get_embedder(settings.model, settings.cache_dir, settings.encoder)
    piaf, natural = ev.load_piaf(embedder, settings), ev.load_natural(embedder, settings)
    piaf_row = {p.id: row for row, p in enumerate(piaf.index.passages)}
    title = lambda q: piaf.index.passages[piaf_row[q.gold[0]["id"]]].title  # noqa: E731
    piaf_dev = [q for q in piaf.questions if q.split == "dev"]
    piaf_val = [q for q in piaf_dev if validation_quarter(title(q))]
    blind_dev = [q for q in natural.questions if q.split == "dev" and q.scope == "answerable"]

    # Candidates: PIAF's training passages, then every corpus + ANSSI passage (whole-passage vectors).
    piaf_rows = [row for row, p in enumerate(piaf.index.passages)
                 if not ev.md5_half(p.title) and not validation_quarter(p.title)]
    position = {row: i for i, row in enumerate(piaf_rows)}
    starts = natural.index.window_ranges()
    candidates = torch.tensor(np.vstack([np.asarray(piaf.index.matrix())[piaf.index.window_ranges()[piaf_rows]],
                                         np.asarray(natural.index.matrix())[starts[:-1]]]))
    examples = [(q.question, [position[piaf_row[q.gold[0]["id"]]]]) for q in piaf_dev
                if PIAF and not validation_quarter(title(q))]
    rows_of: dict[tuple[str, str], list[int]] = {}
    for row, p in enumerate(natural.index.passages):
        rows_of.setdefault((Path(p.source).name, p.section or ""), []).append(len(piaf_rows) + row)
    for path in TRAINING:
        for r in ev.read_jsonl(path):
            doc, section = Path(r["gold"][0]["doc"]).name, r["gold"][0]["section"] or ""
            positives = [i for (d, s), rows in rows_of.items() if d == doc
                         and (s == section or s.startswith(f"{section} › ")) for i in rows]
            if positives:
                examples.append((r["question"], positives))
    print(f"{len(examples)} training questions, {len(piaf_val)} PIAF validation, {len(candidates)} candidates",
          flush=True)

    model = SentenceTransformer(str(ensure_e5_model(settings.cache_dir)), device="cpu", local_files_only=True)

    def encode(questions: list[str]) -> np.ndarray:
        return model.encode(questions, prompt_name="query", batch_size=64, normalize_embeddings=True)

    def report(tag: str) -> None:
        scores = passage_scores(encode([q.question for q in piaf_val]), piaf.index)
        gold = np.array([piaf_row[q.gold[0]["id"]] for q in piaf_val])
        rank = (scores > scores[np.arange(len(gold)), gold][:, None]).sum(1)
        top = np.argsort(-passage_scores(encode([q.question for q in blind_dev]), natural.index), 1)[:, :3]
        good = [[natural.matcher(natural.index.passages[r], q) for r in top[i]] for i, q in enumerate(blind_dev)]
        print(f"{tag}: PIAF validation dense R@1 {np.mean(rank == 0):.3f} R@5 {np.mean(rank < 5):.3f}; blind dev "
              f"dense top 1 {np.mean([g[0] for g in good]):.3f} top 3 {np.mean([any(g) for g in good]):.3f}",
              flush=True)

    report("before")
    bert = model[0].auto_model
    for p in bert.parameters():
        p.requires_grad = False
    trained = [p for layer in bert.encoder.layer[-TOP:] for p in layer.parameters()]
    for p in trained:
        p.requires_grad = True
    optimiser = torch.optim.AdamW(trained, lr=LR, weight_decay=0.01)
    prompt, start = model.prompts["query"], time.time()
    for epoch in range(EPOCHS):
        random.shuffle(examples)
        model.train()
        for i in range(0, len(examples), BATCH):
            batch = examples[i:i + BATCH]
            vectors = model(model.tokenize([prompt + q for q, _ in batch]))["sentence_embedding"]
            logits = torch.nn.functional.normalize(vectors, dim=-1) @ candidates.T / TAU
            positive = torch.full_like(logits, float("-inf"))
            for j, (_, rows) in enumerate(batch):
                positive[j, rows] = 0.0
            loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits + positive, 1)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            report(f"epoch {epoch + 1} ({time.time() - start:.0f} s)")

    # The fused ranking with the tuned question vectors for retrieval; the neighbours prior keeps the shipped ones.
    tuned: dict[str, np.ndarray] = {}
    shipped_vector, shipped_prior = Searcher.query_vector, Searcher.section_prior
    reading_prior = [False]

    def query_vector(self, question):
        key = self.dense_text(question)
        return tuned[key] if key in tuned and not reading_prior[0] else shipped_vector(self, question)

    def section_prior(self, question):
        reading_prior[0] = True
        try:
            return shipped_prior(self, question)
        finally:
            reading_prior[0] = False

    Searcher.query_vector, Searcher.section_prior = query_vector, section_prior
    for name, load in (("natural", ev.load_natural), ("natural-shipped", ev.load_natural_shipped),
                       ("local", ev.load_local)):
        dataset = load(embedder, settings)
        dataset.questions = [q for q in dataset.questions if q.split == "dev" and q.scope == "answerable"]
        for label in ("shipped", "tuned"):
            tuned.clear()
            if label == "tuned":
                texts = sorted({Searcher(dataset.index, None, settings).dense_text(q.question)
                                for q in dataset.questions})
                tuned.update({t: v.reshape(1, -1) for t, v in zip(texts, encode(texts))})
            fused = ev.score_dataset(dataset, embedder, settings, methods=("hybrid",))["hybrid"]
            print(f"{name} dev, fused, {label} question vectors: R@1 {fused['R@1']:.3f} R@5 {fused['R@5']:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
