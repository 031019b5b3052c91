"""Where an answer's quotes are in their sources: spans of a passage's text, boxes on a PDF page.

Quotes are found by their letters and digits only, lower-cased: a quote joins
a list's items on one line without their bullets, and a PDF's text layer cuts
words at line ends (« ap-\\nporte »); neither changes the letters. A quote that
runs on into the next passage (a list over a page break) is looked for
sentence by sentence, so the part in this passage is still found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Parts of a quote shorter than this (in letters and digits) are not looked for alone: « 1. » is everywhere.
MIN_KEY = 12
# Characters of the same line on a PDF page are within this share of a line's height of each other.
SAME_LINE = 0.5
# The PNG of a page is rendered at this width in pixels (the panel shows it at its own width).
PAGE_WIDTH = 1200
_CLOSING = ".!?…;:»)\"’'"


@dataclass(frozen=True)
class Segment:
    """A run of a passage's text, quoted by the answer (marked) or not."""

    text: str
    marked: bool = False


def _key(text: str) -> tuple[str, list[int]]:
    """The letters and digits of `text`, lower-cased, and the position in `text` of each."""
    chars, where = [], []
    for i, char in enumerate(text):
        if char.isalnum():
            chars.append(char.lower())
            where.append(i)
    return "".join(chars), where


def _parts(quote: str) -> list[str]:
    """The quote whole first, then its sentences and list items (for a quote only partly in this text)."""
    pieces = [p for p in re.split(r"(?<=[.:;!?…])\s+|\s+(?=\d{1,2}[.)]\s)", quote) if p.strip()]
    return [quote] + (pieces if len(pieces) > 1 else [])


def spans(text: str, quotes: list[str] | tuple[str, ...]) -> list[tuple[int, int]]:
    """The (start, end) spans of `text` that the quotes are taken from, sorted and merged."""
    haystack, where = _key(text)
    found: list[tuple[int, int]] = []
    for quote in quotes:
        for part in _parts(quote):
            needle = _key(part)[0]
            if len(needle) < MIN_KEY:
                continue
            at = haystack.find(needle)
            if at < 0:
                continue
            end = where[at + len(needle) - 1] + 1
            # The sentence's closing punctuation is part of it (« … productivité. », « … : », « … ? »).
            while True:
                after = end
                while after < len(text) and text[after] in " \u00a0\u202f":
                    after += 1
                if after < len(text) and text[after] in _CLOSING:
                    end = after + 1
                else:
                    break
            found.append((where[at], end))
            if part is quote:
                break  # found whole: its sentences need no search of their own
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def segments(text: str, quotes: list[str] | tuple[str, ...]) -> tuple[Segment, ...]:
    """The text cut into runs, those the quotes come from marked."""
    out, at = [], 0
    for start, end in spans(text, quotes):
        if start > at:
            out.append(Segment(text[at:start]))
        out.append(Segment(text[start:end], marked=True))
        at = end
    if at < len(text) or not out:
        out.append(Segment(text[at:]))
    return tuple(out)


# ---------------------------------------------------------------- PDF pages


@dataclass(frozen=True)
class Box:
    """A highlighted rectangle on a page, in shares of the page's width and height from its top left corner."""

    left: float
    top: float
    width: float
    height: float


def page_count(path: Path) -> int:
    """How many pages the PDF has."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def page_boxes(path: Path, page: int, quotes: list[str] | tuple[str, ...]) -> tuple[Box, ...]:
    """One box per line of the page that holds a quote, where the page's text layer gives the quote's letters."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page <= len(pdf):
            return ()
        sheet = pdf[page - 1]
        width, height = sheet.get_size()
        textpage = sheet.get_textpage()
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        # get_text_range gives one character per text-layer character here; the boxes are read by index.
        if len(text) != count:
            return ()
        lines: list[list[float]] = []  # [left, bottom, right, top] per line
        for start, end in spans(text, quotes):
            for i in range(start, end):
                if text[i].isspace():
                    continue
                left, bottom, right, top = textpage.get_charbox(i)
                if right <= left or top <= bottom:
                    continue
                line = next((b for b in lines if abs((b[1] + b[3]) / 2 - (bottom + top) / 2)
                             < SAME_LINE * max(b[3] - b[1], top - bottom)), None)
                if line is None:
                    lines.append([left, bottom, right, top])
                else:
                    line[:] = [min(line[0], left), min(line[1], bottom), max(line[2], right), max(line[3], top)]
        pad = 1.5  # points around the letters
        return tuple(Box(left=max(0.0, (l - pad) / width), top=max(0.0, (height - t - pad) / height),
                         width=min(1.0, (r - l + 2 * pad) / width), height=min(1.0, (t - b + 2 * pad) / height))
                     for l, b, r, t in lines)
    finally:
        pdf.close()


@lru_cache(maxsize=64)
def page_png(path: Path, page: int, mtime_ns: int, width: int = PAGE_WIDTH) -> bytes | None:
    """The page rendered as a PNG `width` pixels wide (cached per file version); None for a page it lacks."""
    import io

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page <= len(pdf):
            return None
        sheet = pdf[page - 1]
        image = sheet.render(scale=width / sheet.get_size()[0]).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        pdf.close()
