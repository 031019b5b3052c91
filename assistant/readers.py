"""File -> Document: PDF per page, HTML and Markdown per heading, plain text.

Every reader returns a Document whose sections never mix two pages or two
headings, and repairs what extraction breaks in French text (ligatures,
hyphenation at line ends, running headers and footers, odd spaces).
A file that cannot be read raises ReadError with a reason a maintainer can act on.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path

from .french import LIST_ITEM, MONTH_NAMES, MONTH_NUMBERS
from .lexical import fold, french_words
from .schema import Document, Section

SUPPORTED_SUFFIXES = (".pdf", ".html", ".htm", ".md", ".markdown", ".txt")

SAMPLE_MARK = "document d'exemple"


class ReadError(Exception):
    """A file that cannot be turned into a Document; the message says why and what to do."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path} : {reason}")
        self.path = str(path)
        self.reason = reason


# ---------------------------------------------------------------- text repair

_SPACES = re.compile(r"[\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000\t]")
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069\ue000-\uf8ff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Fix mojibake, ligatures, odd spaces, invisible and control characters."""
    import ftfy

    # ftfy repairs mojibake and ligatures (ﬁ ﬂ) and straightens ’ to ' so that
    # elisions (l', d') look the same whatever the source typography was.
    text = ftfy.fix_text(text, uncurl_quotes=True, fix_latin_ligatures=True, normalization="NFC")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def parse_date(text: str | None) -> str | None:
    """ISO date from '2025-03-14', '14/03/2025', '14 mars 2025' or 'mars 2025' (day 1)."""
    if not text:
        return None
    text = text.strip()
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"D:(\d{4})(\d{2})(\d{2})", text)  # PDF date strings
    if m:
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", text)
    if m:
        return _iso(int(m[3]), int(m[2]), int(m[1]))
    m = re.search(rf"\b(?:(\d{{1,2}})(?:er)?\s+)?({MONTH_NAMES})\s+(\d{{4}})\b", text, re.IGNORECASE)
    if m:
        return _iso(int(m[3]), MONTH_NUMBERS[m[2].lower()], int(m[1] or 1))
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def guess_doc_type(title: str, path: Path, declared: str | None = None) -> str:
    """The document type from what the file says, else from its title and path."""
    if declared:
        declared = fold(declared)
        for code, words in _TYPE_WORDS:
            if declared == code or any(w in declared for w in words):
                return code
    # « Guide d'élaboration d'une charte » is a guide: the type named first in the title wins.
    folded_title = fold(title)
    positions = [(min(folded_title.find(w) for w in words if w in folded_title), code)
                 for code, words in _TYPE_WORDS if any(w in folded_title for w in words)]
    if positions:
        return min(positions)[1]
    haystack = fold(path.as_posix())
    for code, words in _TYPE_WORDS:
        if any(w in haystack for w in words):
            return code
    return "autre"


_TYPE_WORDS = (
    ("bulletin", ("bulletin", "veille collaborative")),
    ("memo", ("memo",)),
    ("charte", ("charte", "charter")),
    ("guide", ("guide", "anssi", "mesure", "fiche", "monaidecyber", "catalogue", "diagnostic")),
    ("strategie", ("strategie", "strategy", "page", "programme", "intelligence-economique", "pole", "gouvernance")),
)


# ---------------------------------------------------------------- dispatch


def read_document(path: Path, max_file_mb: float = 50.0, max_pages: int = 2000) -> Document:
    """Read one file of a supported type into a Document, or raise ReadError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReadError(path, f"type de fichier non pris en charge ({suffix or 'sans extension'}) : "
                              f"formats acceptés {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        size = path.stat().st_size
        # The size limit is checked before reading, so an oversized file costs nothing.
        if size > max_file_mb * 1024 * 1024:
            raise ReadError(path, f"fichier trop gros ({size / 1048576:.1f} Mo > {max_file_mb:g} Mo) : "
                                  "découpez-le ou relevez max_file_mb (ASSISTANT_MAX_FILE_MB)")
        data = path.read_bytes()
    except PermissionError:
        raise ReadError(path, "lecture refusée (permissions) : donnez le droit de lecture au fichier") from None
    except OSError as err:
        raise ReadError(path, f"fichier illisible ({err.strerror or err})") from None
    if size == 0 or not data.strip():
        raise ReadError(path, "fichier vide : rien à indexer")
    if suffix == ".pdf":
        doc = _read_pdf(path, data, max_pages)
    elif suffix in (".html", ".htm"):
        doc = _read_html(path, data)
    elif suffix in (".md", ".markdown"):
        doc = _read_markdown(path, _decode(path, data))
    else:
        doc = _read_text(path, _decode(path, data))
    if not any(s.text.strip() for s in doc.sections):
        raise ReadError(path, "aucun texte exploitable après extraction")
    return doc


def _decode(path: Path, data: bytes, declared: str | None = None) -> str:
    """Bytes to str: UTF-8, else the declared charset, else Windows-1252 (a superset of Latin-1)."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(path, "fichier binaire, pas du texte : vérifiez son extension")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in (declared, "cp1252", "latin-1"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError(path, "encodage de caractères inconnu : enregistrez le fichier en UTF-8")


# ---------------------------------------------------------------- front matter and header lines

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_URL = re.compile(r"https?://[^\s)>\]\"']+")


def _split_front_matter(text: str) -> tuple[dict, str]:
    """Simple `key: value` front matter (YAML subset), and the rest of the text."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    meta = {}
    for line in m[1].splitlines():
        if ":" in line and not line.startswith((" ", "\t", "#")):
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[m.end():]


def _header_facts(text: str) -> dict:
    """Source URL and date stated near the top of a text file (comment or `Lien :` lines)."""
    head = text[:3000]
    facts: dict = {}
    comment = re.match(r"\s*<!--(.*?)-->", head, re.DOTALL)
    for line in head.splitlines()[:15]:
        low = fold(line)
        url = _URL.search(line)
        if url and re.match(r"\s*(lien|source|url|adresse)\s*:", low):
            facts.setdefault("url", url[0].rstrip(".,;"))
        m = re.search(r"(mise a jour|date de publication|publie le|date)\s*:\s*([^—|]+)", low)
        if m and "date" not in facts:
            iso = parse_date(line[m.start(2):m.end(2)])
            if iso:
                facts["date"] = iso
    if comment and "url" not in facts:
        urls = _URL.findall(comment[1])
        if urls:
            facts["url"] = urls[0].rstrip(".,;")
    return facts


def _strip_comments(text: str) -> str:
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)


