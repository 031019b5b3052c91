"""Exploration: a small cross-encoder (e5-small's first layers) re-ranking the hybrid top 20.

Trains e5-small's first LAYERS layers (embeddings frozen) and a linear head on mean pooling, listwise (one
gold passage against NEG negatives from the shipped hybrid top 20), on `train/blind_sections.jsonl` and, with
--piaf, PIAF's training half; then reports R@1/R@3/R@5 of the top 20 re-ordered by a mix of the z-scored
cross-encoder and fused scores, on the blind dev half, the local set and 200 PIAF held-out questions.

    .venv/bin/python train/explore_cross.py --piaf minutes=90 layers=4 > /tmp/cross.log 2>&1 &

Run once on 2026-12-06 (40 min, 1,587 steps, 1.5 s a step on a quiet machine): below the fused ranking
alone, within noise mixed with it; the numbers are in eval/attempts.md. Not part of the product.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertModel

from assistant import evaluate as ev
from assistant.config import load_settings
from assistant.e5_convert import ensure_e5_model
from assistant.embed import get_embedder

args = dict(a.split("=") for a in sys.argv[1:] if "=" in a)
LAYERS = int(args.get("layers", 4))
MAXLEN = int(args.get("maxlen", 160))
NEG = int(args.get("neg", 7))
QPB = int(args.get("qpb", 4))
MINUTES = float(args.get("minutes", 15))
LR = float(args.get("lr", 5e-5))
torch.manual_seed(0)
torch.set_num_threads(2)
rng = np.random.default_rng(0)

settings = load_settings()
embedder = get_embedder(settings.model, settings.cache_dir, settings.encoder)
natural = ev.load_natural(embedder, settings)
piaf = ev.load_piaf(embedder, settings)
local = ev.load_local(embedder, settings)

source = ensure_e5_model(Path(settings.cache_dir))
tok = Tokenizer.from_file(str(source / "tokenizer.json"))
tok.enable_truncation(MAXLEN)
bert = BertModel.from_pretrained(str(source), local_files_only=True, attn_implementation="eager")
bert.encoder.layer = bert.encoder.layer[:LAYERS]
for p in bert.embeddings.parameters():
    p.requires_grad_(False)
head = torch.nn.Linear(bert.config.hidden_size, 1)
pad_id = tok.token_to_id("<pad>")


def passage_text(p):
    where = " — ".join(x for x in (p.title, p.section) if x)
    return f"{where}\n{p.text}"


def scores(question, passages, grad=False):
    enc = tok.encode_batch([("query: " + question, "passage: " + passage_text(p)) for p in passages])
    width = max(len(e.ids) for e in enc)
    ids = torch.full((len(enc), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(enc), width), dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, :len(e.ids)] = torch.tensor(e.ids)
        mask[i, :len(e.ids)] = 1
    with torch.set_grad_enabled(grad):
        h = bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1)
        return head(pooled).squeeze(-1)


def candidates(dataset, searcher, q, k=20):
    return searcher.search(q.question, k=k)


# Training items: (question, positives, negatives) from the hybrid top 20.
items = []
nat_search = ev.searcher_for(natural, embedder, settings)
for row in (json.loads(l) for l in open("train/blind_sections.jsonl", encoding="utf-8")):
    q = ev.load_local_row(row)
    hits = candidates(natural, nat_search, q)
    pos = [h.passage for h in hits if natural.matcher(h.passage, q)]
    if not pos:
        gold = [p for p in natural.index.passages if natural.matcher(p, q)]
        pos = gold[:1]
    neg = [h.passage for h in hits if not natural.matcher(h.passage, q)]
    if pos and neg:
        items.append((q.question, pos, neg))
n_sections = len(items)
if "--piaf" in sys.argv:
    piaf_search = ev.searcher_for(piaf, embedder, settings)
    for q in [q for q in piaf.questions if q.split == "dev"]:
        hits = candidates(piaf, piaf_search, q)
        pos = [h.passage for h in hits if piaf.matcher(h.passage, q)]
        neg = [h.passage for h in hits if not piaf.matcher(h.passage, q)]
        if pos and neg:
            items.append((q.question, pos, neg))
print("items", n_sections, len(items), flush=True)


def rerank_eval(name, dataset, questions, mixes=(0.0, 0.3, 0.5, 0.7, 1.0), k=20):
    bert.eval()
    searcher = ev.searcher_for(dataset, embedder, settings)
    ranks = {m: [] for m in mixes}
    base = []
    t0 = time.time()
    for q in questions:
        hits = searcher.search(q.question, k=k)
        gold = np.array([dataset.matcher(h.passage, q) for h in hits])
        base.append(int(np.argmax(gold)) + 1 if gold.any() else 99)
        if not gold.any():
            for m in mixes:
                ranks[m].append(99)
            continue
        ce = scores(q.question, [h.passage for h in hits]).numpy()
        ce = (ce - ce.mean()) / (ce.std() + 1e-6)
        fused = np.array([h.score for h in hits])
        fused = (fused - fused.mean()) / (fused.std() + 1e-6)
        for m in mixes:
            s = m * ce + (1 - m) * fused
            order = np.argsort(-s, kind="stable")
            ranks[m].append(int(np.flatnonzero(gold[order])[0]) + 1)
    per_q = (time.time() - t0) / max(1, len(questions))
    b = np.array(base)
    line = f"{name} ({len(questions)}, {per_q:.2f} s/q) base R@1 {np.mean(b <= 1):.3f} R@3 {np.mean(b <= 3):.3f}"
    for m in mixes:
        r = np.array(ranks[m])
        line += f" | mix {m}: R@1 {np.mean(r <= 1):.3f} R@3 {np.mean(r <= 3):.3f} R@5 {np.mean(r <= 5):.3f}"
    print(line, flush=True)
    bert.train()


nat_dev = [q for q in natural.questions if q.scope == "answerable" and q.split == "dev"]
piaf_test = [q for q in piaf.questions if q.split == "test"]
piaf_test = [piaf_test[i] for i in np.random.default_rng(1).choice(len(piaf_test), 200, replace=False)]
loc = [q for q in local.questions if q.in_scope]

params = [p for p in bert.parameters() if p.requires_grad]
opt = torch.optim.AdamW([{"params": params, "lr": LR}, {"params": head.parameters(), "lr": 1e-3}])
t0 = time.time()
step = 0
bert.train()
while time.time() - t0 < MINUTES * 60:
    batch = [items[i] for i in rng.choice(len(items), QPB, replace=False)]
    loss = 0.0
    for question, pos, neg in batch:
        chosen = [pos[rng.integers(len(pos))]] + [neg[i] for i in rng.choice(len(neg), min(NEG, len(neg)), replace=False)]
        s = scores(question, chosen, grad=True)
        loss = loss + torch.nn.functional.cross_entropy(s.unsqueeze(0), torch.zeros(1, dtype=torch.long))
    loss = loss / QPB
    opt.zero_grad()
    loss.backward()
    opt.step()
    step += 1
    if step % 25 == 0:
        print(f"step {step} loss {float(loss):.3f} {time.time() - t0:.0f}s", flush=True)
print("trained steps", step, flush=True)
torch.save({"bert": bert.state_dict(), "head": head.state_dict()}, "/tmp/cross.pt")
rerank_eval("natural-dev", natural, nat_dev)
rerank_eval("local", local, loc)
rerank_eval("piaf-test-200", piaf, piaf_test)
