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