# ---------------------------------------------------------------- Markdown


_HEADING = re.compile(r"^(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def markdown_sections(text: str) -> tuple[str | None, list[Section]]:
    """Split Markdown into sections by ATX heading; heading paths joined with ' › '.

    Returns the first level-1 heading (the title, if any) and the sections.
    """
    title = None
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buffer: list[str] = []
    in_fence = False

    def flush():
        body = pipe_table_rows(clean_text("\n".join(buffer)))
        if body:
            heading = " › ".join(h for _, h in stack) or None
            sections.append(Section(text=body, heading=heading))
        buffer.clear()

    for line in text.splitlines():
        if line.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if not m:
            line = _MD_ESCAPE.sub(r"\1", _MD_EMPHASIS.sub(r"\2", line))
            if not _is_chrome(line):
                buffer.append(line)
            continue
        flush()
        level, heading = len(m[1]), clean_text(_MD_ESCAPE.sub(r"\1", m[2] or "").strip("*_ "))
        if not heading:
            continue
        if _is_chrome(heading):
            heading = ""
        if level == 1 and title is None:
            title = heading or None
            stack = []
            continue
        if not heading:
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    return title, sections


def _read_markdown(path: Path, text: str) -> Document:
    meta, body = _split_front_matter(text)
    facts = _header_facts(text)
    title, sections = markdown_sections(_strip_comments(body))
    title = clean_text(meta.get("title") or title or _title_from_name(path))
    return _document(path, title, sections, meta, facts, text)


def _document(path: Path, title: str, sections: list[Section], meta: dict, facts: dict,
              raw: str, default_type: str | None = None) -> Document:
    """Assemble a Document from what a text-like reader found."""
    doc_type = guess_doc_type(title, path, meta.get("doc_type") or meta.get("type") or default_type)
    iso = parse_date(meta.get("date")) or facts.get("date")
    if not iso and doc_type == "bulletin":
        iso = parse_date(title)
    url = meta.get("url") or meta.get("source") or facts.get("url")
    if url and not _URL.match(url):
        url = None
    number = meta.get("numero") or meta.get("number")
    return Document(
        source=str(path),
        title=title,
        doc_type=doc_type,
        sections=tuple(sections),
        date=iso,
        url=url,
        sample=SAMPLE_MARK in fold(raw[:5000]).replace("’", "'") or "sample" in meta,
        number=int(number) if number and str(number).isdigit() else None,
    )


def _title_from_name(path: Path) -> str:
    name = re.sub(r"[-_]+", " ", path.stem).strip()
    return name[:1].upper() + name[1:] if name else path.name


# ---------------------------------------------------------------- plain text

# Lines that scrapers keep from French public web pages: navigation, rating widgets.
_WEB_CHROME = re.compile(
    r"^(aller au contenu( principal)?|retour a la page d'accueil|evaluer cette page\s*:?|"
    r"l'avis des internautes\s*:?|partager( cette page)?|imprimer|logo|clock|menu|rechercher|"
    r"fermer|accueil|haut de page|plan du site|mentions legales)\s*$"
)


def _is_chrome(line: str) -> bool:
    """A navigation or widget line of a web page, or a dotted table-of-contents line."""
    if _TOC_LINE.search(line):
        return True
    return bool(_WEB_CHROME.match(fold(line.replace("’", "'")).strip(" •·-*:#")))


# « Partie 1 — Anticiper . . . . . 3 »: leaders carry no meaning and drown the words in noise.
_TOC_LINE = re.compile(r"(?:\.\s?){4,}\s*\d*\s*$|…{2,}\s*\d*\s*$")


def _read_text(path: Path, text: str) -> Document:
    meta, body = _split_front_matter(text)
    facts = _header_facts(text)
    # Chrome lines become blank lines, so paragraph structure survives the filter.
    lines = [ln.strip() for ln in _strip_comments(body).splitlines()]
    lines = ["" if _is_chrome(ln) or not ln.strip(" •·-*") else ln for ln in lines]
    blocks = "\n".join(lines)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", blocks) if p.strip()]
    sections: list[Section] = []
    heading = None
    title = meta.get("title")
    buffer: list[str] = []

    def flush():
        body_text = clean_text("\n".join(buffer))
        if body_text:
            sections.append(Section(text=body_text, heading=heading))
        buffer.clear()

    for para in paragraphs:
        if _looks_like_heading(para):
            if title is None and not sections and not buffer:
                title = para
                continue
            flush()
            heading = clean_text(para.rstrip(" :"))
            continue
        if title is None and not sections and not buffer and len(para) < 120 and "\n" not in para:
            title = para
            continue
        buffer.append(para)
    flush()
    title = clean_text(title or _title_from_name(path))
    return _document(path, title, sections, meta, facts, text)


def _looks_like_heading(para: str) -> bool:
    """A short single line without closing punctuation reads as a heading in plain text."""
    para = para.strip()
    if "\n" in para or len(para) > 90 or len(para) < 3:
        return False
    if para[-1] in ".;,:!?»\"" or LIST_ITEM.match(para):
        return False
    return para[0].isupper() or para[0].isdigit()


# ---------------------------------------------------------------- HTML


def _read_html(path: Path, data: bytes) -> Document:
    import trafilatura

    head = data[:4096].decode("ascii", "ignore")
    declared = re.search(r"charset=[\"']?([\w-]+)", head, re.IGNORECASE)
    html = _decode(path, data, declared[1] if declared else None)
    if not re.search(r"<(html|body|p|div|h\d|main|article)\b", html, re.IGNORECASE):
        raise ReadError(path, "ce fichier .html ne contient pas de HTML : vérifiez son extension")
    # trafilatura is built for boilerplate removal (menus, cookie banners, footers)
    # and keeps headings in its Markdown output, which our Markdown splitter reads.
    markdown = trafilatura.extract(
        html, output_format="markdown", include_formatting=True, include_links=False,
        include_images=False, include_comments=False, favor_recall=True, with_metadata=False,
        deduplicate=False,
    )
    if not markdown:
        raise ReadError(path, "aucun contenu principal trouvé dans la page HTML")
    meta_doc = trafilatura.extract_metadata(html)
    md_title, sections = markdown_sections(markdown)
    page_title = _meta_content(html, "og:title") or (meta_doc.title if meta_doc else None)
    title = clean_text(md_title or page_title or _title_from_name(path))
    meta = {
        "date": _meta_content(html, "date") or (meta_doc.date if meta_doc else None),
        "doc_type": _meta_content(html, "doc_type"),
        "url": _canonical(html) or (meta_doc.url if meta_doc and meta_doc.url else None),
    }
    if _meta_content(html, "sample"):
        meta["sample"] = "1"
    return _document(path, title, sections, {k: v for k, v in meta.items() if v}, {}, html,
                     default_type="strategie")


def _meta_content(html: str, name: str) -> str | None:
    for pattern in (
        rf"<meta[^>]+(?:name|property)=[\"']{re.escape(name)}[\"'][^>]*content=[\"']([^\"']*)",
        rf"<meta[^>]+content=[\"']([^\"']*)[\"'][^>]*(?:name|property)=[\"']{re.escape(name)}[\"']",
    ):
        m = re.search(pattern, html, re.IGNORECASE)
        if m:
            return m[1].strip() or None
    return None


def _canonical(html: str) -> str | None:
    m = re.search(r"<link[^>]+rel=[\"']canonical[\"'][^>]*href=[\"']([^\"']+)", html, re.IGNORECASE)
    return m[1] if m else None


# ---------------------------------------------------------------- PDF


def _read_pdf(path: Path, data: bytes, max_pages: int) -> Document:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ReadError(path, "ce fichier .pdf n'est pas un PDF (en-tête %PDF absent) : vérifiez son extension")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise ReadError(path, "PDF protégé par mot de passe : fournissez une version non chiffrée")
        n_pages = len(reader.pages)
        if n_pages > max_pages:
            raise ReadError(path, f"trop de pages ({n_pages} > {max_pages}) : découpez le PDF ou relevez max_pages "
                                  "(ASSISTANT_MAX_PAGES)")
        plain_pages = [_page_text(page) for page in reader.pages]
        # The document's words are read only when a page holds a table (most PDFs hold none).
        words = lru_cache(maxsize=1)(lambda: _words_of(plain_pages))
        raw_pages = [_with_table_rows(text, _page_text(page, layout=True), words)
                     for text, page in zip(plain_pages, reader.pages)]
        info = reader.metadata or {}
        outline = _pdf_outline(reader)
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, AssertionError) as err:
        raise ReadError(path, f"PDF corrompu ou illisible ({type(err).__name__}) : "
                              "réexportez-le depuis son logiciel d'origine") from None
    except Exception as err:  # pypdf raises many exception types on hostile files
        raise ReadError(path, f"PDF illisible ({type(err).__name__}: {err})"[:300]) from None

    if not any(t.strip() for t in raw_pages):
        raise ReadError(path, "PDF sans couche texte (document scanné ?) : passez-le à l'OCR "
                              "(par ex. ocrmypdf) puis réindexez")
    pages = [clean_text(t) for t in raw_pages]
    pages = _drop_running_lines(pages)
    vocabulary = _hyphen_vocabulary("\n".join(pages))

    meta_title = clean_text(str(info.get("/Title") or "")) if info else ""
    subject = str(info.get("/Subject") or "") if info else ""
    first_line = next((ln for ln in pages[0].splitlines() if len(ln) > 3), "").replace(ROW_END, "")
    title = meta_title or first_line[:150] or _title_from_name(path)
    sections = [Section(text=_reflow(part, vocabulary), page=sec.page, heading=sec.heading)
                for sec in _pdf_sections(pages, outline) for part in _after_tables(sec.text)]
    sections = [sec for sec in sections if sec.text]
    first_page = next((sec.text for sec in sections if sec.page == 1), "")
    meta = {"date": _pdf_date(info, title, first_page), "doc_type": str(info.get("/DocType") or "") or None}
    raw = f"{subject}\n{pages[0]}".replace(ROW_END, "")
    number = re.search(r"n°\s*(\d+)", title)
    doc = _document(path, title, sections, {k: v for k, v in meta.items() if v}, {}, raw)
    if number:
        from dataclasses import replace
        doc = replace(doc, number=int(number[1]))
    return doc


