"""Readers: real files in, Documents with citation metadata out, clear errors for bad input."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.readers import ReadError, clean_text, parse_date, read_document
from conftest import shared_path, write_pdf


def test_clean_text_repairs_french_typography():
    raw = "La con\ufb01ance et l\u2019e\ufb03cacit\u00e9\u00a0: 10\u202f000\u00a0\u20ac, s\u0153ur\u200b, ca\u00adf\u00e9\x07"
    assert clean_text(raw) == "La confiance et l'efficacité : 10 000 €, sœur, café"


@pytest.mark.parametrize("text, iso", [
    ("2025-03-14", "2025-03-14"), ("14/03/2025", "2025-03-14"), ("le 1er mars 2024", "2024-03-01"),
    ("Bulletin n° 31 — mars 2025", "2025-03-01"), ("D:20240612090000", "2024-06-12"), ("sans date", None),
    ("31 février 2024", None),
])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


def test_pdf_pages_headers_footers_and_hyphenation(tmp_path):
    lines = ["Le prestataire signataire s'engage à sensibiliser ses clients aux risques numé-",
             "riques et à leur transmettre les bonnes pratiques d'hygiène informatique.",
             "Un sous-traitant peut-être concerné par la démarche, comme tout sous-",
             "traitant de la chaîne numérique régionale."]
    path = write_pdf(tmp_path / "charte.pdf",
                     [["Charte cybersécurité des prestataires", "Préambule et objet de la charte."], lines,
                      ["Article 3 : les sauvegardes sont testées chaque trimestre."]],
                     header="Charte cybersécurité — Région Normandie", footer="Page {page} / {total}",
                     title="Charte cybersécurité pour les prestataires")
    doc = read_document(path)
    assert doc.title == "Charte cybersécurité pour les prestataires"
    assert doc.doc_type == "charte"
    pages = {s.page for s in doc.sections}
    assert pages == {1, 2, 3}
    text = "\n".join(s.text for s in doc.sections)
    assert "Page 2" not in text and "Charte cybersécurité — Région Normandie" not in text, text
    page2 = " ".join(s.text for s in doc.sections if s.page == 2)
    assert "risques numériques et" in page2, page2
    # A word written with an inner hyphen elsewhere in the document keeps it.
    assert "sous-traitant de la chaîne" in page2, page2


def test_pdf_bookmarks_give_sections(tmp_path):
    path = write_pdf(tmp_path / "memo.pdf",
                     [["Anticiper", "La veille commence par les bonnes sources.", "Se protéger",
                       "Chiffrez les ordinateurs portables avant un déplacement."],
                      ["Les stagiaires signent une clause de confidentialité."]],
                     title="Mémo de l'intelligence économique", outline=[(0, "Anticiper"), (0, "Se protéger")])
    doc = read_document(path)
    assert doc.doc_type == "memo"
    by_heading = {(s.page, s.heading): s.text for s in doc.sections}
    assert "bonnes sources" in by_heading[(1, "Anticiper")]
    assert "Chiffrez" in by_heading[(1, "Se protéger")]
    assert "stagiaires" in by_heading[(2, "Se protéger")], by_heading


def test_html_drops_navigation_and_keeps_headings(tiny_corpus):
    doc = read_document(tiny_corpus / "pages" / "programme.html")
    assert doc.title == "Le programme"
    assert doc.url == "https://www.normandie.fr/ie"
    assert doc.date == "2025-02-03"
    text = " ".join(s.text for s in doc.sections)
    assert "Accueil" not in text and "alert" not in text and "Mentions légales" not in text
    headings = [s.heading for s in doc.sections]
    assert "Les trois pratiques" in headings and "La gouvernance" in headings


def test_html_in_windows_1252(tmp_path):
    html = ("<html><head><meta charset='windows-1252'><title>Sécurité économique</title></head><body><main>"
            "<h1>Sécurité économique</h1><p>Protéger le savoir-faire de l’entreprise : une priorité « stratégique ».</p>"
            "</main></body></html>")
    path = tmp_path / "legacy.html"
    path.write_bytes(html.encode("cp1252"))
    doc = read_document(path)
    assert doc.title == "Sécurité économique"
    assert "Protéger le savoir-faire de l'entreprise : une priorité « stratégique »." in doc.sections[0].text


def test_markdown_sections_and_front_matter(tiny_corpus):
    doc = read_document(tiny_corpus / "guides" / "sauvegarde.md")
    assert doc.title == "Guide des sauvegardes" and doc.date == "2024-06-01" and doc.doc_type == "guide"
    assert [s.heading for s in doc.sections] == ["Pourquoi sauvegarder", "Comment faire"]


def test_seed_page_drops_web_chrome_and_finds_sections():
    doc = read_document(shared_path("seed", "intelligence-economique-region-normandie.txt"))
    text = "\n".join(s.text for s in doc.sections)
    for chrome in ("Aller au contenu principal", "Évaluer cette page", "clock"):
        assert chrome not in text
    section = next(s for s in doc.sections if "Anticiper" in s.text)
    assert section.heading == "L'Intelligence Economique Territoriale"


def test_anssi_markdown_declares_url_and_date():
    doc = read_document(shared_path("corpus-anssi", "anssi_guides_fr", "guide-dhygiene-informatique.md"))
    assert doc.url == "https://cyber.gouv.fr/hygiene-informatique"
    assert doc.date == "2017-01-23" and doc.doc_type == "guide"


def test_bulletin_pdf_is_dated_and_numbered(tiny_corpus):
    doc = read_document(tiny_corpus / "bulletin-2025-03.pdf")
    assert doc.doc_type == "bulletin" and doc.date == "2025-03-01" and doc.number == 31


def test_name_with_accents_and_spaces(tmp_path):
    path = tmp_path / "Note de synthèse été 2025.md"
    path.write_text("# Note\n\nLa veille estivale porte sur l'intelligence artificielle.\n", encoding="utf-8")
    doc = read_document(path)
    assert doc.sections[0].text.startswith("La veille estivale")


@pytest.mark.parametrize("name, content, reason", [
    ("vide.md", b"", "vide"),
    ("blanc.txt", b"  \n\n ", "vide"),
    ("faux.pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "n'est pas un PDF"),
    ("tronque.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n", "PDF"),
    ("binaire.txt", b"\x00\x01\x02binary\x00" * 50, "binaire"),
    ("image.png", b"\x89PNG", "non pris en charge"),
    ("pas-du-html.html", b"juste du texte", "pas de HTML"),
])
def test_bad_files_raise_clear_errors(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError) as err:
        read_document(path)
    assert reason in str(err.value) and name in str(err.value)


def test_encrypted_pdf(tmp_path):
    path = write_pdf(tmp_path / "secret.pdf", [["Texte confidentiel."]], encrypt="motdepasse")
    with pytest.raises(ReadError, match="mot de passe"):
        read_document(path)


def test_scanned_pdf_asks_for_ocr(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(50, 50, 400, 600, fill=1)  # a page with drawings and no text layer
    pdf.showPage()
    pdf.save()
    with pytest.raises(ReadError, match="OCR"):
        read_document(path)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "interdit.md"
    path.write_text("# Titre\n\ntexte\n", encoding="utf-8")
    # Root reads any file whatever its mode, so simulate the permission error the OS gives a user.
    real = Path.read_bytes

    def deny(self):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(ReadError, match="permissions"):
        read_document(path)


def test_too_many_pages_is_a_setting(tmp_path):
    path = write_pdf(tmp_path / "long.pdf", [[f"Page {i} du rapport annuel."] for i in range(6)])
    with pytest.raises(ReadError, match="max_pages"):
        read_document(path, max_pages=5)


def test_pdf_table_of_contents_and_compound_words(tmp_path):
    path = write_pdf(tmp_path / "memo.pdf", [
        ["Sommaire", "Partie 1 — Anticiper . . . . . . . . . . 3", "Partie 2 — Influencer .......... 6"],
        ["La coquille Saint-", "Jacques est tracée du bateau à l'étal, et le porte-parole lui-", "même l'a confirmé."],
    ], title="Mémo")
    text = "\n".join(s.text for s in read_document(path).sections)
    assert ". . . ." not in text and "......" not in text
    assert "Saint-Jacques" in text and "lui-même" in text, text


def test_doc_type_from_the_first_type_word_of_the_title(tmp_path):
    path = tmp_path / "guide-charte.md"
    path.write_text("# Guide d'élaboration d'une charte d'utilisation des moyens informatiques\n\nTexte du guide.\n",
                    encoding="utf-8")
    assert read_document(path).doc_type == "guide"


def test_empty_markdown_heading_and_page_widgets(tmp_path):
    path = tmp_path / "page.md"
    path.write_text("# \n\nIntroduction utile.\n\n## Évaluer cette page :\n\nL'avis des internautes :\n\n"
                    "## Suite\n\nContenu.\n", encoding="utf-8")
    doc = read_document(path)
    text = " ".join(s.text for s in doc.sections)
    assert "#" not in text and "internautes" not in text and "Évaluer" not in text
    assert [s.heading for s in doc.sections] == [None, "Suite"]


def _table_pdf(path: Path, columns: list[float], rows: list[list[list[str]]], before: str, after: str,
               pages: int = 1) -> Path:
    """A real PDF page with a ruled-style table: cells drawn where their column stands, wrapped lines under each
    other, a blank line between rows; a sentence before and after it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    width, height = A4
    for _ in range(pages):
        pdf.setFont("Helvetica", 10)
        y = height - 80
        pdf.drawString(columns[0], y, before)
        y -= 30
        for row in rows:
            depth = max(len(cell) for cell in row)
            for x, cell in zip(columns, row):
                for i, line in enumerate(cell):
                    pdf.drawString(x, y - 12 * i, line)
            y -= 12 * depth + 14
        pdf.drawString(columns[0], y - 10, after)
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_table_is_read_one_row_a_line(tmp_path):
    rows = [[["Votre besoin"], ["À qui vous adresser"], ["Ce que vous pouvez en attendre"]],
            [["Approche suspecte,", "ingérence"], ["Services de l'État en région,", "gendarmerie"],
             ["Conseil confidentiel,", "analyse d'une situation"]],
            [["Brevets, marques"], ["INPI, conseils en propriété", "industrielle"], ["Information sur les", "dépôts"]],
            [["Confiden", "tiel"], ["Le dirigeant"], ["Accès nominatif"]]]
    path = _table_pdf(tmp_path / "contacts.pdf", [60, 190, 390], rows,
                      "Votre interlocuteur habituel saura vous orienter.",
                      "Une fiche réflexe indique qui appeler en cas d'incident.")
    text = "\n".join(s.text for s in read_document(path).sections)
    lines = text.splitlines()
    assert ("– Approche suspecte, ingérence — À qui vous adresser : Services de l'État en région, gendarmerie — "
            "Ce que vous pouvez en attendre : Conseil confidentiel, analyse d'une situation.") in lines, text
    assert ("– Brevets, marques — À qui vous adresser : INPI, conseils en propriété industrielle — "
            "Ce que vous pouvez en attendre : Information sur les dépôts.") in lines, text
    # A word a narrow cell cut without a hyphen is joined when French writes it whole; the headings line is gone.
    assert "– Confidentiel — À qui vous adresser : Le dirigeant" in text, text
    assert "Votre besoin" not in text.replace("Votre besoin —", "")
    # The text after the table is read apart from it, not as the last row's tail.
    assert "Une fiche réflexe indique qui appeler en cas d'incident." in lines, text
    assert read_document(path).sections[-1].text == "Une fiche réflexe indique qui appeler en cas d'incident."
    assert "\u2063" not in text


