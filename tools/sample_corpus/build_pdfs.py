#!/usr/bin/env python3
"""Render the sample-corpus PDFs (memo, charte, monthly bulletins) from Markdown sources.

Sources and outputs (paths relative to the project root):

  tools/sample_corpus/documents/memo.md    -> corpus/memo/memo-intelligence-economique-entreprises-normandes.pdf
  tools/sample_corpus/documents/charte.md  -> corpus/charte/charte-cybersecurite-prestataires-numeriques-normands.pdf
  tools/sample_corpus/bulletins/*.md       -> corpus/bulletins/bulletin-veille-YYYY-MM.pdf
                                              (files whose name starts with "_" are skipped)

Usage:

  .venv/bin/python tools/sample_corpus/build_pdfs.py
  .venv/bin/python tools/sample_corpus/build_pdfs.py --bulletin tools/sample_corpus/bulletins/_example.md --out /tmp/preview

After building, every PDF is read back with pypdf and checked (page count, sample
mark on page 1, hyphenated line ends, accents, metadata, byte-identical rebuild).
The exit code is 1 if a source could not be rendered or a check failed.
"""
from __future__ import annotations

import argparse
import calendar
import datetime as dt
import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCUMENTS_DIR = HERE / "documents"
BULLETINS_DIR = HERE / "bulletins"
DEFAULT_OUT = ROOT / "corpus"

SAMPLE_MARK = (
    "Document d'exemple rédigé pour la démonstration de l'assistant — "
    "ne constitue pas une publication officielle de la Région Normandie."
)
AUTHOR = "Région Normandie (exemple)"
CREATOR = "tools/sample_corpus/build_pdfs.py"
FOOTER_LEFT = "Région Normandie — Intelligence économique"

# Partner list of the « Bulletin de veille collaborative », as given on the programme page.
BULLETIN_PARTNERS = (
    "Chambre d’Agriculture de Normandie, Chambre Régionale de Métiers et de l’Artisanat, "
    "Chambre de Métiers et de l’Artisanat Calvados-Orne – Pôle ATEN, CCI Normandie, "
    "CCI Seine-Estuaire, Pôle TES, NAE, NWX, CAP’TRONIC, avec le soutien de l’État "
    "et de la Région Normandie"
)

# Canonical bulletin themes -> (label printed on the tag, tag colour).
THEME_ALIASES = {"cyber": "cybersécurité", "ia": "intelligence artificielle"}
THEMES = {
    "cybersécurité": ("CYBERSÉCURITÉ", "#A4161A"),
    "intelligence artificielle": ("INTELLIGENCE ARTIFICIELLE", "#5A3E8E"),
    "blockchain": ("BLOCKCHAIN", "#1B6F6A"),
}

MONTHS_FR = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]

NAVY = "#1F3A5F"
RED = "#B22234"
GREY = "#5F6B76"
LIGHT = "#EEF2F7"


@dataclass(frozen=True)
class DocumentSpec:
    """One long document: its Markdown source, its PDF path and the page range it must fit."""

    source: str
    output: str
    min_pages: int
    max_pages: int


DOCUMENT_SPECS = (
    DocumentSpec("memo.md", "memo/memo-intelligence-economique-entreprises-normandes.pdf", 10, 14),
    DocumentSpec("charte.md", "charte/charte-cybersecurite-prestataires-numeriques-normands.pdf", 4, 6),
)
BULLETIN_PAGES = (2, 4)
MIN_HYPHENATIONS_LONG_DOC = 3
A4_HEIGHT_USABLE = 842 - 2 * 65  # points between the header and footer rules, roughly


class SourceError(Exception):
    """A Markdown source that cannot be rendered; the message names the file and line."""


# ---------------------------------------------------------------------------
# Markdown parsing
# ---------------------------------------------------------------------------


@dataclass
class Block:
    """A block of a Markdown source: heading, paragraph, list, box, table..."""

    kind: str  # h1 h2 h3 h4 p ul ol check box table signatures source retenir
    text: str = ""
    items: list = field(default_factory=list)
    line: int = 0


def split_front_matter(text: str, path: Path) -> tuple[dict, list[tuple[int, str]]]:
    """Return the `key: value` front matter and the numbered body lines."""
    lines = text.splitlines()
    meta: dict[str, str] = {}
    start = 0
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip() == "---":
        for i in range(first + 1, len(lines)):
            line = lines[i].strip()
            if line == "---":
                start = i + 1
                break
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise SourceError(f"{path}:{i + 1}: front matter line {line!r} is not `key: value`")
            meta[key.strip().lower()] = value.strip().strip("\"'")
        else:
            raise SourceError(f"{path}:{first + 1}: front matter opened with --- but never closed")
    return meta, [(i + 1, lines[i]) for i in range(start, len(lines))]


_HEADING = re.compile(r"^(#{1,4})\s+(.*?)\s*#*$")
_STRONG_LINE = re.compile(r"^\*\*[^*]+\*\*$")
_CHECK = re.compile(r"^[-*]\s+\[( |x|X)\]\s+(.*)$")
_BULLET = re.compile(r"^[-*•]\s+(.*)$")
_ORDERED = re.compile(r"^(\d+)[.)]\s+(.*)$")
# Matched against the line with any surrounding * and _ (bold/italic markers) removed.
_SOURCE = re.compile(r"^sources?\s*:[*_]*\s*(.*)$", re.IGNORECASE)
_RETENIR = re.compile(r"^(?:à|a)\s+retenir\s*(?:[*_]*\s*:|[*_]*$)[*_]*\s*(.*)$", re.IGNORECASE)