def _page_text(page, layout: bool = False) -> str:
    try:
        if layout:
            return page.extract_text(extraction_mode="layout") or ""
        return page.extract_text() or ""
    except Exception:
        # One unreadable page should not cost the whole document.
        return ""


# ---------------------------------------------------------------- tables

# A table's cells, in pypdf's plain extraction, come one wrapped line after another, column after column: « Votre
# besoin / À qui vous adresser / … / Approche suspecte, / ingérence, sécurité / économique / Services de l'État… ».
# Joined into a paragraph, the memo's « Qui contacter ? » table read as one run of words, and « je veux exporter
# au Canada, qui peut m'aider ? » found nothing of its « Projets à l'international » row. The layout extraction
# keeps each cell where it stands on the page; a table found there is written back one row a line, each cell after
# its column's heading: « – Projets à l'international — À qui vous adresser : Team France Export Normandie, CCI
# Normandie — Ce que vous pouvez en attendre : Information pays, préparation des missions et salons. »

# Ends a table's row line: `_reflow` never joins the next line to it (a row is as long as a full line of text).
ROW_END = "\u2063"  # INVISIBLE SEPARATOR: kept by clean_text, not a line break for splitlines
# A cell's text on a layout line: words one or two spaces apart; three or more spaces part two cells.
_CELL = re.compile(r"\S+(?: {1,2}\S+)*")
# A column's heading: short, and not a sentence.
HEADING_CELL_CHARS = 60
# How far a cell may start from its column's heading.
ALIGN = 2