def test_pdf_two_columns_of_prose_are_not_a_table(tmp_path):
    left = ["La veille commence par des questions", "précises sur les concurrents et les", "marchés visés."]
    right = ["Les sauvegardes sont testées chaque", "trimestre et gardées hors ligne, loin", "du réseau."]
    path = _table_pdf(tmp_path / "colonnes.pdf", [60, 320], [[left, right], [left, right]],
                      "Deux colonnes de texte suivent.", "Fin de la page.")
    text = "\n".join(s.text for s in read_document(path).sections)
    assert " — " not in text and "– " not in text, text


def test_shipped_memo_contacts_table_reads_by_row():
    memo = Path(__file__).resolve().parent.parent / "corpus" / "memo" / "memo-intelligence-economique-entreprises-normandes.pdf"
    sections = read_document(memo).sections
    contacts = "\n".join(s.text for s in sections if s.heading == "Qui contacter ?")
    assert ("– Projets à l'international — À qui vous adresser : Team France Export Normandie, CCI Normandie — "
            "Ce que vous pouvez en attendre : Information pays, préparation des missions et salons.") \
        in contacts.splitlines(), contacts
    # The emergency steps printed under the table are a passage of their own.
    assert any(s.heading == "Qui contacter ?" and s.text.startswith("En cas de cyberattaque : les premiers réflexes")
               for s in sections), contacts
    levels = "\n".join(s.text for s in sections if s.heading and s.heading.endswith("patrimoine informationnel"))
    assert "– Confidentiel — Exemples : Prix de revient" in levels, levels