def parse_blocks(lines: list[tuple[int, str]], path: Path, bulletin: bool = False) -> list[Block]:
    """Turn numbered Markdown lines into blocks (a deliberately small Markdown subset)."""
    blocks: list[Block] = []
    open_block: Block | None = None  # paragraph, list, box or table still accepting lines
    box_lines: list[tuple[int, str]] = []
    signatures: Block | None = None

    def close() -> None:
        nonlocal open_block, box_lines
        if open_block is not None and open_block.kind == "box":
            open_block.items = parse_blocks(box_lines, path, bulletin)
            box_lines = []
        open_block = None

    for no, raw in lines:
        stripped = raw.strip()
        if signatures is not None:
            if stripped == ":::":
                blocks.append(signatures)
                signatures = None
            elif stripped:
                signatures.items.append(stripped)
            continue
        if not stripped:
            if open_block is not None and open_block.kind == "box":
                box_lines.append((no, ""))
                continue
            close()
            continue
        if stripped.startswith(">"):
            if open_block is None or open_block.kind != "box":
                close()
                open_block = Block("box", line=no)
                blocks.append(open_block)
            content = stripped[1:]
            box_lines.append((no, content[1:] if content.startswith(" ") else content))
            continue
        if open_block is not None and open_block.kind == "box":
            # A box ends at the first line that does not start with ">".
            close()
        if stripped.startswith(":::"):
            close()
            name = stripped[3:].strip().lower()
            if name != "signatures":
                raise SourceError(f"{path}:{no}: unknown block ':::{name}' (only ':::signatures' exists)")
            signatures = Block("signatures", line=no)
            continue
        if _STRONG_LINE.match(stripped) and (open_block is None or open_block.kind == "p"):
            # A line that is bold from end to end is a run-in title: keep it on its own line.
            close()
            blocks.append(Block("strong", stripped[2:-2].strip(), line=no))
            continue
        heading = _HEADING.match(stripped)
        if heading:
            close()
            blocks.append(Block(f"h{len(heading.group(1))}", heading.group(2), line=no))
            continue
        bare = stripped.strip("*_ ")
        if bulletin and _SOURCE.match(bare) and (open_block is None or open_block.kind != "retenir"):
            close()
            blocks.append(Block("source", _SOURCE.match(bare).group(1).strip("*_ "), line=no))
            continue
        if bulletin and _RETENIR.match(bare):
            close()
            open_block = Block("retenir", _RETENIR.match(bare).group(1).strip("*_ "), line=no)
            blocks.append(open_block)
            continue
        if stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if open_block is None or open_block.kind != "table":
                close()
                open_block = Block("table", line=no)
                blocks.append(open_block)
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                open_block.items.append(cells)
            continue
        for kind, pattern in (("check", _CHECK), ("ul", _BULLET), ("ol", _ORDERED)):
            match = pattern.match(stripped)
            if match:
                if open_block is None or open_block.kind != kind:
                    close()
                    open_block = Block(kind, line=no)
                    blocks.append(open_block)
                open_block.items.append(match.group(match.lastindex))
                break
        else:
            if open_block is not None and open_block.kind in ("ul", "ol", "check"):
                open_block.items[-1] += " " + stripped  # continuation of the last item
            elif open_block is not None and open_block.kind in ("p", "retenir"):
                open_block.text = (open_block.text + " " + stripped).strip()
            else:
                close()
                open_block = Block("p", stripped, line=no)
                blocks.append(open_block)
    if signatures is not None:
        raise SourceError(f"{path}:{signatures.line}: ':::signatures' block never closed with ':::'")
    close()
    return blocks


# ---------------------------------------------------------------------------
# Inline text: French typography, markup, characters the PDF fonts can print
# ---------------------------------------------------------------------------

_NBSP = "\u00a0"


def check_printable(text: str, where: str) -> str:
    """Normalise the text and refuse characters that the standard PDF fonts cannot print."""
    text = unicodedata.normalize("NFC", text)
    # Narrow and thin spaces are not in the fonts' encoding: a plain no-break space does the job.
    text = text.replace("\u202f", _NBSP).replace("\u2009", _NBSP).replace("\u2011", "-")
    # ReportLab encodes "•" as 0x7F in the standard fonts, which extractors read as a control
    # character: print a middle dot instead.
    text = text.replace("\u2022", "\u00b7")
    for ch in text:
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            raise SourceError(
                f"{where}: character {ch!r} (U+{ord(ch):04X}) cannot be printed with the PDF's "
                "standard fonts (Windows-1252 repertoire); replace it with a close character"
            ) from None
    return text


def french_spacing(text: str) -> str:
    """Put no-break spaces where French typography wants them (« », : ; ! ?, n°)."""
    text = re.sub(r"«\s*", "«" + _NBSP, text)
    text = re.sub(r"\s*»", _NBSP + "»", text)
    text = re.sub(r"(?<=\S) ([:;!?])(?=\s|$|[)»])", _NBSP + r"\1", text)
    text = re.sub(r"\b(n°|N°) (?=\d)", r"\1" + _NBSP, text)
    return text


def inline(text: str, where: str) -> str:
    """Source text -> ReportLab paragraph markup."""
    text = french_spacing(check_printable(text, where))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", text)
    text = re.sub(r"`([^`]+)`", r'<font face="Courier">\1</font>', text)
    return text


def plain(text: str) -> str:
    """Source text -> plain text for outlines and metadata (markup removed)."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"[*`]", "", text).strip()


def french_date(day: dt.date) -> str:
    """2025-03-01 -> « 1er mars 2025 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS_FR[day.month - 1]} {day.year}"


