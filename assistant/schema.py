"""Records that flow through the pipeline: Document -> Passage -> Hit -> Answer.

Each record is named after the stage the data has reached. They are frozen
dataclasses so a passage cannot be changed after it has been indexed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Document types, as shown to users (French labels live in render code).
DOC_TYPES = ("strategie", "memo", "charte", "bulletin", "guide", "autre")


@dataclass(frozen=True)
class Section:
    """One unit of a document that a passage never crosses: a PDF page or a headed section."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class Document:
    """A file read into text units, with what is needed to cite it."""

    source: str
    title: str
    doc_type: str
    sections: tuple[Section, ...]
    date: str | None = None
    url: str | None = None
    sample: bool = False
    number: int | None = None


@dataclass(frozen=True)
class Passage:
    """A few sentences of a document that carry their own citation."""

    id: str
    text: str
    title: str
    source: str
    doc_type: str
    page: int | None = None
    section: str | None = None
    date: str | None = None
    url: str | None = None
    sample: bool = False
    practice: str | None = None
    topic: str | None = None
    # A table of contents or a masthead: it points to its document's content rather than holds it (marked when
    # the index is built, chunking.mark_pointers); the search shows it after the content it announces.
    points_elsewhere: bool = False

    @property
    def section_key(self) -> tuple[str, str] | None:
        """The document and section the passage belongs to (None when it has no section): the passages cut
        from one section share it."""
        return (self.source, self.section) if self.section else None

    def to_dict(self) -> dict:
        """Plain dict for JSON lines."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Passage":
        """Inverse of to_dict, ignoring keys this version does not know."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Hit:
    """A passage retrieved for a question, with its rank and scores."""

    passage: Passage
    score: float
    rank: int
    dense: float = 0.0
    lexical: float = 0.0


def last_heading(section: str) -> str:
    """The innermost heading of a section path (« Partie 3 › Voyager » -> « Voyager »)."""
    return section.split(" › ")[-1]


@dataclass(frozen=True)
class Contact:
    """A sentence of an indexed passage that gives a contact (an address, a number, a site, a public service),
    and the passage it is written in: what an uncertain or off-topic answer points to (contacts.py)."""

    row: int
    text: str
    passage: Passage

    def where(self) -> str:
        """« Title › heading », or « Title, p. N »."""
        p = self.passage
        if p.section:
            return f"{p.title} › {last_heading(p.section)}"
        return f"{p.title}, p. {p.page}" if p.page else p.title

    def to_dict(self) -> dict:
        p = self.passage
        return {"text": self.text, "source": p.source, "title": p.title, "section": p.section, "page": p.page}


@dataclass(frozen=True)
class Quote:
    """One piece of an answer's text, word for word, its mark [n] (the rank of the passage it was taken from)
    and that passage's id."""

    rank: int
    text: str
    passage_id: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the assistant says: a short text with [n] marks, the hits it cites, and its outcome.

    outcome is « answered », « uncertain » (the closest passages, flagged as not clearly answering) or
    « off_topic » (outside what the index covers: no passage); abstained is true for off_topic only.
    """

    question: str
    text: str
    abstained: bool
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    outcome: str = "answered"
    reason: str | None = None  # why uncertain or off topic, in one sentence for the reader
    understood_as: str | None = None  # a follow-up read with the previous question's topic (None: as asked)
    quotes: tuple[Quote, ...] = ()  # the quoted pieces of `text`, in order, each with the passage it comes from
    # Uncertain or off topic: the contacts the documents give nearest the question, and (off topic, where no
    # passage is shown) the headings of the sections nearest it.
    contacts: tuple[Contact, ...] = ()
    nearest_topics: tuple[str, ...] = ()

    def cited_ranks(self) -> list[int]:
        """The marks [n] the answer's quotes cite, in the order they first appear."""
        return list(dict.fromkeys(quote.rank for quote in self.quotes))

    def to_dict(self) -> dict:
        """The JSON object printed by `assistant ask --json` and served by /api/ask."""
        return {
            "question": self.question,
            "answer": self.text,
            "outcome": self.outcome,
            "reason": self.reason,
            "understood_as": self.understood_as,
            "abstained": self.abstained,
            "contacts": [c.to_dict() for c in self.contacts],
            "nearest_topics": list(self.nearest_topics),
            "passages": [
                {
                    "rank": h.rank,
                    "score": round(h.score, 4),
                    **{k: v for k, v in h.passage.to_dict().items()},
                }
                for h in self.hits
            ],
        }
