"""The question bank of the off-topic check (scope.QuestionBank): nearer questions off the documents counts down."""
import json

import numpy as np
import pytest

from assistant import rules
from assistant.embed import HashEmbedder
from assistant.scope import QuestionBank

ON = [("comment signer la charte cybersécurité des prestataires informatiques", "charte.pdf"),
      ("que faire après une attaque par rançongiciel dans mon entreprise", "memo.pdf"),
      ("quelles précautions pour un ordinateur portable en voyage à l'étranger", "memo.pdf")]
OFF = ["quelle température pour cuire un rôti de porc au four",
       "comment calculer les congés payés d'un salarié à temps partiel",
       "quel thème gratuit pour le site de mon restaurant",
       "combien de joueurs dans une équipe de handball",
       "comment refaire la clé de ma boîte aux lettres",
       "recette facile de la tarte aux pommes normande"]


class QueryCounter(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.queries = 0

    def embed_query(self, text):
        self.queries += 1
        return super().embed_query(text)


@pytest.fixture
def bank(tmp_path):
    on, off = tmp_path / "on.jsonl", tmp_path / "off.jsonl"
    on.write_text("".join(json.dumps({"question": q, "gold": [{"doc": d}]}) + "\n" for q, d in ON), encoding="utf-8")
    off.write_text("".join(json.dumps({"kind": 1, "text": t}) + "\n" for t in OFF), encoding="utf-8")
    return lambda embedder=None: QuestionBank(embedder or HashEmbedder(), tmp_path / "cache", (on,), off)


def _vector(text):
    return HashEmbedder().embed_query(text)


def _nearness(bank, question, *sources):
    """The bank's signal for `question` as the scope reads it over an index of documents at `sources`."""
    from assistant.scope import Background, Scope

    class Searcher:
        class index:
            passages = [type("P", (), {"source": source})() for source in sources]

    scope = Scope(Background(HashEmbedder(), bank.cache_dir), bank_weight=3.0, bank=bank)
    return scope.nearness(Searcher(), _vector(question))


def test_a_question_nearer_the_off_topic_questions_counts_down(bank):
    documents = ("corpus/charte.pdf", "corpus/memo.pdf")
    assert _nearness(bank(), "quelle température pour cuire un rôti de porc", *documents) < -0.1
    # Nearer the documents' own questions: capped at 0, the other signals decide.
    assert _nearness(bank(), "comment signer la charte cybersécurité", *documents) == 0.0


def test_without_questions_about_the_index_documents_the_bank_says_nothing(bank):
    # An index of other documents (PIAF): its questions are not compared with the off-topic ones.
    assert _nearness(bank(), "quelle température pour cuire un rôti de porc", "piaf/piaf.txt") == 0.0
    assert not bank().about(frozenset({"piaf.txt"}))


def test_once_the_index_holds_a_document_of_the_bank_every_on_topic_question_counts(bank):
    # The charter's question counts in an index of the memo alone: a question on the programme's topics is on
    # them whichever of its documents the index holds.
    assert bank().about(frozenset({"memo.pdf"}))
    question = "comment signer la charte cybersécurité des prestataires informatiques"
    assert _nearness(bank(), question, "corpus/memo.pdf") == 0.0


def test_the_bank_is_encoded_once_then_read_from_the_cache(bank):
    first = QueryCounter()
    on, off, docs = bank(first).vectors()
    assert first.queries == len(ON) + len(OFF) and on.shape[0] == len(ON) and off.shape[0] == len(OFF)
    assert docs == {d for _, d in ON}
    second = QueryCounter()
    again = bank(second).vectors()
    assert second.queries == 0 and np.allclose(again[0], on) and np.allclose(again[1], off)


def test_a_missing_bank_file_leaves_the_signal_at_zero(tmp_path):
    empty = QuestionBank(HashEmbedder(), tmp_path / "cache", (tmp_path / "absent.jsonl",), tmp_path / "absent2.jsonl")
    assert _nearness(empty, "recette de la tarte aux pommes", "corpus/memo.pdf") == 0.0


def test_the_rule_bank_switched_off_reads_no_bank(bank):
    question = "quelle température pour cuire un rôti de porc"
    assert _nearness(bank(), question, "corpus/memo.pdf") < 0.0
    with rules.switched_off("bank"):
        assert _nearness(bank(), question, "corpus/memo.pdf") == 0.0


def test_a_follow_up_read_alone_is_judged_without_the_bank(bank, monkeypatch):
    from assistant.scope import Background, Scope

    scope = Scope(Background(HashEmbedder(), bank().cache_dir), threshold=0.0, bank_weight=3.0, bank=bank())
    # A margin just above the threshold: only the bank's pull puts the question under it.
    monkeypatch.setattr(Scope, "signals", lambda self, searcher, query: (0.01, 1.0, 0.0, -0.05))

    class Searcher:
        class index:
            size = 1

    assert scope.off_topic(Searcher(), "et si un salarié perd son téléphone ?")
    assert not scope.off_topic(Searcher(), "et si un salarié perd son téléphone ?", bank=False)