def parse_iso_date(value: str, where: str) -> dt.date:
    """Parse a YYYY-MM-DD front-matter date or raise a SourceError naming the file."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise SourceError(f"{where}: date {value!r} is not YYYY-MM-DD") from None


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------


def _styles():
    """Paragraph styles shared by all documents."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle

    navy, grey = HexColor(NAVY), HexColor(GREY)
    hyph = dict(hyphenationLang="fr_FR", embeddedHyphenation=1, uriWasteReduce=0.3)
    body = ParagraphStyle(
        "body", fontName="Helvetica", fontSize=9.7, leading=13.6, alignment=TA_JUSTIFY,
        spaceAfter=5, **hyph,
    )
    s = {"body": body}
    s["item"] = ParagraphStyle("item", parent=body, spaceAfter=1.8)
    s["bullet"] = ParagraphStyle("bullet", parent=s["item"], leftIndent=14, bulletIndent=3,
                                 bulletFontName="Helvetica", bulletFontSize=9)
    s["number"] = ParagraphStyle("number", parent=s["item"], leftIndent=18, bulletIndent=0,
                                 bulletFontName="Helvetica-Bold", bulletFontSize=9.5)
    s["box"] = ParagraphStyle("box", parent=body, fontSize=9.5, leading=13.4, spaceAfter=0)
    s["cell"] = ParagraphStyle("cell", parent=body, fontSize=8.8, leading=11.6, spaceAfter=0,
                               alignment=TA_LEFT, hyphenationLang="")
    s["cellhead"] = ParagraphStyle("cellhead", parent=s["cell"], fontName="Helvetica-Bold",
                                   textColor=HexColor("#FFFFFF"))
    s["h2"] = ParagraphStyle(
        "h2", fontName="Helvetica-Bold", fontSize=16, leading=20, textColor=navy,
        spaceBefore=10, spaceAfter=8, keepWithNext=1,
    )
    s["h3"] = ParagraphStyle(
        "h3", fontName="Helvetica-Bold", fontSize=12, leading=15, textColor=navy,
        spaceBefore=9, spaceAfter=4, keepWithNext=1,
    )
    s["h4"] = ParagraphStyle(
        "h4", fontName="Helvetica-Bold", fontSize=10.5, leading=13.5, textColor=HexColor("#2E4A6B"),
        spaceBefore=6, spaceAfter=3, keepWithNext=1,
    )
    s["cover_kind"] = ParagraphStyle("cover_kind", fontName="Helvetica-Bold", fontSize=10.5,
                                     leading=14, textColor=HexColor(RED), spaceAfter=10)
    s["cover_title"] = ParagraphStyle("cover_title", fontName="Helvetica-Bold", fontSize=25,
                                      leading=31, textColor=navy, spaceAfter=14)
    s["cover_subtitle"] = ParagraphStyle("cover_subtitle", fontName="Helvetica-Oblique",
                                         fontSize=14, leading=19, textColor=grey, spaceAfter=24)
    s["cover_meta"] = ParagraphStyle("cover_meta", fontName="Helvetica", fontSize=10.5,
                                     leading=15, textColor=HexColor("#333333"))
    s["mark"] = ParagraphStyle("mark", fontName="Helvetica-Bold", fontSize=9.5, leading=13,
                               textColor=HexColor(RED), alignment=TA_CENTER)
    s["toc_title"] = ParagraphStyle("toc_title", parent=s["h2"], keepWithNext=0)
    s["toc0"] = ParagraphStyle("toc0", fontName="Helvetica-Bold", fontSize=10.5, leading=15,
                               textColor=navy, spaceBefore=3)
    s["toc1"] = ParagraphStyle("toc1", fontName="Helvetica", fontSize=9.8, leading=13.5,
                               leftIndent=16)
    s["sig"] = ParagraphStyle("sig", fontName="Helvetica", fontSize=9, leading=13)
    s["sighead"] = ParagraphStyle("sighead", fontName="Helvetica-Bold", fontSize=9.5, leading=13,
                                  textColor=navy)
    # Bulletin styles
    s["b_band_small"] = ParagraphStyle("b_band_small", fontName="Helvetica-Bold", fontSize=8.5,
                                       leading=11, textColor=HexColor("#FFFFFF"))
    s["b_band_title"] = ParagraphStyle("b_band_title", fontName="Helvetica-Bold", fontSize=21,
                                       leading=26, textColor=HexColor("#FFFFFF"))
    s["b_band_number"] = ParagraphStyle("b_band_number", fontName="Helvetica", fontSize=12.5,
                                        leading=16, textColor=HexColor("#FFFFFF"))
    s["b_published"] = ParagraphStyle("b_published", fontName="Helvetica-Bold", fontSize=9.5,
                                      leading=13, textColor=navy, spaceBefore=8, spaceAfter=3)
    s["b_partners"] = ParagraphStyle("b_partners", fontName="Helvetica", fontSize=7.3, leading=9.4,
                                     textColor=grey, spaceAfter=8)
    s["b_toc_title"] = ParagraphStyle("b_toc_title", parent=s["h4"], spaceBefore=8)
    s["b_toc"] = ParagraphStyle("b_toc", fontName="Helvetica", fontSize=9, leading=12.5,
                                leftIndent=10)
    s["b_tag"] = ParagraphStyle("b_tag", fontName="Helvetica-Bold", fontSize=7.5, leading=11,
                                spaceBefore=12, spaceAfter=3, keepWithNext=1)
    s["b_headline"] = ParagraphStyle("b_headline", parent=s["h3"], fontSize=13, leading=16.5,
                                     spaceBefore=0, spaceAfter=3)
    s["b_source"] = ParagraphStyle("b_source", fontName="Helvetica-Oblique", fontSize=8.5,
                                   leading=11.5, textColor=grey, spaceAfter=5, keepWithNext=1)
    return s


class Heading:
    """Factory for heading paragraphs that feed the table of contents and PDF outline."""

    @staticmethod
    def make(markup: str, style, level: int, outline_text: str, toc: bool = True):
        from reportlab.platypus import Paragraph

        para = Paragraph(markup, style)
        para._outline_level = level
        para._outline_text = outline_text
        para._in_toc = toc
        return para


