"""Where an answer's quotes are found: in a passage's text, and on a real PDF page of the corpus."""
from __future__ import annotations

from conftest import ROOT

from assistant.highlight import page_boxes, page_png, segments, spans

CHARTER = ROOT / "corpus" / "charte" / "charte-cybersecurite-prestataires-numeriques-normands.pdf"
# On page 2 of the charter, over three lines, with « ap-porte » cut at a line end in the PDF's text layer.
ON_PAGE_2 = ("Cette évolution apporte des gains réels de productivité, mais elle expose aussi les organisations à des "
             "menaces qui ne visent plus seulement les grands groupes.")


def test_a_list_quoted_on_one_line_is_found_in_its_lines():
    text = "Titre\nIl faut :\n- agir vite ;\n- agir bien.\nFin du passage."
    (span,) = spans(text, ["Il faut : agir vite ; agir bien. …"])
    assert text[span[0]:span[1]] == "Il faut :\n- agir vite ;\n- agir bien."


def test_a_quote_partly_in_the_passage_marks_that_part():
    text = "Il existe trois étapes importantes :\n1. préparer le terrain"
    quote = "Il existe trois étapes importantes : 1. préparer le terrain 2. une étape du passage suivant"
    marked = [text[a:b] for a, b in spans(text, [quote])]
    assert marked == ["Il existe trois étapes importantes :", "préparer le terrain"], marked


def test_nothing_is_marked_for_a_quote_from_elsewhere_or_empty_input():
    text = "Une phrase du passage, assez longue pour compter."
    assert spans(text, ["Une tout autre phrase, ailleurs."]) == []
    assert spans(text, []) == [] and spans("", ["x"]) == []
    assert [s.text for s in segments(text, [])] == [text]
    assert segments("", []) and segments("", [])[0].text == ""


def test_boxes_on_the_pdf_page_that_holds_the_quote():
    boxes = page_boxes(CHARTER, 2, [ON_PAGE_2])
    assert len(boxes) == 3, f"one box per line of the sentence: {boxes}"
    for box in boxes:
        assert 0 <= box.left < 1 and 0 <= box.top < 1 and 0 < box.width <= 1 and 0 < box.height < 0.05, box
    assert [round(b.top, 3) for b in boxes] == sorted(round(b.top, 3) for b in boxes)
    assert page_boxes(CHARTER, 1, [ON_PAGE_2]) == (), "not on page 1"
    assert page_boxes(CHARTER, 99, [ON_PAGE_2]) == (), "no page 99"


def test_a_page_renders_as_a_png():
    image = page_png(CHARTER, 2, CHARTER.stat().st_mtime_ns, width=300)
    assert image.startswith(b"\x89PNG")
    assert page_png(CHARTER, 99, CHARTER.stat().st_mtime_ns) is None