def test_markdown_and_html_tables_are_read_one_row_a_line(tmp_path):
    (tmp_path / "agenda.md").write_text(
        "# Agenda\n\n## Calendrier\n\nLes rendez-vous sont gratuits.\n\n"
        "| Programme indicatif | | |\n|---|---|---|\n| Date | Rendez-vous | Public |\n|---|---|---|\n"
        "| Jeudi 12 juin 2025 | Webinaire « Voyager à l'étranger » | Dirigeants |\n"
        "| Mardi 8 avril 2025 | Webinaire « IA générative » | Tous publics |\n\nFin.\n", encoding="utf-8")
    text = read_document(tmp_path / "agenda.md").sections[0].text
    lines = text.splitlines()
    assert "– Jeudi 12 juin 2025 — Rendez-vous : Webinaire « Voyager à l'étranger » — Public : Dirigeants." in lines, text
    assert "Programme indicatif" in lines and "|" not in text, text
    (tmp_path / "agenda.html").write_text(
        "<html><head><title>Agenda</title></head><body><main><h1>Agenda</h1><h2>Calendrier</h2>"
        "<table><tr><th>Date</th><th>Rendez-vous</th></tr>"
        "<tr><td>Jeudi 12 juin 2025</td><td>Webinaire « Voyager à l'étranger »</td></tr></table>"
        "<p>Inscription gratuite.</p></main></body></html>", encoding="utf-8")
    text = "\n".join(s.text for s in read_document(tmp_path / "agenda.html").sections)
    assert "– Jeudi 12 juin 2025 — Rendez-vous : Webinaire « Voyager à l'étranger »." in text.splitlines(), text