def _make_doc_class():
    """Build the DocTemplate subclass lazily (keeps `import reportlab` out of module import)."""
    from reportlab.platypus import BaseDocTemplate

    class SampleDoc(BaseDocTemplate):
        """A4 document with running header/footer, « page N / M », outline and TOC notifications."""

        def __init__(self, filename, layout: dict, total_pages: int | None, **kw):
            self.layout = layout
            self.total_pages = total_pages
            self.pages_seen = 0
            self._outline_count = 0
            super().__init__(filename, **kw)

        def handle_documentBegin(self):
            self._outline_count = 0
            self.pages_seen = 0
            super().handle_documentBegin()

        def afterFlowable(self, flowable):
            level = getattr(flowable, "_outline_level", None)
            if level is None:
                return
            text = flowable._outline_text
            key = f"s{self._outline_count}"
            self._outline_count += 1
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            if flowable._in_toc:
                self.notify("TOCEntry", (level, text, self.page, key))

    return SampleDoc


def _draw_page_furniture(canv, doc) -> None:
    """Running header (except on page 1) and footer with « page N / M »."""
    from reportlab.lib.colors import HexColor

    width, height = doc.pagesize
    left, right = doc.leftMargin, width - doc.rightMargin
    page = canv.getPageNumber()
    doc.pages_seen = max(doc.pages_seen, page)
    total = doc.total_pages if doc.total_pages else "?"
    canv.saveState()
    if page > 1:
        y = height - 1.45 * 28.3465
        canv.setFont("Helvetica", 8)
        canv.setFillColor(HexColor(GREY))
        canv.drawString(left, y, doc.layout["header_left"])
        canv.drawRightString(right, y, doc.layout["header_right"])
        canv.setStrokeColor(HexColor("#B9C3CE"))
        canv.setLineWidth(0.5)
        canv.line(left, y - 4, right, y - 4)
    y = 1.35 * 28.3465
    canv.setStrokeColor(HexColor("#B9C3CE"))
    canv.setLineWidth(0.5)
    canv.line(left, y + 10, right, y + 10)
    canv.setFont("Helvetica", 8)
    canv.setFillColor(HexColor(NAVY))
    canv.drawString(left, y, FOOTER_LEFT)
    canv.drawRightString(right, y, f"page {page} / {total}")
    canv.restoreState()


def _draw_cover(canv, doc) -> None:
    """Cover page background of the memo and the charte: navy band and red rule."""
    from reportlab.lib.colors import HexColor

    width, height = doc.pagesize
    band = 5.2 * 28.3465
    canv.saveState()
    canv.setFillColor(HexColor(NAVY))
    canv.rect(0, height - band, width, band, stroke=0, fill=1)
    canv.setFillColor(HexColor(RED))
    canv.rect(0, height - band - 5, width, 5, stroke=0, fill=1)
    canv.setFillColor(HexColor("#FFFFFF"))
    canv.setFont("Helvetica-Bold", 15)
    canv.drawString(doc.leftMargin, height - 2.3 * 28.3465, "RÉGION NORMANDIE")
    canv.setFont("Helvetica", 10.5)
    canv.drawString(doc.leftMargin, height - 3.1 * 28.3465,
                    "Intelligence économique territoriale")
    canv.setFont("Helvetica", 8.5)
    canv.drawString(doc.leftMargin, height - 3.75 * 28.3465,
                    "Dynamique régionale co-pilotée par la Région et l’État")
    canv.restoreState()


def _mark_box(styles, width):
    """The boxed sample mark printed on page 1 of every document."""
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Paragraph, Table, TableStyle

    table = Table([[Paragraph(french_spacing(SAMPLE_MARK), styles["mark"])]], colWidths=[width])
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1, HexColor(RED)),
        ("BACKGROUND", (0, 0), (-1, -1), HexColor("#FBEFF0")),
        ("TOPPADDING", (0, 0), (-1, -1), 7), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
        ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
    ]))
    return table


class _CheckBox:
    """Factory for the small empty square drawn in front of checklist items."""

    @staticmethod
    def make():
        from reportlab.platypus import Flowable

        class Box(Flowable):
            def wrap(self, aw, ah):
                return 9, 9

            def draw(self):
                self.canv.setLineWidth(0.8)
                self.canv.rect(0, -1, 8, 8, stroke=1, fill=0)

        return Box()


