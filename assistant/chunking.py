"""Document -> Passages: a few sentences each, never across a page or section.

Each passage keeps the page of its own text, its section heading, the
document's title, date and type, and an id that is the same every time the
same file is indexed.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from .config import PROJECT_ROOT
from .lexical import plain
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
        pieces = [p.strip() for p in splitter.split_text(_break_long_runs(section.text, chunk_size // 2))
                  if _worth_keeping(p)]
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
    """Drop scraps with nothing to read: a lone label such as « CYBERSÉCURITÉ », a page number, emoji."""
    piece = piece.strip()
    # Scripts without case (Arabic, Chinese…) have letters but no lowercase: kept.
    return len(piece) >= 3 and any(c.isalpha() for c in piece) and not piece.isupper()


def _break_long_runs(text: str, limit: int) -> str:
    """Cut runs of more than `limit` characters without a space into lines of `limit`.

    No French word is that long; without this, the splitter falls back to one
    character at a time on such a run and takes minutes on a hostile file.
    """
    if len(text) <= limit:
        return text
    return re.sub(rf"\S{{{limit + 1},}}",
                  lambda m: "\n".join(m[0][i:i + limit] for i in range(0, len(m[0]), limit)), text)


def _merge_tiny(pieces: list[str], chunk_size: int) -> list[str]:
    """Fold a scrap (a lone heading-like line, a few trailing words) into its neighbour."""
    out: list[str] = []
    for piece in pieces:
        if out and (len(piece) < 80 or len(out[-1]) < 80) and len(out[-1]) + len(piece) + 1 <= chunk_size * 1.2:
            out[-1] = f"{out[-1]}\n{piece}"
        else:
            out.append(piece)
    return out


# How a line that ends as a sentence (or announces a list) ends; headings, labels and running headers do not.
SENTENCE_END = re.compile(r"[.!?…:;»)\"]\s*$")
# Shorter sentences are embedded together with the next one (see passage_windows).
WINDOW_MIN_CHARS = 20


def passage_head(passage: Passage) -> str:
    """Title and section heading: the context every retrieval unit of a passage is read with."""
    return " — ".join(x for x in (passage.title, passage.section) if x)


def passage_context(passage: Passage) -> str:
    """The text that retrieval sees: title and section heading give the passage its context."""
    head = passage_head(passage)
    return f"{head}\n{passage.text}" if head else passage.text


def sentence_units(passage: Passage) -> list[str]:
    """The passage's sentences, each with the passage's heading (the whole passage when it has none)."""
    head = passage_head(passage)
    units = [f"{head}\n{s}" if head else s for s in split_sentences(passage.text)]
    return units or [passage_context(passage)]


# Abbreviations after which a period does not end a French sentence.
_ABBREVIATIONS = ("m", "mm", "mme", "mmes", "mlle", "dr", "pr", "me", "st", "ste", "art", "p", "pp", "cf", "etc",
                  "ex", "vol", "chap", "fig", "n", "no", "env", "av", "apr", "hab", "min", "max", "réf", "ref",
                  "éd", "ed", "coll", "dir", "op", "cit", "ibid", "sq", "suiv", "t", "al", "nb", "vs")
# Our own splitter rather than pysbd: pysbd's French rules cut after « art. » and « p. »
# (measured here), and it costs ~1 ms a passage on the answer's hot path.
_BOUNDARY = re.compile(r"(?<=[.!?…])[»\")]*\s+(?=[«\"(]?\s*[A-ZÀÂÄÉÈÊËÎÏÔÖÙÛÜÇŒ])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, cut at sentence ends but not after common abbreviations."""
    sentences: list[str] = []
    for block in text.split("\n"):
        block = block.strip()
        if not block:
            continue
        start = 0
        for match in _BOUNDARY.finditer(block):
            before = block[start:match.start()]
            word = re.search(r"(\w+)\W*$", before)
            if word and word[1].lower() in _ABBREVIATIONS and before.rstrip().endswith("."):
                continue
            if word and len(word[1]) == 1 and word[1].isupper():  # initials: « J. Dupont »
                continue
            if before.strip()[:-1].isdigit():  # a list item's number: « 1. Orienter : … »
                continue
            sentences.append(before.strip())
            start = match.end()
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if s]


@lru_cache(maxsize=20_000)
def sentences_of(text: str) -> tuple[str, ...]:
    """`split_sentences`, kept for texts met again (the answer reads the same passages for many questions)."""
    return tuple(split_sentences(text))