def _fragments(line: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _CELL.finditer(line)]


def _row_groups(text: str) -> list[list[str]]:
    """The layout text's runs of lines between blank lines."""
    groups, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _cells(group: list[str], starts: list[int]) -> list[list[str]] | None:
    """Each column's lines in a row group, or None when a piece of text stands in no column (not a table row)."""
    columns: list[list[str]] = [[] for _ in starts]
    bounds = [*starts[1:], 10 ** 6]
    for line in group:
        for start, end, text in _fragments(line):
            column = next((j for j, s in enumerate(starts) if abs(start - s) <= ALIGN), None)
            if column is None or end > bounds[column] - 1:
                return None
            columns[column].append(text)
    return columns


def layout_tables(layout: str) -> list[tuple[list[str], list[list[str]]]]:
    """Tables found in a page's layout text: each its column headings and its rows (each cell's text lines).

    A table opens with a line of at least two short cells that are not sentences (its headings), standing alone
    between blank lines, and goes on with the groups of lines whose every piece starts under a heading and ends
    before the next column. Rows must be parted by blank lines, as pypdf's layout mode writes a ruled table's."""
    groups = _row_groups(layout)
    tables = []
    i = 0
    while i < len(groups):
        head = _fragments(groups[i][0]) if len(groups[i]) == 1 else []
        if len(head) < 2 or any(len(text) > HEADING_CELL_CHARS or text[-1] in ".;!?" for _, _, text in head):
            i += 1
            continue
        starts = [start for start, _, _ in head]
        rows = []
        j = i + 1
        while j < len(groups):
            cells = _cells(groups[j], starts)
            if cells is None or sum(bool(c) for c in cells) < 2:
                break
            rows.append(cells)
            j += 1
        if rows:
            tables.append(([text for _, _, text in head], rows))
            i = j
        else:
            i += 1
    return tables