class Renderer:
    """Turns blocks into ReportLab flowables for a frame of a given width."""

    def __init__(self, path: Path, width: float, styles: dict, accent: str = NAVY):
        self.path = path
        self.width = width
        self.s = styles
        self.accent = accent

    def where(self, block: Block) -> str:
        return f"{self.path}:{block.line}"

    def para(self, text: str, style: str, block: Block):
        from reportlab.platypus import Paragraph

        return Paragraph(inline(text, self.where(block)), self.s[style])

    def blocks(self, blocks: list[Block], width: float | None = None) -> list:
        width = width or self.width
        out = []
        for block in blocks:
            out.extend(self.block(block, width))
        return out

    def block(self, block: Block, width: float) -> list:
        from reportlab.lib.colors import HexColor
        from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

        kind = block.kind
        if kind in ("h2", "h3", "h4"):
            level = {"h2": 0, "h3": 1, "h4": 2}[kind]
            return [Heading.make(inline(block.text, self.where(block)), self.s[kind], level,
                                 plain(block.text), toc=level < 2)]
        if kind == "h1":
            return []  # the document title is printed by the cover or title block
        if kind in ("p", "source"):
            return [self.para(block.text, "body", block)]
        if kind == "strong":
            return [self.para(block.text, "h4", block)]
        if kind in ("ul", "ol"):
            # One Paragraph per item (not a ListFlowable): items split across pages
            # one by one and a heading's keepWithNext can hold on to the first item.
            from reportlab.lib.styles import ParagraphStyle

            base = self.s["bullet" if kind == "ul" else "number"]
            style = ParagraphStyle(f"{base.name}-{self.accent}", parent=base,
                                   bulletColor=HexColor(self.accent))
            out = []
            for n, text in enumerate(block.items, 1):
                # En dash, as in French office documents; ReportLab would encode "•" as
                # 0x7F, which text extractors read back as a control character.
                bullet = "–" if kind == "ul" else f"{n}."
                out.append(Paragraph(inline(text, self.where(block)), style, bulletText=bullet))
            out.append(Spacer(1, 4))
            return out
        if kind == "check":
            rows = [[_CheckBox.make(), self.para(text, "item", block)] for text in block.items]
            table = Table(rows, colWidths=[16, width - 16])
            table.setStyle(TableStyle([
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (0, -1), 3.5), ("TOPPADDING", (1, 0), (1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]))
            return [table, Spacer(1, 6)]
        if kind in ("box", "retenir"):
            return self.box(block, width)
        if kind == "table":
            return self.table(block, width)
        if kind == "signatures":
            return self.signatures(block, width)
        raise SourceError(f"{self.where(block)}: cannot render a block of kind {kind!r}")

    def box(self, block: Block, width: float) -> list:
        """A tinted box with a coloured left rule; one table row per inner flowable so it can split."""
        from reportlab.lib.colors import HexColor
        from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

        inner_width = width - 24
        if block.kind == "retenir":
            flows = [Paragraph("<b>À retenir&nbsp;:</b> " + inline(block.text, self.where(block)),
                               self.s["box"])]
        else:
            flows = []
            for inner in block.items:
                if inner.kind in ("p", "source"):
                    flows.append(Paragraph(inline(inner.text, self.where(inner)), self.s["box"]))
                elif inner.kind in ("h3", "h4", "strong"):
                    title = Paragraph(inline(inner.text, self.where(inner)), self.s["h4"])
                    title._box_title = True
                    flows.append(title)
                else:
                    flows.extend(self.block(inner, inner_width))
        if not flows:
            return []
        # A box title shares its row with the first paragraph, so it is never left alone
        # at the foot of a page when the box splits.
        rows = []
        for flow in flows:
            if rows and getattr(rows[-1][0][-1], "_box_title", False):
                rows[-1][0].append(flow)
            else:
                rows.append([[flow]])
        table = Table(rows, colWidths=[width])
        table.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), HexColor(LIGHT)),
            ("LINEBEFORE", (0, 0), (0, -1), 3, HexColor(self.accent)),
            ("LEFTPADDING", (0, 0), (-1, -1), 12), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, 0), 8), ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
        ]))
        return [Spacer(1, 3), table, Spacer(1, 9)]

    def table(self, block: Block, width: float) -> list:
        """A pipe table: first row is the header, column widths follow the text lengths."""
        from reportlab.lib.colors import HexColor
        from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

        rows = block.items
        ncols = max(len(r) for r in rows)
        rows = [r + [""] * (ncols - len(r)) for r in rows]
        lengths = [max(len(r[c]) for r in rows) + 12 for c in range(ncols)]
        widths = [width * n / sum(lengths) for n in lengths]
        data = []
        for i, row in enumerate(rows):
            style = self.s["cellhead"] if i == 0 else self.s["cell"]
            data.append([Paragraph(inline(c, self.where(block)), style) for c in row])
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), HexColor(NAVY)),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [HexColor("#FFFFFF"), HexColor(LIGHT)]),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, HexColor("#B9C3CE")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ]))
        return [Spacer(1, 2), table, Spacer(1, 10)]

    def signatures(self, block: Block, width: float) -> list:
        """Signature boxes (up to three in a row): « Pour … », name, place and date, signature."""
        from reportlab.lib.colors import HexColor
        from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

        cells = []
        for who in block.items:
            cells.append([
                Paragraph(inline(who, self.where(block)), self.s["sighead"]),
                Spacer(1, 6),
                Paragraph("Nom et qualité du signataire&nbsp;:", self.s["sig"]),
                Spacer(1, 10),
                Paragraph("Fait à&nbsp;:", self.s["sig"]),
                Paragraph("Le&nbsp;:", self.s["sig"]),
                Spacer(1, 8),
                Paragraph("Signature et cachet&nbsp;:", self.s["sig"]),
                Spacer(1, 30),
            ])
        per_row = len(cells) if len(cells) <= 3 else 2
        while len(cells) % per_row:
            cells.append("")
        gap = 10
        col = (width - gap * (per_row - 1)) / per_row
        widths, rows = [], []
        for c in range(per_row):
            widths += [col, gap] if c < per_row - 1 else [col]
        for i in range(0, len(cells), per_row):
            row = []
            for c, cell in enumerate(cells[i:i + per_row]):
                row += [cell, ""] if c < per_row - 1 else [cell]
            rows.append(row)
        table = Table(rows, colWidths=widths)
        commands = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 8), ("LEFTPADDING", (0, 0), (-1, -1), 8)]
        for r, row in enumerate(rows):
            for c in range(0, len(row), 2):
                if row[c] != "":
                    commands.append(("BOX", (c, r), (c, r), 0.7, HexColor(NAVY)))
        table.setStyle(TableStyle(commands))
        return [KeepTogether([Spacer(1, 4), table])]


# ---------------------------------------------------------------------------
# Building one PDF (with a second pass for « page N / M »)
# ---------------------------------------------------------------------------


