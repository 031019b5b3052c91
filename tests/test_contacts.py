"""What an uncertain or off-topic answer points to: contacts and nearest topics read from the index."""
from types import SimpleNamespace

import numpy as np

from assistant.contacts import contacts_of, nearest_contacts, nearest_topics
from assistant.schema import Passage


def _index(*texts_and_sections):
    return SimpleNamespace(passages=[Passage(id=f"p{i}", text=text, title=f"Doc {i % 2}", source=f"doc{i % 2}.pdf",
                                             section=section, page=None, doc_type="memo")
                                     for i, (text, section) in enumerate(texts_and_sections)])


INDEX = _index(
    ("Les sauvegardes doivent être testées. Rien à contacter ici.", "Partie 1 › Sauvegardes"),
    ("- Mission IE de la Région : ie@exemple-normandie.fr", "Contacts"),
    ("Victime ? Alertez votre prestataire, puis contactez 17Cyber. Gardez les preuves.", "Qui contacter ? › Urgence"),
    ("Écrivez à ie@exemple-normandie.fr pour toute question.", "Accompagnement"),
    ("Besoin Qui Quoi " * 20 + "Diagnostic MonAideCyber (ANSSI) gratuit " + "Brevets marques dessins " * 10,
     "Qui contacter ?"),
)


def test_contacts_are_the_sentences_that_give_one_without_their_list_marker():
    found = contacts_of(INDEX)
    assert [c.row for c in found] == [1, 2, 3, 4]
    assert found[0].text == "Mission IE de la Région : ie@exemple-normandie.fr"
    assert found[1].text == "Alertez votre prestataire, puis contactez 17Cyber."
    # A table read as one long run of text: the words around the contact, not the whole run.
    assert "MonAideCyber" in found[3].text and len(found[3].text) < 220 and found[3].text.startswith("… ")


def test_nearest_contacts_follow_the_question_name_an_address_once_and_skip_what_is_shown():
    contacts = contacts_of(INDEX)
    scores = np.array([0.9, 0.5, 0.8, 0.7, 0.1], dtype=np.float32)
    assert [c.row for c in nearest_contacts(scores, contacts)] == [2, 3]
    # The same address on two pages is named once: rows 3 and 1 both give ie@…
    assert [c.row for c in nearest_contacts(scores, contacts, n=3)] == [2, 3, 4]
    assert [c.row for c in nearest_contacts(scores, contacts, shown=frozenset({"p2"}))] == [3, 4]
    # Off topic: an address, not a named service.
    assert [c.row for c in nearest_contacts(scores, contacts, n=1, addresses_only=True)] == [3]


def test_nearest_topics_are_distinct_headings_closest_first():
    scores = np.array([0.9, 0.5, 0.8, 0.7, 0.85], dtype=np.float32)
    assert nearest_topics(scores, INDEX, n=2) == ["« Sauvegardes » (Doc 0)", "« Qui contacter ? » (Doc 0)"]


def test_a_table_row_gives_what_it_is_about_and_the_cell_with_the_contact():
    row = ("– Diagnostic de cybersécurité — À qui vous adresser : MonAideCyber (ANSSI), prestataires signataires de la "
           "Charte cybersécurité — Ce que vous pouvez en attendre : Diagnostic gratuit et plan d'action, mise en œuvre "
           "des mesures.")
    found = contacts_of(_index(("Qui appeler.", "Intro"), (row, "Qui contacter ?")))
    assert [c.text for c in found] == ["Diagnostic de cybersécurité — À qui vous adresser : MonAideCyber (ANSSI), "
                                       "prestataires signataires de la Charte cybersécurité"]