def _words_of(pages: list[str]) -> set[str]:
    """The document's words, lower-cased: what a word cut in a narrow cell is checked against."""
    return {w.lower() for text in pages for w in re.findall(r"\w+", text)}


def _cell_text(lines: list[str], words: set[str]) -> str:
    """A cell's lines as one line. A narrow column cuts words without a hyphen (« Confiden / tiel »): two pieces
    that are not French words alone, and are one joined (in general French or in the document), are joined."""
    known = french_words()
    out = ""
    for line in lines:
        tail, head = re.search(r"(\w+)$", out), re.match(r"\w+", line)
        if tail and head and head[0][0].islower():
            joined = (tail[1] + head[0]).lower()
            if (fold(joined) in known or joined in words) \
                    and fold(tail[1].lower()) not in known and fold(head[0]) not in known:
                out += line
                continue
        out = f"{out}\n{line}" if out else line
    return _reflow(out, set()).replace("\n", " ")


def _row_line(headings: list[str], cells: list[list[str]], words: set[str]) -> str:
    """A PDF table's row as one line (`row_text`), closed by ROW_END so that `_reflow` keeps it a line."""
    return row_text(headings, [_cell_text(lines, words) if lines else "" for lines in cells]) + ROW_END


def row_text(headings: list[str] | None, cells: list[str]) -> str:
    """« – first cell — second heading : second cell — … . »: a table's row read alone, each cell after its column's
    heading (the first heading names what every row is, and goes); without headings, the cells in turn."""
    parts = []
    for column, text in enumerate(cells):
        if not text:
            continue
        heading = headings[column] if headings and column < len(headings) else ""
        parts.append(f"{heading} : {text}" if column and heading else text)
    line = " — ".join(parts)
    return f"– {line}" + ("" if line[-1:] in (".", "!", "?") else ".")


