"""Hostile input for the reliability checks: malformed files, hostile questions, traversal attempts.

Files come two ways: named adversarial cases (a decompression bomb, a PDF of
thousands of pages, a page tree that loops, HTML nested thousands deep, a
megabyte on one line…) and hypothesis strategies that generate or mutate PDF,
HTML, Markdown and text files at random. hypothesis is imported lazily: it is
a test and reliability dependency only.
"""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from pathlib import Path

# Characters that break naive text handling: zero-width, bidi overrides, soft hyphen, BOM, controls, separators.
NASTY_CHARS = ("\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u202a\u2066\u2069\u00ad\u0000\u0001\u0007\u000b"
               "\u000c\u001b\u007f\u0085\u2028\u2029\u00a0\u202f\ue000\ufffd\ufffe")
FRENCH = "L'intelligence économique consiste à anticiper, influencer et se protéger. « Sécurité » ; ça déçoit où ?"


@dataclass(frozen=True)
class HostileFile:
    """One file to feed the readers: a label for the report, its name suffix and its bytes."""

    label: str
    suffix: str
    data: bytes


# ---------------------------------------------------------------- a minimal PDF writer


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_bytes(pages: list[str], *, compress: bool = False, bomb_mb: int = 0, loop: bool = False,
              declared_count: int | None = None, xref: bool = True, title: str | None = None) -> bytes:
    """A PDF with one text line per page, written by hand so thousands of pages take milliseconds.

    bomb_mb adds a FlateDecode content stream that inflates to that many megabytes;
    loop makes the page tree contain itself; declared_count lies about the page count;
    xref=False leaves the cross-reference table out.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for text in pages:
        stream = b"BT /F1 11 Tf 60 760 Td " + _pdf_string(text) + b" Tj ET"
        if compress:
            stream = zlib.compress(stream)
        content = add(b"<< /Length %d%s >>\nstream\n" % (len(stream), b" /Filter /FlateDecode" if compress else b"")
                      + stream + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >>"
                        b" /Contents %d 0 R >>" % (tree, font, content)))
    if bomb_mb:
        compressor = zlib.compressobj(9)
        chunk = b" " * (1 << 20)
        stream = b"".join(compressor.compress(chunk) for _ in range(bomb_mb)) + compressor.flush()
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >>"
                        b" /Contents %d 0 R >>" % (tree, font, content)))
    refs = [b"%d 0 R" % k for k in kids] + ([b"%d 0 R" % tree] if loop else [])
    count = declared_count if declared_count is not None else len(kids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [" + b" ".join(refs) + b"] /Count %d >>" % count
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    info = b""
    if title is not None:
        offsets.append(len(out))
        out += b"%d 0 obj\n<< /Title " % (len(objects) + 1) + _pdf_string(title) + b" >>\nendobj\n"
        info = b" /Info %d 0 R" % (len(objects) + 1)
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, catalog, info, start)
    return bytes(out)


# ---------------------------------------------------------------- named adversarial files


def named_cases(seed_pdf: bytes | None = None, heavy: bool = True) -> list[HostileFile]:
    """Files built to hurt a reader, one per known trick; heavy=False leaves out the slow-to-build ones."""
    page = f"Page de test. {FRENCH}"
    nested = "<div>" * 5000 + "<p>Texte au fond de cinq mille div.</p>" + "</div>" * 5000
    cases = [
        HostileFile("empty file", ".md", b""),
        HostileFile("only spaces and newlines", ".txt", b"   \n\n\t  \n"),
        HostileFile("BOM only", ".md", b"\xef\xbb\xbf"),
        HostileFile("PDF saved as .html", ".html", pdf_bytes([page])),
        HostileFile("PDF saved as .md", ".md", pdf_bytes([page])),
        HostileFile("HTML saved as .pdf", ".pdf", b"<html><body><p>Pas un PDF</p></body></html>"),
        HostileFile("PNG saved as .txt", ".txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        HostileFile("text saved as .html", ".html", FRENCH.encode()),
        HostileFile("UTF-16 text", ".txt", ("\ufeff" + FRENCH * 3).encode("utf-16-le")),
        HostileFile("Latin-1 Markdown", ".md", f"# Titre\n\n{FRENCH}\n".encode("latin-1", "replace")),
        HostileFile("truncated PDF header", ".pdf", b"%PDF-1."),
        HostileFile("PDF without xref", ".pdf", pdf_bytes([page, page], xref=False)),
        HostileFile("PDF truncated at half", ".pdf", pdf_bytes([page] * 3)[: len(pdf_bytes([page] * 3)) // 2]),
        HostileFile("PDF with a looping page tree", ".pdf", pdf_bytes([page], loop=True)),
        HostileFile("PDF lying about its page count", ".pdf", pdf_bytes([page], declared_count=10 ** 9)),
        HostileFile("PDF with compressed pages", ".pdf", pdf_bytes([page] * 5, compress=True, title="Compressé")),
        HostileFile("PDF with only blank pages", ".pdf", pdf_bytes([""] * 5)),
        HostileFile("PDF with control characters", ".pdf", pdf_bytes([NASTY_CHARS + page])),
        HostileFile("HTML nested 5,000 deep", ".html", f"<html><body>{nested}</body></html>".encode()),
        HostileFile("HTML unclosed tags", ".html", b"<html><body><p><b><i><table><tr><td>" * 2000 + FRENCH.encode()),
        HostileFile("HTML with scripts only", ".html", b"<html><body><script>" + b"alert(1);" * 1000
                    + b"</script></body></html>"),
        HostileFile("HTML declaring an unknown charset", ".html",
                    b'<html><head><meta charset="x-klingon"></head><body><p>' + FRENCH.encode("cp1252") + b"</p></body></html>"),
        HostileFile("HTML with zero-width and bidi characters", ".html",
                    f"<html><body><h1>T{NASTY_CHARS}itre</h1><p>{NASTY_CHARS.join(FRENCH.split())}</p></body></html>"
                    .encode("utf-8", "surrogatepass")),
        HostileFile("Markdown, 2 MB on one line", ".md", ("# Ligne\n\n" + "mot " * 500_000).encode()),
        HostileFile("Markdown, 20,000 headings", ".md", "".join(f"{'#' * (1 + i % 6)} Titre {i}\n\ntexte {i}\n"
                                                                for i in range(20_000)).encode()),
        HostileFile("Markdown with an unclosed fence", ".md", ("# T\n\n```\n" + "code\n" * 10_000).encode()),
        HostileFile("Markdown with broken front matter", ".md", b"---\ntitle: [unclosed\ndate: 31/02/2024\n\n# T\n\ntexte"),
        HostileFile("Markdown with control characters", ".md", f"# T{NASTY_CHARS}\n\n{NASTY_CHARS * 50}{FRENCH}".encode(
            "utf-8", "surrogatepass")),
        HostileFile("text, 5 MB without a newline", ".txt", b"a" * 5_000_000),
        HostileFile("text made of one long word", ".txt", ("anticonstitutionnellement" * 40_000).encode()),
        HostileFile("text of right-to-left script", ".txt", ("الذكاء الاقتصادي الإقليمي في نورماندي. " * 200).encode()),
        HostileFile("text of emoji", ".txt", ("🔥💣🇫🇷👩‍👩‍👧‍👦 " * 5000).encode()),
    ]
    if heavy:
        cases += [
            HostileFile("PDF of 2,500 pages (over max_pages)", ".pdf", pdf_bytes([page] * 2500)),
            HostileFile("PDF of 1,900 pages (under max_pages)", ".pdf", pdf_bytes([f"{page} {i}" for i in range(1900)])),
            HostileFile("PDF decompression bomb (1 GB of spaces)", ".pdf", pdf_bytes([page], bomb_mb=1024)),
            HostileFile("file over max_file_mb", ".txt", b"mot " * (13 * 1024 * 1024 + 1)),
        ]
    if seed_pdf:
        cases.append(HostileFile("real PDF saved as .txt", ".txt", seed_pdf))
        cases.append(HostileFile("real PDF truncated at 60 %", ".pdf", seed_pdf[: int(len(seed_pdf) * 0.6)]))
    return cases


# ---------------------------------------------------------------- random files (hypothesis)


def mutate(data: bytes, operations: list[tuple[str, int, bytes]]) -> bytes:
    """Apply byte-level mutations: truncate, flip, insert, delete, duplicate a slice."""
    out = bytearray(data)
    for kind, where, blob in operations:
        if not out:
            out += blob
            continue
        i = where % len(out)
        if kind == "truncate":
            del out[i:]
        elif kind == "flip":
            out[i] ^= (blob[0] if blob else 0xFF) or 0x01
        elif kind == "insert":
            out[i:i] = blob
        elif kind == "delete":
            del out[i:i + 1 + len(blob) * 37]
        elif kind == "duplicate":
            out[i:i] = out[i:i + 4096]
    return bytes(out)


def file_strategy(seeds: dict[str, bytes]):
    """A hypothesis strategy of HostileFile: generated PDF/HTML/Markdown/text, or mutated seed files."""
    from hypothesis import strategies as st

    pieces = st.one_of(st.sampled_from(list(NASTY_CHARS + "#*_<>&;[]()`\\\n «»’éàç")),
                       st.sampled_from([w + " " for w in FRENCH.split()]), st.characters())
    text = st.lists(pieces, max_size=80).map("".join)
    encodings = st.sampled_from(["utf-8", "cp1252", "utf-16", "latin-1"])

    def encode(value: str, encoding: str) -> bytes:
        return value.encode(encoding, "replace") if encoding != "utf-8" else value.encode("utf-8", "surrogatepass")

    @st.composite
    def html(draw):
        depth = draw(st.integers(0, 3000))
        tag = draw(st.sampled_from(["div", "span", "p", "section", "table", "ul", "li", "b", "article", "h2"]))
        closed = draw(st.booleans())
        body = draw(text)
        extra = draw(st.sampled_from(["", "<script>alert('x')</script>", "<!-- unclosed comment",
                                      "<a href='javascript:alert(1)'>lien</a>", "<style>p{}</style>", "&#0;&#xD800;&bogus;"]))
        line = " ".join([draw(st.sampled_from(FRENCH.split()))] * draw(st.integers(0, 50_000)))
        charset = draw(st.sampled_from(["", '<meta charset="utf-8">', '<meta charset="iso-8859-1">',
                                        '<meta charset="x-unknown">']))
        page = (f"<html><head>{charset}<title>{body[:40]}</title></head><body>" + f"<{tag}>" * depth
                + f"<h1>{body}</h1><p>{FRENCH} {line}</p>{extra}" + (f"</{tag}>" * depth if closed else "")
                + "</body></html>")
        return HostileFile("generated HTML", draw(st.sampled_from([".html", ".htm"])), encode(page, draw(encodings)))

    @st.composite
    def markdown(draw):
        lines = draw(st.lists(st.one_of(
            st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), text),
            text, st.just("```"), st.just("---"), st.just(""),
            st.builds(lambda w, n: w * n, st.sampled_from(["mot ", "é", "\u200b"]), st.integers(0, 100_000)),
        ), max_size=60))
        front = draw(st.sampled_from(["", "---\ntitle: Note\ndate: 2024-13-45\n---\n", "---\n: :\n"]))
        return HostileFile("generated Markdown", draw(st.sampled_from([".md", ".markdown", ".txt"])),
                           encode(front + "\n".join(lines), draw(encodings)))

    @st.composite
    def pdf(draw):
        pages = draw(st.lists(text, min_size=0, max_size=8))
        data = pdf_bytes(pages, compress=draw(st.booleans()), loop=draw(st.booleans()) and draw(st.booleans()),
                         declared_count=draw(st.one_of(st.none(), st.integers(-5, 10 ** 6))),
                         xref=draw(st.booleans()), title=draw(st.one_of(st.none(), text)))
        return HostileFile("generated PDF", draw(st.sampled_from([".pdf", ".pdf", ".html", ".md"])), data)

    operations = st.lists(st.tuples(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate"]),
                                    st.integers(0, 2 ** 31), st.binary(max_size=32)), min_size=1, max_size=6)

    @st.composite
    def mutated(draw):
        name = draw(st.sampled_from(sorted(seeds)))
        suffix = draw(st.sampled_from([Path(name).suffix, Path(name).suffix, ".pdf", ".html", ".md", ".txt"]))
        return HostileFile(f"mutated {Path(name).suffix[1:]}", suffix, mutate(seeds[name], draw(operations)))

    @st.composite
    def raw(draw):
        return HostileFile("random bytes", draw(st.sampled_from([".pdf", ".html", ".md", ".txt"])),
                           draw(st.binary(max_size=4096)))

    return st.one_of(html(), markdown(), pdf(), mutated(), mutated(), raw())


def seed_files(root: Path) -> dict[str, bytes]:
    """Small real files of the shipped corpus to mutate: the smallest PDF, an HTML page, the text page."""
    corpus = root / "corpus"
    pdfs = sorted(corpus.rglob("*.pdf"), key=lambda p: p.stat().st_size)
    picks = pdfs[:1] + sorted(corpus.rglob("*.html"))[:1] + sorted(corpus.rglob("*.txt"))[:1]
    seeds = {p.name: p.read_bytes() for p in picks}
    seeds["note.md"] = f"---\ntitle: Note\ndate: 2025-01-15\n---\n# Note\n\n## Partie\n\n{FRENCH}\n".encode()
    return seeds


# ---------------------------------------------------------------- hostile questions and paths


def hostile_questions() -> list[tuple[str, str]]:
    """(label, question) pairs a public chat receives sooner or later."""
    rng = random.Random(6)
    return [
        ("empty", ""),
        ("spaces only", "   \n\t "),
        ("2,000 characters", ("rançongiciel " * 200)[:2000]),
        ("2,001 characters", "a" * 2001),
        ("10,000 characters", "é" * 10_000),
        ("control characters", "\x00\x01\x02 rançongiciel \x1b[31m\x7f"),
        ("NUL byte", "charte\x00cybersécurité"),
        ("emoji", "🔥💣 rançongiciels 🇫🇷 👩‍💻 ?"),
        ("right-to-left", "ما هو الذكاء الاقتصادي الإقليمي؟"),
        ("bidi override", "\u202eéuqimonocé ecnegilletni\u202c ?"),
        ("zero-width", "intel\u200bligence\u200d économique\ufeff"),
        ("lone surrogate", "question \ud800 cassée"),
        ("SQL injection", "'; DROP TABLE questions; --"),
        ("HTML and script", "<script>alert('x')</script><img src=x onerror=alert(1)>"),
        ("Markdown link", "[clic](javascript:alert(1))"),
        ("template syntax", "{{7*7}} ${7*7} %s %n {0}"),
        ("only punctuation", "?!?!...;;;"),
        ("one long word", "x" * 1999),
        ("random unicode", "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(300))),
        ("newlines", "\n".join(["ligne"] * 500)),
    ]


def traversal_paths(outside_file: Path, indexed_detour: str | None = None) -> list[str]:
    """Request paths under /api/sources/ that try to reach files outside the indexed PDFs.

    indexed_detour: an indexed PDF named by a detour (`dossier/../dossier/x.pdf`), which must not match either.
    """
    target = outside_file.as_posix().lstrip("/")
    paths = [
        "../pyproject.toml", "../../../../etc/passwd", "corpus/../pyproject.toml",
        "corpus/charte/../../pyproject.toml", "..%2fpyproject.toml", "%2e%2e/%2e%2e/etc/passwd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e%252fpyproject.toml", "..%5c..%5cpyproject.toml",
        "..\\..\\pyproject.toml", "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd", f"/{target}", target,
        "corpus/charte/%00.pdf", "corpus%00/../pyproject.toml", "．．/pyproject.toml", "%c0%ae%c0%ae/pyproject.toml",
        "corpus/./../pyproject.toml", "corpus/bulletins/../../../" + target, "~/.bashrc", "file:///etc/passwd",
    ]
    if indexed_detour:
        paths.append(indexed_detour)
    return paths