@contextmanager
def source_date(day: dt.date):
    """Pin the PDF CreationDate/ModDate: ReportLab reads SOURCE_DATE_EPOCH when invariant."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(calendar.timegm(day.timetuple()))
    try:
        yield
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


@dataclass(frozen=True)
class PdfJob:
    """Everything needed to write one PDF: where, metadata, layout and a story factory."""

    output: Path
    title: str
    subject: str
    keywords: tuple[str, ...]
    date: dt.date
    header_left: str
    header_right: str
    story: object  # callable(doc_width, styles) -> list of flowables
    cover: bool


def render(job: PdfJob) -> int:
    """Write job.output; return its page count. Re-runs until « page N / M » is stable."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import Frame, PageTemplate

    SampleDoc = _make_doc_class()
    styles = _styles()
    job.output.parent.mkdir(parents=True, exist_ok=True)
    layout = {"header_left": job.header_left, "header_right": job.header_right}
    total = None
    for _ in range(5):
        with source_date(job.date):
            doc = SampleDoc(
                str(job.output), layout, total, pagesize=A4,
                leftMargin=2.0 * cm, rightMargin=2.0 * cm, topMargin=2.3 * cm,
                bottomMargin=2.2 * cm, title=job.title, author=AUTHOR, subject=job.subject,
                keywords=list(job.keywords), creator=CREATOR, invariant=1, lang="fr-FR",
                displayDocTitle=1,
            )
            body = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
            templates = []
            if job.cover:
                top = 6.6 * cm
                cover = Frame(doc.leftMargin, doc.bottomMargin, doc.width,
                              A4[1] - top - doc.bottomMargin, id="cover")
                templates.append(PageTemplate("cover", [cover], onPage=_draw_cover,
                                              onPageEnd=_draw_page_furniture))
            # Header and footer are drawn after the page content so that text
            # extraction reads them last, as in most office-suite PDFs.
            templates.append(PageTemplate("body", [body], onPageEnd=_draw_page_furniture))
            doc.addPageTemplates(templates)
            doc.multiBuild(job.story(doc.width, styles))
        if doc.pages_seen == total:
            return total
        total = doc.pages_seen
    raise RuntimeError(f"{job.output}: page count did not settle after 5 passes (last {total})")


# ---------------------------------------------------------------------------
# Memo and charte
# ---------------------------------------------------------------------------


def document_job(spec: DocumentSpec, out_dir: Path) -> PdfJob:
    """Read a long document's Markdown source and describe its PDF."""
    path = DOCUMENTS_DIR / spec.source
    meta, lines = split_front_matter(path.read_text(encoding="utf-8"), path)
    blocks = parse_blocks(lines, path)
    for key in ("title", "subtitle", "date", "doc_type", "edition"):
        if not meta.get(key):
            raise SourceError(f"{path}: front matter needs `{key}:`")
    day = parse_iso_date(meta["date"], str(path))
    title = check_printable(meta["title"], f"{path}: title")
    short = meta.get("short_title", title)
    # toc: "yes" = chapters and sections on a page of their own; "short" = chapters only,
    # followed directly by the text.
    toc = meta.get("toc", "no").lower()
    if toc in ("true", "oui", "1"):
        toc = "yes"
    chapter_break = meta.get("chapter_break", "no").lower() in ("yes", "true", "oui", "1")

    def story(width, styles):
        from reportlab.platypus import (CondPageBreak, NextPageTemplate, PageBreak, Paragraph,
                                        Spacer)
        from reportlab.platypus.tableofcontents import TableOfContents

        r = Renderer(path, width, styles)
        where = f"{path}: front matter"
        flows = [
            Paragraph(inline(meta["doc_type"].upper(), where), styles["cover_kind"]),
            Paragraph(inline(title, where), styles["cover_title"]),
            Paragraph(inline(meta["subtitle"], where), styles["cover_subtitle"]),
            Paragraph(inline(meta["edition"], where), styles["cover_meta"]),
            Paragraph("Date de publication&nbsp;: " + french_date(day), styles["cover_meta"]),
        ]
        if meta.get("cover_note"):
            flows += [Spacer(1, 16), Paragraph(inline(meta["cover_note"], where), styles["body"])]
        flows += [Spacer(1, 22), _mark_box(styles, width), NextPageTemplate("body"), PageBreak()]
        if toc in ("yes", "short"):
            contents = TableOfContents(levelStyles=[styles["toc0"], styles["toc1"]], dotsMinLevel=0)
            flows += [Paragraph("Sommaire", styles["toc_title"]), Spacer(1, 6), contents,
                      PageBreak() if toc == "yes" else Spacer(1, 18)]
        first_h2 = True
        for block in blocks:
            if block.kind == "h2" and chapter_break and not first_h2:
                # A chapter starts on a new page unless most of the current one is free.
                flows.append(CondPageBreak(0.55 * A4_HEIGHT_USABLE))
            if block.kind == "h2":
                first_h2 = False
            for flow in r.block(block, width):
                if toc == "short" and getattr(flow, "_outline_level", 0) > 0:
                    flow._in_toc = False
                flows.append(flow)
        return flows

    return PdfJob(
        output=out_dir / spec.output,
        title=title,
        subject=f"{plain(meta['subtitle'])} — {SAMPLE_MARK}",
        keywords=tuple(k.strip() for k in meta.get("keywords", "").split(",") if k.strip()),
        date=day,
        header_left=check_printable(short, f"{path}: short_title"),
        header_right=check_printable(meta["edition"], f"{path}: edition"),
        story=story,
        cover=True,
    )


# ---------------------------------------------------------------------------
# Bulletins
# ---------------------------------------------------------------------------


def _theme_key(raw: str) -> str | None:
    """Match a theme tag with case and accents ignored."""
    def fold(s):
        s = unicodedata.normalize("NFKD", s.lower())
        return re.sub(r"\s+", " ", "".join(c for c in s if not unicodedata.combining(c))).strip()

    wanted = fold(raw)
    wanted = fold(THEME_ALIASES.get(wanted, wanted))
    for key in THEMES:
        if fold(key) == wanted:
            return key
    return None


@dataclass
class BulletinItem:
    """One news item of a bulletin."""

    theme: str
    headline: str
    line: int
    blocks: list = field(default_factory=list)


