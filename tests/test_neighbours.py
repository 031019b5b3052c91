"""The training questions read as neighbours (neighbours.py, rule `neighbours`): real FAISS, the hash embedder."""
import json
from pathlib import Path

import numpy as np
import pytest

from assistant import neighbours, rules
from assistant.config import Settings
from assistant.embed import HashEmbedder
from assistant.index import build_index, load_index
from assistant.neighbours import TRAINING, SectionQuestions, section_keys
from assistant.search import Searcher

ROOT = Path(__file__).resolve().parent.parent

CORPUS = {
    "memo.md": "# Mémo\n\n## Voyager à l'étranger\n\nEmportez un ordinateur vidé de ses données sensibles et gardez-le "
               "sur vous pendant tout le séjour.\n\n## Choisir ses investisseurs\n\nAvant d'ouvrir votre capital, "
               "vérifiez qui contrôle réellement le fonds et d'où viennent ses ressources.\n",
    "charte.md": "# Charte\n\n## Engagements des signataires\n\nLe prestataire signale sans délai tout incident de "
                 "sécurité à son client et tient à jour ses outils.\n",
}
# Written for a section whose passages share no word with the question asked below.
TRAINING_ROWS = [("un groupe venu de loin veut entrer dans ma boite, je fais quoi", "memo.md",
                  "Choisir ses investisseurs"),
                 ("mon prestataire a eu un souci, il doit me prévenir ?", "charte.md", "Engagements des signataires"),
                 ("je pars en salon au japon avec mon portable", "memo.md", "Voyager à l'étranger")]


@pytest.fixture
def built(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    training = tmp_path / "training.jsonl"
    training.write_text("".join(json.dumps({"question": q, "gold": [{"doc": d, "section": s}]}, ensure_ascii=False)
                                + "\n" for q, d, s in TRAINING_ROWS), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus_dirs=(corpus,), cache_dir=tmp_path / "cache", model="hash")
    build_index([corpus], settings, HashEmbedder(), show_progress=False)
    # The hash model has no fitted settings: give it some, with a weight that lets the prior decide.
    monkeypatch.setitem(neighbours.SETTINGS, "hash", (2, 0.05, 2.0))
    index = load_index(settings.index_dir, settings)
    return Searcher(index, HashEmbedder(), settings, SectionQuestions(HashEmbedder(), tmp_path / "cache", (training,)))


def test_shares_sum_to_one_and_favour_the_nearest_question(built):
    query = HashEmbedder().embed_query("un groupe venu de loin veut entrer dans ma boite")
    shares = built.neighbours.within().shares(query, 2, 0.05)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert max(shares, key=shares.get) == ("memo.md", "Choisir ses investisseurs")


def test_the_section_the_nearest_training_questions_were_written_for_comes_first(built):
    # Its one word the passages hold (« ordinateur ») is the travel section's.
    question = "un groupe venu de loin veut entrer dans ma boite, mon ordinateur"
    first = built.search(question, k=3)[0].passage
    assert first.section == "Choisir ses investisseurs"
    with rules.switched_off("neighbours"):
        assert built.search(question, k=3)[0].passage.section != "Choisir ses investisseurs"


def test_no_prior_without_settings_for_the_model_or_without_training_questions(built, tmp_path, monkeypatch):
    assert built.section_prior("un groupe venu de loin") is not None
    monkeypatch.setitem(neighbours.SETTINGS, "hash", None)
    assert Searcher(built.index, HashEmbedder(), built.settings).section_prior("un groupe venu de loin") is None
    monkeypatch.setitem(neighbours.SETTINGS, "hash", (2, 0.05, 2.0))
    absent = SectionQuestions(HashEmbedder(), tmp_path / "cache", (tmp_path / "absent.jsonl",))
    assert Searcher(built.index, HashEmbedder(), built.settings, absent).section_prior("un groupe venu de loin") is None


def test_vectors_are_read_from_the_cache_the_second_time(built, tmp_path):
    class Counting(HashEmbedder):
        calls = 0

        def embed_query(self, text):
            Counting.calls += 1
            return super().embed_query(text)

    paths = built.neighbours.paths
    SectionQuestions(Counting(), tmp_path / "cache2", paths).vectors()
    first = Counting.calls
    SectionQuestions(Counting(), tmp_path / "cache2", paths).vectors()
    assert first == len(TRAINING_ROWS) and Counting.calls == first


@pytest.fixture(scope="module")
def shipped_keys(tmp_path_factory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("neighbours") / "index", model="hash")
    build_index([ROOT / "corpus"], settings, HashEmbedder(), show_progress=False)
    return {key for p in load_index(settings.index_dir, settings).passages for key in section_keys(p.source, p.section)}


@pytest.mark.parametrize("path", TRAINING, ids=lambda p: p.name)
def test_the_training_questions_name_sections_the_shipped_corpus_has(path, shipped_keys):
    """A reader that renamed headings would leave the prior pointing at nothing: each training question written on
    corpus/ names a section an index of it holds."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus_rows = [r for r in rows if r["source"] == "corpus"]
    assert len(corpus_rows) >= 300
    missing = [r["gold"][0] for r in corpus_rows if (r["gold"][0]["doc"], r["gold"][0]["section"]) not in shipped_keys]
    assert not missing, f"{len(missing)} sections not in the index, e.g. {missing[:3]}"


def test_a_section_holds_its_sub_sections_passages(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "memo.md").write_text("# Mémo\n\n## Voyager\n\n### Au retour\n\nFaites analyser l'ordinateur rapporté du "
                                    "séjour avant de le rebrancher.\n\n## Contacts\n\nÉcrivez au chargé de mission "
                                    "pour un rendez-vous.\n", encoding="utf-8")
    training = tmp_path / "training.jsonl"
    training.write_text(json.dumps({"question": "retour de chine avec mon portable", "gold": [
        {"doc": "memo.md", "section": "Voyager"}]}, ensure_ascii=False) + "\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus_dirs=(corpus,), cache_dir=tmp_path / "cache", model="hash")
    build_index([corpus], settings, HashEmbedder(), show_progress=False)
    monkeypatch.setitem(neighbours.SETTINGS, "hash", (2, 0.05, 2.0))
    index = load_index(settings.index_dir, settings)
    questions = SectionQuestions(HashEmbedder(), tmp_path / "cache", (training,))
    searcher = Searcher(index, HashEmbedder(), settings, questions)
    prior = searcher.section_prior("retour de chine avec mon portable")
    boosted = {index.passages[row].section for row in np.flatnonzero(prior)}
    assert boosted == {"Voyager › Au retour"}


def test_a_follow_up_read_with_the_turn_before_is_left_to_the_fusion(built):
    from assistant import stages
    from assistant.followup import READ_WITH
    from assistant.query import Query

    pool = (np.arange(built.index.size), np.zeros(built.index.size, dtype=np.float32))
    context = stages.Context(built)
    alone = stages.neighbours(Query.parse("un groupe venu de loin veut entrer dans ma boite"), pool, context)
    assert alone[1].max() > 0
    read = stages.neighbours(Query.parse(f"et après ?{READ_WITH}un groupe venu de loin veut entrer dans ma boite"),
                             pool, context)
    assert read[1].max() == 0
