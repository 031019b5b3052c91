"""Document -> Passages: a few sentences each, never across a page or section.

Each passage keeps the page of its own text, its section heading, the
document's title, date and type, and an id that is the same every time the
same file is indexed.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .config import PROJECT_ROOT
from .schema import Document, Passage

# Split on paragraphs first, then lines, then sentence ends, then words.
_SEPARATORS = ["\n\n", "\n", ". ", "! ", "? ", "; ", ": ", ", ", " ", ""]


def source_label(path: Path | str) -> str:
    """The path stored with passages: relative to the project when inside it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return resolved.as_posix()


def document_key(source: str) -> str:
    """A short, readable and stable key for a source path."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(source).stem.lower()).strip("-")[:40] or "doc"
    return f"{stem}-{hashlib.sha1(source.encode()).hexdigest()[:6]}"


def make_splitter(chunk_size: int, chunk_overlap: int):
    """The langchain splitter with French-friendly separators."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_document(doc: Document, chunk_size: int = 900, chunk_overlap: int = 120,
                   splitter=None) -> list[Passage]:
    """Split every section of a document into passages with their citation fields."""
    splitter = splitter or make_splitter(chunk_size, chunk_overlap)
    key = document_key(doc.source)
    passages: list[Passage] = []
    for s_index, section in enumerate(doc.sections):
        pieces = [p.strip() for p in splitter.split_text(section.text) if _worth_keeping(p)]
        for c_index, piece in enumerate(_merge_tiny(pieces, chunk_size)):
            where = f"p{section.page}-" if section.page is not None else ""
            passages.append(Passage(
                id=f"{key}-{where}{s_index}.{c_index}",
                text=piece,
                title=doc.title,
                source=doc.source,
                doc_type=doc.doc_type,
                page=section.page,
                section=section.heading,
                date=doc.date,
                url=doc.url,
                sample=doc.sample,
            ))
    return passages


def _worth_keeping(piece: str) -> bool:
    """Drop scraps with nothing to read: a lone label such as « CYBERSÉCURITÉ » or a page number."""
    piece = piece.strip()
    return len(piece) >= 3 and any(c.islower() for c in piece)


def _merge_tiny(pieces: list[str], chunk_size: int) -> list[str]:
    """Fold a scrap (a lone heading-like line, a few trailing words) into its neighbour."""
    out: list[str] = []
    for piece in pieces:
        if out and (len(piece) < 80 or len(out[-1]) < 80) and len(out[-1]) + len(piece) + 1 <= chunk_size * 1.2:
            out[-1] = f"{out[-1]}\n{piece}"
        else:
            out.append(piece)
    return out


def passage_context(passage: Passage) -> str:
    """The text that retrieval sees: title and section heading give the passage its context."""
    head = " — ".join(x for x in (passage.title, passage.section) if x)
    return f"{head}\n{passage.text}" if head else passage.text