def bulletin_job(path: Path, out_dir: Path) -> PdfJob:
    """Read one bulletin source (front matter numero/date, `## [thème] titre` items)."""
    meta, lines = split_front_matter(path.read_text(encoding="utf-8"), path)
    for key in ("numero", "date"):
        if not meta.get(key):
            raise SourceError(f"{path}: front matter needs `{key}:` (e.g. numero: 31, date: 2025-03-14)")
    if not meta["numero"].isdigit():
        raise SourceError(f"{path}: numero {meta['numero']!r} is not a whole number")
    number = int(meta["numero"])
    day = parse_iso_date(meta["date"], str(path))
    month = f"{MONTHS_FR[day.month - 1]} {day.year}"
    title = f"Bulletin de veille collaborative n° {number} — {month}"
    stem = re.fullmatch(r"(\d{4})-(\d{2})", path.stem)
    if stem and (int(stem.group(1)), int(stem.group(2))) != (day.year, day.month):
        print(f"warning: {path}: file name says {path.stem} but date is {day}; "
              f"the PDF is named after the date", file=sys.stderr)

    intro: list[Block] = []
    items: list[BulletinItem] = []
    for block in parse_blocks(lines, path, bulletin=True):
        if block.kind == "h1":
            expected = re.sub(r"\s+", " ", title.replace("n° ", "n°"))
            got = re.sub(r"\s+", " ", unicodedata.normalize("NFC", block.text).replace(_NBSP, " ")
                         .replace("n° ", "n°"))
            if got.lower() != expected.lower():
                print(f"warning: {path}:{block.line}: title {block.text!r} differs from the one "
                      f"built from the front matter ({title!r}); the latter is printed",
                      file=sys.stderr)
            continue
        if block.kind == "h2":
            match = re.match(r"^\[([^\]]+)\]\s*(.+)$", block.text)
            if not match:
                raise SourceError(f"{path}:{block.line}: item heading must read "
                                  f"'## [thème] Titre', got {block.text!r}")
            theme = _theme_key(match.group(1))
            if theme is None:
                raise SourceError(f"{path}:{block.line}: theme [{match.group(1)}] is not one of "
                                  f"{', '.join(THEMES)}")
            items.append(BulletinItem(theme, match.group(2), block.line))
        elif items:
            items[-1].blocks.append(block)
        else:
            intro.append(block)
    if not items:
        raise SourceError(f"{path}: no item found (items start with '## [thème] Titre')")
    for item in items:
        if not any(b.kind == "source" for b in item.blocks):
            print(f"warning: {path}:{item.line}: item has no 'Source :' line", file=sys.stderr)
        if not any(b.kind == "retenir" for b in item.blocks):
            print(f"warning: {path}:{item.line}: item has no 'À retenir :' paragraph", file=sys.stderr)

    def story(width, styles):
        from reportlab.lib.colors import HexColor
        from reportlab.platypus import HRFlowable, Paragraph, Spacer, Table, TableStyle

        band = Table([
            [Paragraph("RÉGION NORMANDIE — INTELLIGENCE ÉCONOMIQUE TERRITORIALE", styles["b_band_small"])],
            [Paragraph("Bulletin de veille collaborative", styles["b_band_title"])],
            [Paragraph(f"n°&nbsp;{number} — {month}", styles["b_band_number"])],
            [Paragraph("Cybersécurité · Intelligence artificielle · Blockchain", styles["b_band_small"])],
        ], colWidths=[width])
        band.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), HexColor(NAVY)),
            ("LINEBELOW", (0, -1), (-1, -1), 4, HexColor(RED)),
            ("LEFTPADDING", (0, 0), (-1, -1), 14),
            ("TOPPADDING", (0, 0), (-1, 0), 12), ("BOTTOMPADDING", (0, -1), (-1, -1), 12),
            ("TOPPADDING", (0, 3), (-1, 3), 8),
        ]))
        flows = [
            band,
            Paragraph(f"Publié le {french_date(day)}", styles["b_published"]),
            Paragraph(french_spacing("Réalisé en partenariat avec : " + BULLETIN_PARTNERS + "."),
                      styles["b_partners"]),
            _mark_box(styles, width),
            Spacer(1, 10),
        ]
        r = Renderer(path, width, styles)
        flows.extend(r.blocks(intro))
        flows.append(Paragraph("Au sommaire de ce numéro", styles["b_toc_title"]))
        for item in items:
            label, colour = THEMES[item.theme]
            flows.append(Paragraph(
                f'<font color="{colour}"><b>{label.capitalize()}</b></font> — '
                + inline(item.headline, f"{path}:{item.line}"), styles["b_toc"]))
        previous_theme = None
        for n, item in enumerate(items):
            label, colour = THEMES[item.theme]
            if n:
                flows.append(HRFlowable(width="100%", thickness=0.5, color=HexColor("#B9C3CE"),
                                        spaceBefore=6, spaceAfter=0))
            else:
                flows.append(Spacer(1, 6))
            if item.theme != previous_theme:
                # One theme divider per group of items: a level-0 bookmark over the items' level-1 ones,
                # so the theme of every item is in the PDF's own structure.
                flows.append(Heading.make(
                    f'<font backColor="{colour}" color="#FFFFFF">&nbsp;{label}&nbsp;</font>',
                    styles["b_tag"], 0, item.theme.capitalize(), toc=False))
                previous_theme = item.theme
            flows.append(Heading.make(inline(item.headline, f"{path}:{item.line}"),
                                      styles["b_headline"], 1, plain(item.headline), toc=False))
            item_renderer = Renderer(path, width, styles, accent=colour)
            for block in item.blocks:
                if block.kind == "source":
                    flows.append(Paragraph("Source&nbsp;: " + inline(block.text, f"{path}:{block.line}"),
                                           styles["b_source"]))
                elif block.kind in ("h2", "h3", "h4"):
                    flows.append(Paragraph(inline(block.text, f"{path}:{block.line}"), styles["h4"]))
                else:
                    flows.extend(item_renderer.block(block, width))
        return flows

    themes = sorted({i.theme for i in items}, key=list(THEMES).index)
    return PdfJob(
        output=out_dir / "bulletins" / f"bulletin-veille-{day.year:04d}-{day.month:02d}.pdf",
        title=title,
        subject=f"Veille collaborative : {', '.join(themes)} — {SAMPLE_MARK}",
        keywords=("veille collaborative", *themes, f"n° {number}"),
        date=day,
        header_left=title,
        header_right=f"Publié le {french_date(day)}",
        story=story,
        cover=False,
    )


