"""Answer -> French text for people: the terminal now, the chat later."""
from __future__ import annotations

from .french import MONTHS
from .schema import Answer, Passage

DOC_TYPE_LABELS = {
    "strategie": "page stratégique",
    "memo": "mémo",
    "charte": "charte",
    "bulletin": "bulletin de veille",
    "guide": "guide",
    "autre": "document",
}

# The line above an answer that is not a plain answer (`assistant ask`).
OUTCOME_LABELS = {"uncertain": "[Réponse incertaine]", "off_topic": "[Hors du champ des documents]"}


def french_date(iso: str | None, with_day: bool = True) -> str | None:
    """'2025-03-14' -> '14 mars 2025'."""
    if not iso or len(iso) < 10:
        return iso
    year, month, day = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    label = f"{MONTHS[month - 1]} {year}"
    return f"{day} {label}" if with_day else label


def where_parts(passage: Passage, escape=lambda text: text) -> list[str]:
    """Document type, page, section and date of a passage; `escape` protects the section text."""
    parts = [DOC_TYPE_LABELS.get(passage.doc_type, passage.doc_type)]
    if passage.page is not None:
        parts.append(f"page {passage.page}")
    if passage.section:
        parts.append(f"section « {escape(passage.section)} »")
    if passage.date:
        parts.append(french_date(passage.date))
    return parts


def citation(passage: Passage) -> str:
    """Where a passage comes from, in one line: title, type, page or section, date."""
    return " — ".join(p for p in [passage.title, *where_parts(passage)] if p)


NEAREST_TOPICS = "Sujets les plus proches dans les documents :"
SEE_ALSO = "Pour aller plus loin :"


def help_lines(answer: Answer, escape=lambda text: text, bullet: str = "→ ", heading=lambda text: text) -> list[str]:
    """What an answer that is not one points to: the nearest topics covered, the contacts the documents give.

    The chat writes each line as its own, not as a list, which would read as more sources."""
    lines = []
    if answer.nearest_topics:
        lines += [heading(NEAREST_TOPICS)] + [f"{bullet}{escape(topic)}" for topic in answer.nearest_topics] + [""]
    if answer.contacts:
        lines += [heading(SEE_ALSO)] + [f"{bullet}{escape(c.text)} ({escape(c.where())})" for c in answer.contacts]
        lines += [""]
    return lines


def answer_as_text(answer: Answer) -> str:
    """The terminal rendering of `assistant ask`."""
    lines = [f"Question : {answer.question}", ""]
    if answer.understood_as:
        lines += [f"Compris comme : {answer.understood_as}", ""]
    if answer.outcome in OUTCOME_LABELS:
        lines += [OUTCOME_LABELS[answer.outcome], ""]
    lines += [answer.text, ""]
    lines += help_lines(answer, bullet="  - ")
    if answer.hits:
        lines.append("Passages les plus proches (à vérifier) :" if answer.outcome == "uncertain" else "Sources :")
    for hit in answer.hits:
        p = hit.passage
        lines.append(f"[{hit.rank}] {citation(p)}  (score {hit.score:.3f})")
        lines.append(f"    {p.url or p.source}")
        excerpt = p.text if len(p.text) <= 400 else p.text[:400].rsplit(" ", 1)[0] + " …"
        lines.extend(f"    {line}" for line in excerpt.splitlines())
        if p.sample:
            lines.append("    (document d'exemple rédigé pour la démonstration)")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
