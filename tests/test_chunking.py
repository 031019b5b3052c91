"""Chunking: passages of bounded size that keep their page, section and a stable id."""
from __future__ import annotations

from assistant.chunking import chunk_document, passage_context
from assistant.readers import read_document
from assistant.schema import Document, Section


def _doc(sections):
    return Document(source="corpus/memo.pdf", title="Mémo", doc_type="memo", sections=tuple(sections),
                    date="2025-01-10")


def test_empty_document_gives_no_passage():
    assert chunk_document(_doc([])) == []


def test_passages_stay_within_size_and_sections():
    long_text = " ".join(f"Phrase numéro {i} sur la veille et la protection des informations." for i in range(60))
    doc = _doc([Section(long_text, page=3, heading="Anticiper"), Section("Court texte.", page=4, heading="Influencer")])
    passages = chunk_document(doc, chunk_size=400, chunk_overlap=60)
    assert len(passages) > 5
    for p in passages:
        assert len(p.text) <= 400 * 1.2, f"{p.id} has {len(p.text)} characters"
        assert (p.page, p.section) in {(3, "Anticiper"), (4, "Influencer")}
        assert p.title == "Mémo" and p.date == "2025-01-10" and p.doc_type == "memo"
    # Neighbours overlap so a sentence cut at a boundary is still found whole.
    first, second = passages[0].text, passages[1].text
    assert first[-30:].split()[-1] in second
    assert passages[-1].text == "Court texte." and passages[-1].page == 4


def test_ids_are_unique_and_stable(tiny_corpus):
    doc = read_document(tiny_corpus / "bulletin-2025-03.pdf")
    first = chunk_document(doc)
    again = chunk_document(read_document(tiny_corpus / "bulletin-2025-03.pdf"))
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)


def test_context_adds_title_and_heading():
    passage = chunk_document(_doc([Section("Chiffrez vos disques.", page=2, heading="Se protéger")]))[0]
    assert passage_context(passage) == "Mémo — Se protéger\nChiffrez vos disques."


def test_windows_are_the_whole_passage_then_its_sentences_with_the_heading():
    from assistant.chunking import WINDOW_MIN_CHARS, passage_windows
    from assistant.schema import Passage

    text = ("La veille commence par des questions claires posées par la direction de l'entreprise. "
            "Exemples : "
            "les concurrents, les normes, les clients et les fournisseurs qui comptent pour l'activité. "
            "Les sources ouvertes suffisent souvent à répondre aux premières questions de veille.")
    passage = Passage(id="p", text=text, title="Mémo", source="memo.pdf", doc_type="memo", section="Anticiper")
    windows = passage_windows(passage)
    assert windows[0] == "Mémo — Anticiper\n" + text
    assert windows[1:] == [
        "Mémo — Anticiper\nLa veille commence par des questions claires posées par la direction de l'entreprise.",
        # « Exemples : » alone is too short: it is read with the sentence that follows.
        "Mémo — Anticiper\nExemples : les concurrents, les normes, les clients et les fournisseurs qui comptent "
        "pour l'activité.",
        "Mémo — Anticiper\nLes sources ouvertes suffisent souvent à répondre aux premières questions de veille.",
    ]
    assert all(len(w.split("\n", 1)[1]) >= WINDOW_MIN_CHARS for w in windows[1:])
    # A passage of one sentence is embedded once.
    short = Passage(id="s", text="Une seule phrase assez courte.", title="Mémo", source="memo.pdf", doc_type="memo")
    assert passage_windows(short) == ["Mémo\nUne seule phrase assez courte."]


def test_windows_that_ask_a_question_are_marked():
    from assistant.chunking import passage_windows, window_asks
    from assistant.schema import Passage

    text = ("Trois questions pour commencer. Savez-vous ce que prépareront vos trois principaux concurrents ? "
            "Le mémo cite un dirigeant : « Qui, chez nous, aurait reçu une offre trop belle pour être vraie ?» "
            "Ce mémo propose des réponses simples, partie par partie.")
    passage = Passage(id="p", text=text, title="Mémo", source="memo.pdf", doc_type="memo", section="Avant-propos")
    marks = window_asks(passage)
    assert len(marks) == len(passage_windows(passage)) == 5
    # The whole passage never asks; the sentences ending in « ? », a closing quote after it or not, do.
    assert marks == [False, False, True, True, False]
    # A passage of one window is its whole text: nothing marked.
    assert window_asks(Passage(id="q", text="Qui contacter en cas d'incident ?", title="Mémo", source="memo.pdf",
                               doc_type="memo")) == [False]