# ---------------------------------------------------------------------------
# Checks with pypdf
# ---------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """Fold extraction artefacts (line-end hyphens, no-break spaces, apostrophes) for matching."""
    text = re.sub(r"-\n", "", text)
    text = text.replace(_NBSP, " ").replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


_HYPHEN_BREAK = re.compile(r"[a-zà-öø-ÿœ]-\n[a-zà-öø-ÿœ]")


@dataclass
class CheckResult:
    """What pypdf read back from one PDF."""

    path: Path
    pages: int
    hyphen_breaks: int
    problems: list


def check_pdf(path: Path, title: str, day: dt.date, pages: tuple[int, int],
              min_hyphens: int) -> CheckResult:
    """Read a PDF back and list what is wrong with it."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    texts = [page.extract_text() or "" for page in reader.pages]
    whole = "\n".join(texts)
    problems = []
    if not pages[0] <= len(texts) <= pages[1]:
        problems.append(f"{len(texts)} pages, expected {pages[0]}–{pages[1]}")
    if _normalise(SAMPLE_MARK) not in _normalise(texts[0] if texts else ""):
        problems.append("sample mark not found in the text of page 1")
    breaks = len(_HYPHEN_BREAK.findall(whole))
    if breaks < min_hyphens:
        problems.append(f"{breaks} hyphenated line ends, expected at least {min_hyphens}")
    for needle in ("é", "’"):
        if needle not in whole:
            problems.append(f"no {needle!r} in the extracted text")
    if "\ufffd" in whole or "Ã" in whole:
        problems.append("replacement characters or mojibake in the extracted text")
    meta = reader.metadata or {}
    if meta.get("/Title") != title:
        problems.append(f"metadata title {meta.get('/Title')!r} != {title!r}")
    if meta.get("/Author") != AUTHOR:
        problems.append(f"metadata author {meta.get('/Author')!r}")
    if SAMPLE_MARK not in (meta.get("/Subject") or ""):
        problems.append("sample mark missing from metadata subject")
    created = reader.metadata.creation_date if reader.metadata else None
    if created is None or created.date() != day:
        problems.append(f"creation date {created} != {day}")
    for n, text in enumerate(texts, 1):
        if f"page {n} / {len(texts)}" not in text:
            problems.append(f"footer « page {n} / {len(texts)} » missing on page {n}")
            break
    return CheckResult(path, len(texts), breaks, problems)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def collect_jobs(out_dir: Path, bulletin_files: list[Path] | None, only: str | None):
    """Return (jobs with their expected page range and hyphen minimum, errors)."""
    jobs, errors = [], []
    if bulletin_files is None and only in (None, "documents"):
        for spec in DOCUMENT_SPECS:
            try:
                jobs.append((document_job(spec, out_dir), (spec.min_pages, spec.max_pages),
                             MIN_HYPHENATIONS_LONG_DOC))
            except (SourceError, OSError) as exc:
                errors.append(str(exc))
    if bulletin_files is None and only in (None, "bulletins"):
        bulletin_files = sorted(p for p in BULLETINS_DIR.glob("*.md") if not p.name.startswith("_"))
    seen: dict[Path, Path] = {}
    for path in bulletin_files or []:
        try:
            job = bulletin_job(path, out_dir)
        except (SourceError, OSError) as exc:
            errors.append(str(exc))
            continue
        if job.output in seen:
            errors.append(f"{path}: same month as {seen[job.output]}; both would write {job.output.name}")
            continue
        seen[job.output] = path
        jobs.append((job, BULLETIN_PAGES, 0))
    return jobs, errors


def main(argv: list[str] | None = None) -> int:
    """Build the sample PDFs, check them, print a summary; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="corpus folder to write into (default: %(default)s)")
    parser.add_argument("--only", choices=("documents", "bulletins"),
                        help="build only the memo and charte, or only the bulletins")
    parser.add_argument("--bulletin", type=Path, action="append",
                        help="render this bulletin source only (repeatable; '_' files allowed)")
    parser.add_argument("--no-check", action="store_true", help="skip the pypdf read-back checks")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("pyphen") is None:  # ReportLab silently skips hyphenation
        print("error: pyphen is not installed, so words would not be hyphenated; "
              "run `.venv/bin/pip install pyphen`", file=sys.stderr)
        return 1

    jobs, errors = collect_jobs(args.out, args.bulletin, args.only)
    results = []
    for job, pages, min_hyphens in jobs:
        try:
            count = render(job)
        except SourceError as exc:
            errors.append(str(exc))
            continue
        except Exception as exc:  # one bad file never stops the others
            errors.append(f"{job.output}: rendering failed: {type(exc).__name__}: {exc}")
            continue
        results.append((job, pages, min_hyphens, count))
        rel = job.output.relative_to(ROOT) if job.output.is_relative_to(ROOT) else job.output
        print(f"wrote {rel} ({count} pages, {job.output.stat().st_size:,} bytes)")

    failed = bool(errors)
    if not args.no_check and results:
        print("\nchecks (pypdf):")
        with tempfile.TemporaryDirectory() as tmp:
            for job, pages, min_hyphens, _ in results:
                check = check_pdf(job.output, job.title, job.date, pages, min_hyphens)
                # Rebuild into a scratch folder: the bytes must not change.
                twin = PdfJob(**{**job.__dict__, "output": Path(tmp) / job.output.name})
                render(twin)
                if _sha256(twin.output) != _sha256(job.output):
                    check.problems.append("a rebuild is not byte-identical")
                status = "ok" if not check.problems else "FAIL: " + "; ".join(check.problems)
                print(f"  {job.output.name}: {check.pages} pages, "
                      f"{check.hyphen_breaks} hyphenated line ends, {status}")
                failed |= bool(check.problems)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if not jobs and not errors:
        print("nothing to build")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