# A Markdown table's line (HTML tables come through Markdown: `_read_html`), and its separator line.
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|(?:\s*:?-{3,}:?\s*\|)+\s*$")


def pipe_table_rows(text: str) -> str:
    """Markdown tables written one row a line, like a PDF's (`row_text`): « | Jeudi 12 juin 2025 | Webinaire … |
    En ligne | » under « | Date | Rendez-vous | Format | » reads « – Jeudi 12 juin 2025 — Rendez-vous : Webinaire …
    — Format : En ligne. ». A row above a separator line gives the headings; a row of one cell is a caption, kept as
    a line of its own."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _PIPE_ROW.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        block = []
        while i < len(lines) and _PIPE_ROW.match(lines[i]):
            block.append(lines[i])
            i += 1
        headings = None
        for k, line in enumerate(block):
            if _PIPE_RULE.match(line):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            filled = [c for c in cells if c]
            if not filled:
                continue
            if len(filled) == 1:
                out.append(filled[0])
            elif headings is None and k + 1 < len(block) and _PIPE_RULE.match(block[k + 1]):
                headings = cells
            else:
                out.append(row_text(headings, cells))
    return "\n".join(out)


def _after_tables(text: str) -> list[str]:
    """A section's text cut where a table ends and other text follows: what a page prints after a table (the memo's
    emergency steps under its contacts table) is read as a passage of its own, not as the table's last row's."""
    parts, current, in_table = [], [], False
    for line in text.split("\n"):
        row = line.endswith(ROW_END)
        if in_table and not row and line.strip() and current:
            parts.append("\n".join(current))
            current = []
        in_table = row or (in_table and not line.strip())
        current.append(line)
    parts.append("\n".join(current))
    return parts


def _with_table_rows(plain: str, layout: str, words: Callable[[], set[str]] = frozenset) -> str:
    """The page's plain text with each table found in its layout text written one row a line (`layout_tables`);
    `words` gives the document's words, which a word cut in a narrow cell is checked against (`_cell_text`).

    A table is replaced only where the plain text holds exactly its words, from its first heading to its last cell;
    anywhere else the plain text is kept as it is."""
    if not layout.strip():
        return plain
    lines = plain.split("\n")
    for headings, rows in layout_tables(layout):
        first = _squash(headings[0])
        last_cell = next(c for c in reversed(rows[-1]) if c)
        last = _squash(last_cell[-1])
        start = next((k for k, line in enumerate(lines) if _squash(line).startswith(first)), None)
        if start is None:
            continue
        end = next((k for k in range(start, len(lines)) if _squash(lines[k]).endswith(last)), None)
        if end is None:
            continue
        pieces = [*headings, *(text for row in rows for cell in row for text in cell)]
        if Counter(_squash("".join(lines[start:end + 1]))) != Counter(_squash("".join(pieces))):
            continue
        lines[start:end + 1] = [_row_line(headings, row, words()) for row in rows]
    return "\n".join(lines)


_STATED_DATE = re.compile(r"(?:publi[ée]e? le|paru le|diffus[ée]e? le|date de publication\s*:|mis[e]? à jour le)\s*"
                          r"([^\n.;]{6,30})", re.IGNORECASE)


def _pdf_date(info, title: str, first_page: str) -> str | None:
    """A stated date: « Publié le … » on page 1, else in the title (bulletins), else the PDF creation date."""
    stated = _STATED_DATE.search(first_page)
    if stated and parse_date(stated[1]):
        return parse_date(stated[1])
    from_title = parse_date(title)
    if from_title:
        return from_title
    raw = str(info.get("/CreationDate") or "") if info else ""
    return parse_date(raw)


def _pdf_outline(reader) -> list[tuple[int, int, str]]:
    """Flattened bookmarks as (page index, depth, title), in reading order."""
    entries: list[tuple[int, int, str]] = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = clean_text(str(item.title))
            except Exception:
                continue
            if page is not None and page >= 0 and title:
                entries.append((page, depth, title))

    try:
        walk(reader.outline, 0)
    except Exception:
        return []
    return entries


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove headers and footers: lines repeated at the top or bottom of most pages."""
    if len(pages) < 3:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())

    edge = 4  # a running block can hold a title, an edition, an organisation and a page number
    counts: Counter = Counter()
    for text in pages:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        counts.update(set(key(ln) for ln in lines[:edge] + lines[-edge:]))
    threshold = max(2, int(0.5 * len(pages)))
    running = {k for k, c in counts.items() if c >= threshold}
    page_number = re.compile(r"[-–\s]*(page\s*)?\d+(\s*/\s*\d+)?[-–\s]*", re.I)
    out = []
    for text in pages:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        n = len(lines)
        kept = [ln for i, ln in enumerate(lines)
                if not ((i < edge or i >= n - edge) and (key(ln) in running or page_number.fullmatch(ln)))]
        out.append("\n".join(kept))
    return out