# A window that asks (it ends with « ? », before any closing quote or bracket).
_ASKS = re.compile(r"\?[\s»\"”)]*$")


def window_asks(passage: Passage) -> list[bool]:
    """For each text `passage_windows` gives, whether it is a sentence window that asks a question (the whole
    passage never is): « Savez-vous ce que prépareront vos trois principaux concurrents ? »."""
    head = passage_head(passage)
    out = []
    for i, window in enumerate(passage_windows(passage)):
        body = window[len(head) + 1:] if head and window.startswith(f"{head}\n") else window
        out.append(i > 0 and bool(_ASKS.search(body)))
    return out


def passage_windows(passage: Passage) -> list[str]:
    """The texts the dense retriever embeds for a passage: the whole passage, then its sentences.

    A question usually restates one sentence: scoring a passage by its best
    sentence (read with the passage's title and heading) rather than by its
    sentences two by two raised the shipped retriever's Recall@1 on PIAF from
    0.835 to 0.841 and on the local set from 0.831 to 0.843 (eval/results.md).
    A fragment shorter than WINDOW_MIN_CHARS (« Exemples : ») is read with the
    sentence that follows.
    """
    head = passage_head(passage)
    windows, current = [], ""
    for sentence in split_sentences(passage.text):
        current = f"{current} {sentence}" if current else sentence
        if len(current) >= WINDOW_MIN_CHARS:
            windows.append(current)
            current = ""
    if current:
        if windows:
            windows[-1] = f"{windows[-1]} {current}"
        else:
            windows.append(current)
    whole = passage_context(passage)
    if len(windows) <= 1:
        return [whole]
    windows = [f"{head}\n{w}" if head else w for w in windows]
    # The whole passage comes first: its overall meaning tempers a window that matches on a detail
    # (see search.WHOLE_WEIGHT).
    return [whole] + [w for w in windows if w != whole]


# ---------------------------------------------------------------- passages that point elsewhere

# A passage is a table of contents when its document's headings make up this share of its text; a heading
# is looked for whole or by its first PREFIX characters (long headlines are cut in tables).
CONTENTS_SHARE, PREFIX = 0.5, 40
# A masthead is shorter than this, under no heading, and has no line that ends as a sentence does.
MASTHEAD_CHARS = 400


def mark_pointers(passages: list[Passage]) -> list[Passage]:
    """The passages, those that point to their document's content rather than hold it marked
    `points_elsewhere`: a table of contents (« Au sommaire », its document's own headings) or a masthead (a
    title, a date, a line of themes, and no sentence). Read when the index is built (and when an index built
    before the field existed is loaded); a document is its passages of one source."""
    headings_of: dict[str, set[str]] = {}
    for passage in passages:
        heading = plain(passage.section.split("›")[-1]) if passage.section else ""
        # A document's headings by their last level, folded; 12 characters at least (shorter ones are common).
        if len(heading) >= 12:
            headings_of.setdefault(passage.source, set()).add(heading)
    marked = []
    for passage in passages:
        elsewhere = _is_masthead(passage) or _lists_headings(passage, headings_of.get(passage.source, set()))
        marked.append(passage if passage.points_elsewhere == elsewhere else replace(passage, points_elsewhere=elsewhere))
    return marked


def _is_masthead(passage: Passage) -> bool:
    """A short passage under no heading, none of whose lines ends as a sentence does: a cover page's title,
    date and themes. An entry under its own heading (« 17Cyber (service) » : a description and a link) is
    content, however short."""
    return passage.section is None and len(passage.text) < MASTHEAD_CHARS and not any(
        SENTENCE_END.search(line) for line in passage.text.splitlines() if line.strip())


def _lists_headings(passage: Passage, headings: set[str]) -> bool:
    """Whether most of the passage's text is headings of its document (not its own): a table of contents.

    « Blockchain › Calvados et cidre AOP… » is listed as « Blockchain — Calvados et
    cidre AOP… »: a heading counts by its last level, compared folded, whole or
    by its first 40 characters. In the sample corpus tables of contents are 57 to
    88 % headings, the passages that merely name a few sections 2 to 23 %.
    """
    text = plain(passage.text)
    own = plain(passage.section or "")
    listed = sum(len(h) if h in text else PREFIX if h[:PREFIX] in text else 0 for h in headings if h not in own)
    return listed >= CONTENTS_SHARE * max(1, len(text))
