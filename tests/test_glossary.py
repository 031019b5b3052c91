"""English and colloquial words read as the French the documents write (glossary.py)."""
from __future__ import annotations

import pytest

from assistant import rules
from assistant.glossary import Glossary, glossary
from assistant.lexical import analyze

INDEX_WORDS = set(analyze("hypertrucages rançongiciel hameçonnage phishing mot de passe messagerie instantanée "
                          "réseau social"))


def knows(text: str) -> bool:
    stems = analyze(text)
    return bool(stems) and all(t in INDEX_WORDS for t in stems)


def test_a_word_the_index_lacks_is_read_as_the_equivalent_it_holds():
    read = glossary().read
    assert read("les deepfakes, un vrai risque ?", knows) == "les hypertrucages, un vrai risque ?"
    assert read("Ransomware sur le serveur", knows) == "rançongiciel sur le serveur"
    # The index holds « phishing »: left as typed. « spam »'s equivalent is not in the index: left too.
    assert read("phishing et spam", knows) == "phishing et spam"
    assert read("mon mdp fuité", knows) == "mon mot de passe fuité"
    # A product the documents name by its kind only.
    assert read("et sur whatsapp ?", knows) == "et sur messagerie instantanée ?"
    assert read("ma page Facebook piratée", knows) == "ma page réseau social piratée"
    # Whole words only: « mailing » is not « mail ».
    assert read("un mailing", lambda text: text != "mail") == "un mailing"


def test_the_rule_off_leaves_the_question_as_typed():
    with rules.switched_off("glossary"):
        assert glossary().read("les deepfakes", knows) == "les deepfakes"


def test_the_shipped_glossary_is_well_formed():
    entries = glossary().entries
    terms = [term.lower() for _, term, _ in entries]
    assert len(terms) >= 50 and len(terms) == len(set(terms)), "one entry a term"
    assert [len(t) for t in terms] == sorted((len(t) for t in terms), reverse=True), "longest first"


def test_a_bad_line_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "glossary.tsv"
    path.write_text("# comment\ndeepfake\thypertrucage\nransomware rançongiciel\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossary\.tsv, ligne 3"):
        Glossary.load(path)


def test_a_term_the_same_in_both_numbers_is_read_in_the_number_of_its_determiner():
    from assistant.glossary import glossary

    unknown = {"pc", "pcs"}
    def knows(text):
        return text.lower() not in unknown
    assert glossary().read("on veut donner nos vieux PC portables", knows) == "on veut donner nos vieux ordinateurs portables"
    assert glossary().read("mon pc portable est lent", knows) == "mon ordinateur portable est lent"
