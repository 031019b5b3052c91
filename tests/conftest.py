"""Shared fixtures: settings on a temporary index, a tiny French corpus, real PDF files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.embed import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# Chainlit writes config files under its app root at import: keep them out of the tree.
os.environ.setdefault("CHAINLIT_APP_ROOT", str(ROOT))


# A corpus file that tries to inject markup: it must always show up as text.
HOSTILE = """---
title: Note piégée <script>alert('titre')</script>
date: 2025-01-15
---
# Consignes de la cellule piégée

La cellule piégée change le code du coffre <script>alert('xss')</script> chaque trimestre.
Regardez <img src=x onerror="alert('img')"> puis le [lien piégé](javascript:alert('lien')) de la cellule piégée.
"""


def shared_path(*parts: str) -> Path:
    """A file of ../shared, or skip the test where ../shared is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} absent (../shared is only beside the project on the team's machines)")
    return path


@pytest.fixture
def settings(tmp_path):
    from assistant.config import Settings

    return Settings(index_dir=tmp_path / "index", corpus_dirs=(tmp_path / "corpus",),
                    cache_dir=Path(os.environ.get("ASSISTANT_CACHE_DIR", Path.home() / ".cache" / "assistant-ie")),
                    model="hash")


@pytest.fixture
def embedder():
    from assistant.embed import HashEmbedder

    return HashEmbedder()


def write_pdf(path: Path, pages: list[list[str]], header: str | None = None, footer: str | None = None,
              title: str | None = None, encrypt: str | None = None, outline: list[tuple[int, str]] = ()) -> Path:
    """A real PDF: each page is a list of text lines, with optional running header/footer and bookmarks."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1, encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        pdf.setFont("Helvetica", 9)
        if header:
            pdf.drawString(60, height - 40, header)
        if footer:
            pdf.drawString(60, 30, footer.format(page=number, total=len(pages)))
        for page_index, heading in outline:
            if page_index == number - 1:
                key = f"h{number}-{abs(hash(heading))}"
                pdf.bookmarkPage(key)
                pdf.addOutlineEntry(heading, key, level=0)
        pdf.setFont("Helvetica", 11)
        y = height - 90
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 15
        pdf.showPage()
    pdf.save()
    return path


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """A few French documents in the formats maintainers drop in."""
    corpus = tmp_path / "corpus"
    (corpus / "pages").mkdir(parents=True)
    (corpus / "pages" / "programme.html").write_text(
        "<html><head><title>Le programme</title><meta name='date' content='2025-02-03'>"
        "<link rel='canonical' href='https://www.normandie.fr/ie'></head><body>"
        "<nav><a href='/'>Accueil</a> <a href='#c'>Aller au contenu principal</a></nav>"
        "<script>alert('menu')</script><main><h1>Le programme</h1>"
        "<p>La Région Normandie est région pilote de l'intelligence économique territoriale.</p>"
        "<h2>Les trois pratiques</h2><p>L'intelligence économique consiste à anticiper, influencer et se protéger. "
        "Ces trois modes d'action se combinent au service des entreprises du territoire.</p>"
        "<h2>La gouvernance</h2><p>Un comité stratégique co-présidé par la Région et l'État pilote la démarche.</p>"
        "</main><footer>Mentions légales</footer></body></html>", encoding="utf-8")
    (corpus / "guides").mkdir()
    (corpus / "guides" / "sauvegarde.md").write_text(
        "---\ntitle: Guide des sauvegardes\ndate: 2024-06-01\n---\n# Guide des sauvegardes\n\n"
        "## Pourquoi sauvegarder\n\nUne sauvegarde hors ligne permet de redémarrer après un rançongiciel.\n\n"
        "## Comment faire\n\nAppliquez la règle 3-2-1 : trois copies, deux supports, une copie hors site.\n",
        encoding="utf-8")
    write_pdf(corpus / "bulletin-2025-03.pdf",
              [["Bulletin de veille collaborative n° 31 — mars 2025",
                "Les rançongiciels visent les PME normandes de la plasturgie.",
                "À retenir : tester la restauration des sauvegardes chaque trimestre."],
               ["La blockchain sert à tracer les produits laitiers de la Manche.",
                "Les coopératives agricoles expérimentent des registres partagés."]],
              header="Bulletin de veille collaborative", footer="Région Normandie — page {page} / {total}",
              title="Bulletin de veille collaborative n° 31 — mars 2025")
    return corpus


class CountingEmbedder(HashEmbedder):
    """Counts the passages it is asked to embed."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def embed_passages(self, texts, progress=None):
        self.calls += len(texts)
        return super().embed_passages(texts, progress)
