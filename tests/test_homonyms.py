"""Words of the documents used in their everyday sense, left out of the off-topic check (homonyms.py)."""
from __future__ import annotations

import pytest

from assistant import rules
from assistant.homonyms import Homonyms, homonyms


@pytest.mark.parametrize("question, read", [
    ("Quel pare-feu choisir pour une cheminée à foyer ouvert ?", "quel choisir pour une cheminee a foyer ouvert ?"),
    ("Mon fils a un mauvais bulletin scolaire", "mon fils a un mauvais scolaire"),
    ("Je dois refaire ma charte graphique et mon logo", "je dois refaire ma graphique et mon logo"),
])
def test_a_word_in_its_everyday_sense_is_left_out(question, read):
    assert homonyms().everyday(question) == read


@pytest.mark.parametrize("question", [
    "comment configurer le pare-feu de mon serveur ?", "ma clé USB est infectée, que faire ?",
    "que dit le bulletin de veille de mars sur les rançongiciels ?", "la charte cyber pour les prestataires",
    "un virus a chiffré nos fichiers",
])
def test_a_word_in_the_documents_sense_is_kept(question):
    assert homonyms().everyday(question) is None


def test_the_rule_off_reads_every_question_as_typed():
    with rules.switched_off("homonyms"):
        assert homonyms().everyday("Quel pare-feu choisir pour une cheminée ?") is None


def test_a_bad_line_names_the_file_and_the_line(tmp_path):
    bad = tmp_path / "homonyms.tsv"
    bad.write_text("# comment\npare-feu\tcheminee\nvirus sans contexte\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"homonyms.tsv, ligne 3"):
        Homonyms.load(bad)
    bad.write_text("cle(\tvoiture\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"ligne 1 : expression invalide"):
        Homonyms.load(bad)
