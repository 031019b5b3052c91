"""What a loaded index covers: its documents by type, the bulletins' months, the themes present.

The chat's welcome screen and the refusal of an off-topic question (chat, CLI
and API alike) list it from the index actually loaded.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .index import LoadedIndex
from .render import DOC_TYPE_LABELS, french_date
from .schema import DOC_TYPES
from .themes import PRACTICE_LABELS, PRACTICES, TOPICS

DOC_TYPE_PLURALS = {
    "strategie": "pages stratégiques",
    "memo": "mémos",
    "charte": "chartes",
    "bulletin": "bulletins de veille",
    "guide": "guides",
    "autre": "autres documents",
}


@dataclass(frozen=True)
class IndexedDocument:
    """One indexed file, as listed on the welcome screen."""

    title: str
    doc_type: str
    date: str | None
    passages: int
    sample: bool
    source: str


@dataclass(frozen=True)
class Catalog:
    """What the loaded index covers: documents by type, bulletin dates, themes present."""

    documents: tuple[IndexedDocument, ...]
    passages: int
    practices: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = field(default=())

    def of_type(self, doc_type: str) -> list[IndexedDocument]:
        """Documents of one type, newest first."""
        return sorted((d for d in self.documents if d.doc_type == doc_type),
                      key=lambda d: d.date or "", reverse=True)

    def bulletin_months(self) -> list[str]:
        """The months (YYYY-MM) that have a bulletin, oldest first."""
        return sorted({d.date[:7] for d in self.documents if d.doc_type == "bulletin" and d.date})

    def samples(self) -> int:
        return sum(d.sample for d in self.documents)


def catalog_of(index: LoadedIndex) -> Catalog:
    """The catalog of a loaded index, from its manifest and passages."""
    sample_sources = {p.source for p in index.passages if p.sample}
    documents = []
    for entry in index.manifest.get("files", {}).values():
        if not entry.get("passages"):
            continue  # failed or empty files answer nothing
        documents.append(IndexedDocument(title=entry.get("title") or entry.get("source", "?"),
                                         doc_type=entry.get("doc_type") or "autre", date=entry.get("date"),
                                         passages=int(entry["passages"]), sample=entry.get("source") in sample_sources,
                                         source=entry.get("source", "")))
    present = Counter(d.doc_type for d in documents)
    return Catalog(
        documents=tuple(sorted(documents, key=lambda d: (DOC_TYPES.index(d.doc_type) if d.doc_type in DOC_TYPES
                                                          else len(DOC_TYPES), d.date or "", d.title))),
        passages=index.size,
        practices=tuple(p for p in PRACTICES if any(x.practice == p for x in index.passages)),
        topics=tuple(t for t in TOPICS if any(x.topic == t for x in index.passages)),
        doc_types=tuple(t for t in DOC_TYPES if present[t]) + tuple(sorted(set(present) - set(DOC_TYPES))),
    )


def month_label(month: str) -> str:
    """'2024-09' -> 'septembre 2024'."""
    return french_date(f"{month}-01", with_day=False) or month


def count_of(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def type_line(catalog: Catalog, doc_type: str, escape=lambda text: text) -> str:
    """« 26 bulletins de veille, de septembre 2024 à octobre 2026 (le plus récent : …) »; `escape` protects
    titles (Markdown in the chat)."""
    docs = catalog.of_type(doc_type)
    label_one = DOC_TYPE_LABELS.get(doc_type, doc_type)
    label_many = DOC_TYPE_PLURALS.get(doc_type, doc_type)
    if doc_type == "bulletin":
        months = catalog.bulletin_months()
        line = count_of(len(docs), label_one, label_many)
        if months:
            line += f", de {month_label(months[0])} à {month_label(months[-1])}"
        dated = [d for d in docs if d.date]
        if dated:
            line += f" (le plus récent : {escape(dated[0].title)}, publié le {french_date(dated[0].date)})"
        return line
    if len(docs) <= 3:
        titles = " ; ".join(f"« {escape(d.title)} »" for d in docs)
        return f"{count_of(len(docs), label_one, label_many)} : {titles}"
    return count_of(len(docs), label_one, label_many)


def covered_text(catalog: Catalog) -> str:
    """What the index covers, in one plain sentence (the off-topic refusal of the CLI and the API)."""
    kinds = "; ".join(type_line(catalog, t) for t in catalog.doc_types)
    themes = ", ".join(PRACTICE_LABELS[p].lower() for p in PRACTICES)
    return (f"Les documents indexés couvrent : {kinds}. Posez une question sur l'intelligence économique "
            f"({themes}), la cybersécurité des entreprises, ou l'actualité des bulletins de veille.")