def _hyphen_vocabulary(text: str) -> set[str]:
    """Words written with an inner hyphen somewhere in the document (peut-être, sous-traitant)."""
    return {w.lower() for w in re.findall(r"\b\w+-\w+\b", text)}


# Second halves of words that are written with a hyphen (elle-même, peut-être, dit-il, celui-ci).
_COMPOUND_ENDINGS = {"même", "mêmes", "ci", "là", "être", "il", "elle", "on", "ils", "elles", "nous", "vous",
                     "je", "tu", "t", "y", "en", "moi", "toi", "lui", "leur", "eux", "dessus", "dessous", "delà"}


def _reflow(text: str, hyphenated_words: set[str]) -> str:
    """Join PDF lines into paragraphs, repairing words hyphenated across lines."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not _TOC_LINE.search(ln)]
    if not lines:
        return ""
    lengths = sorted(len(ln) for ln in lines)
    full = lengths[int(0.8 * (len(lengths) - 1))] or 1
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not current:
            current = line
            continue
        if current.endswith(ROW_END):
            paragraphs.append(current[:-1])
            current = line
            continue
        if current.endswith("-") and len(current) > 1 and current[-2].isalpha() and line[:1].isalpha():
            tail = re.search(r"(\w+)-$", current)
            head = re.match(r"\w+", line)
            joined_with_hyphen = f"{tail[1]}-{head[0]}".lower() if tail and head else ""
            keep = (line[:1].isupper() or joined_with_hyphen in hyphenated_words
                    or (head and head[0].lower() in _COMPOUND_ENDINGS))
            current = current + line if keep else current[:-1] + line
            continue
        short = len(current.split("\n")[-1]) < 0.75 * full
        if LIST_ITEM.match(line) or (short and (current[-1] in ".!?:»" or line[:1].isupper())):
            paragraphs.append(current)
            current = line
        else:
            current = f"{current} {line}"
    paragraphs.append(current)
    return "\n".join(paragraphs).replace(ROW_END, "")


def _pdf_sections(pages: list[str], outline: list[tuple[int, int, str]]) -> list[Section]:
    """Sections per page; where bookmarks exist, split a page where each bookmarked heading stands.

    A heading counts only where it fills whole lines, so the same words in a
    table of contents or in a sentence do not cut the page. A bookmark whose
    heading is not printed (a chapter grouping its sections) takes effect at the
    next heading found, or at the end of the page.
    """
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    by_page: dict[int, list[tuple[int, str]]] = {}
    for page, depth, title in outline:
        by_page.setdefault(page, []).append((depth, title))

    def enter(depth: int, title: str) -> None:
        while path and path[-1][0] >= depth:
            path.pop()
        path.append((depth, title))

    def heading() -> str | None:
        return " › ".join(t for _, t in path) or None

    for index, text in enumerate(pages):
        lines = text.splitlines()
        cursor = 0
        pending: list[tuple[int, str]] = []
        for depth, title in by_page.get(index, []):
            found = _find_heading(lines, title, cursor)
            if found is None:
                pending.append((depth, title))
                continue
            first, last = found
            before = "\n".join(lines[cursor:first]).strip()
            if before:
                sections.append(Section(text=before, page=index + 1, heading=heading()))
            for entry in pending:
                enter(*entry)
            pending.clear()
            enter(depth, title)
            cursor = last
        rest = "\n".join(lines[cursor:]).strip()
        if rest:
            sections.append(Section(text=rest, page=index + 1, heading=heading()))
        for entry in pending:
            enter(*entry)
    return sections


def _squash(text: str) -> str:
    return re.sub(r"[\s\-]+", "", fold(text))


def _find_heading(lines: list[str], title: str, start: int) -> tuple[int, int] | None:
    """The last run of 1-3 whole lines at or after `start` that spell the title (case, spaces, hyphens aside)."""
    target = _squash(title)
    if not target:
        return None
    found = None
    for i in range(start, len(lines)):
        joined = ""
        for j in range(i, min(i + 3, len(lines))):
            joined += _squash(lines[j])
            if joined == target:
                found = (i, j + 1)
                break
            if not target.startswith(joined):
                break
    return found