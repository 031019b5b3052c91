"""Answer -> what the chat shows: French Markdown with [n] marks, a button per source, the side panels.

Nothing here imports Chainlit: app.py turns these records into cl.Message,
cl.Action, cl.Text and cl.Pdf, so rendering is tested without a browser or a socket.

Document text is untrusted: every piece of it goes through `escape_markdown`, so
a `<script>`, an `<img onerror=…>` or a `[lien](javascript:…)` in a corpus file
is shown as the characters it is made of (Chainlit's unsafe_allow_html stays off
as a second barrier).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

from .answer import CLOSEST, DOUBT, NOT_FOUND, NOT_FOUND_SCOPE, OFF_TOPIC, UNCERTAIN
from .catalog import DOC_TYPE_PLURALS, Catalog, count_of, month_label, type_line
from .dates import month_bounds
from .french import NUMBER
from .highlight import Box, segments
from .render import citation, help_lines, where_parts
from .schema import DOC_TYPES, Answer, Hit, Passage
from .search import Filters
from .themes import PRACTICE_LABELS, PRACTICES, TOPIC_LABELS, TOPICS

PRODUCT_NAME = "Assistant IE Normandie"
MAX_QUESTION_CHARS = 2000
# Settings value meaning « no restriction » in the chat settings panel.
ALL = "tous"

SAMPLE_NOTE = "Document d'exemple rédigé pour la démonstration de l'assistant — pas une publication officielle."


@dataclass(frozen=True)
class Starter:
    """A suggested first question on the welcome screen: its label is the question it asks.

    `section` is the heading of the documents' section that answers it (the browser tests check the answer
    quotes from there).
    """

    message: str
    section: str
    icon: str | None = None

    @property
    def label(self) -> str:
        return self.message


# A business owner's questions: one per practice, one on the bulletins, one on whom to contact. Each was asked
# through the assistant as it is and is answered from its section.
STARTERS = (
    Starter("Comment organiser la veille dans ma PME ?", "Organiser la veille dans l'entreprise",
            "/public/anticiper.svg"),
    Starter("Comment défendre les intérêts de mon entreprise auprès des décideurs publics ?",
            "Pratiquer un lobbying responsable", "/public/influencer.svg"),
    Starter("Je pars à l'étranger pour un salon, que faut-il prévoir ?", "Voyager à l'étranger en sécurité",
            "/public/se-proteger.svg"),
    Starter("Que dit le dernier bulletin de veille sur l'intelligence artificielle ?", "Intelligence artificielle",
            "/public/bulletins.svg"),
    # Answered from the memo's table of whom to turn to for what (the programme's mission first), since the
    # search reads the training questions as neighbours; before, from the programme page's own paragraph.
    Starter("Qui contacter en Normandie pour être accompagné ?", "Qui contacter ?", "/public/programme.svg"),
)


def welcome_markdown(catalog: Catalog) -> str:
    """The welcome screen: what the assistant knows, from the index actually loaded."""
    lines = [
        "**Posez vos questions sur l'intelligence économique en Normandie.** "
        "Chaque réponse cite ses sources [1], [2]… ; les boutons sous la réponse ouvrent les passages.",
        "",
        f"**Documents indexés** ({count_of(len(catalog.documents), 'document', 'documents')}, "
        f"{count_of(catalog.passages, 'passage', 'passages')}) :",
        "",
    ]
    lines += [f"- {type_line(catalog, t, escape_markdown)}" for t in catalog.doc_types]
    if catalog.samples():
        samples = count_of(catalog.samples(), "document d’exemple rédigé", "documents d’exemple rédigés")
        lines += ["", f"_{samples} pour la démonstration : ils sont signalés dans les sources._"]
    lines += ["", "Filtres (type de document, pratique, thème, période) : bouton des réglages, "
                  "à gauche du champ de saisie."]
    return "\n".join(lines)


def coverage_markdown(catalog: Catalog) -> str:
    """What the assistant covers, as a short list (for the « not found » reply)."""
    lines = ["Je peux répondre sur :"]
    lines += [f"- {type_line(catalog, t, escape_markdown)} ;" for t in catalog.doc_types]
    themes = [PRACTICE_LABELS[p].lower() for p in PRACTICES]
    lines.append(f"- les trois pratiques de l'intelligence économique ({', '.join(themes)}) et, dans les "
                 "bulletins, la cybersécurité, l'intelligence artificielle et la blockchain.")
    return "\n".join(lines)


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Choice:
    """One option of a settings select: the code stored, the French label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    """The options of the settings panel, from what the index holds."""

    doc_types: tuple[Choice, ...]
    practices: tuple[Choice, ...]
    topics: tuple[Choice, ...]
    months: tuple[Choice, ...]


def filter_choices(catalog: Catalog) -> FilterChoices:
    """Options for the settings panel; each list starts with « all »."""
    doc_types = (Choice(ALL, "Tous les documents"),) + tuple(
        Choice(t, DOC_TYPE_PLURALS.get(t, t).capitalize()) for t in catalog.doc_types)
    practices = (Choice(ALL, "Toutes les pratiques"),) + tuple(
        Choice(p, PRACTICE_LABELS[p]) for p in (catalog.practices or PRACTICES))
    topics = (Choice(ALL, "Tous les thèmes"),) + tuple(
        Choice(t, TOPIC_LABELS[t]) for t in (catalog.topics or TOPICS) if t != "autre")
    months = (Choice(ALL, "Sans limite"),) + tuple(Choice(m, month_label(m)) for m in catalog.bulletin_months())
    return FilterChoices(doc_types, practices, topics, months)


def _month_bounds(month: str) -> tuple[str, str]:
    """The first and last day of « YYYY-MM »."""
    year, number = int(month[:4]), int(month[5:7])
    return month_bounds((year, number), (year, number))


def filters_from_settings(values: dict) -> Filters:
    """The chat settings panel's values -> search Filters; unknown or « all » values restrict nothing."""
    def pick(key, allowed):
        value = values.get(key)
        return (value,) if value in allowed else ()

    months = [values.get(k) for k in ("date_from", "date_to")]
    months = [m if isinstance(m, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m) else None for m in months]
    if months[0] and months[1] and months[0] > months[1]:
        months.reverse()
    return Filters(
        doc_types=pick("doc_type", DOC_TYPES),
        practices=pick("practice", PRACTICES),
        topics=pick("topic", TOPICS),
        date_from=_month_bounds(months[0])[0] if months[0] else None,
        date_to=_month_bounds(months[1])[1] if months[1] else None,
    )


def describe_filters(filters: Filters | None) -> str:
    """The active filters in French, e.g. « bulletins de veille · de janvier 2024 à décembre 2024 »; '' if none."""
    if not filters or not filters.active():
        return ""
    parts = [DOC_TYPE_PLURALS.get(t, t) for t in filters.doc_types]
    parts += [PRACTICE_LABELS.get(p, p) for p in filters.practices]
    parts += [TOPIC_LABELS.get(t, t) for t in filters.topics]
    start = month_label(filters.date_from[:7]) if filters.date_from else None
    end = month_label(filters.date_to[:7]) if filters.date_to else None
    if start and end:
        parts.append(f"de {start} à {end}" if start != end else start)
    elif start:
        parts.append(f"à partir de {start}")
    elif end:
        parts.append(f"jusqu'à {end}")
    return " · ".join(parts)


@dataclass(frozen=True)
class FiltersIndicator:
    """What the chip beside the input says while filters are on: a short label, and the filters in full."""

    label: str
    description: str


def filters_indicator(filters: Filters | None) -> FiltersIndicator | None:
    """The chip shown by the input while filters restrict the search (None without filters)."""
    active = describe_filters(filters)
    if not active:
        return None
    count = sum(bool(x) for x in (filters.doc_types, filters.practices, filters.topics)) + bool(
        filters.date_from or filters.date_to)
    return FiltersIndicator(label=f"Filtres : {active}",
                            description=f"{count_of(count, 'filtre actif', 'filtres actifs')} — modifiez-les "
                                        "ou retirez-les avec le bouton des réglages, à gauche.")


def filters_as_dict(filters: Filters | None) -> dict:
    """JSON form of filters for the questions log (empty lists and None left out)."""
    if not filters:
        return {}
    out = {"doc_types": list(filters.doc_types), "practices": list(filters.practices),
           "topics": list(filters.topics), "date_from": filters.date_from, "date_to": filters.date_to}
    return {k: v for k, v in out.items() if v}


# ---------------------------------------------------------------- the reply


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&=:\"'$^])")


def escape_markdown(text: str) -> str:
    """Text shown as itself: every Markdown and HTML character is backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


# A list item quoted after another quote (« 1. Isolez… [1] 2. Alertez… [1] », « … [1] – La marque… [1] »): it opens
# a line of its own in the chat, as in its document.
_ITEM_AFTER_MARK = re.compile(rf"(?<=\]) +(?=(?:{NUMBER}|[-–•]) )")


def answer_markdown(text: str) -> str:
    """An answer's text: its lines kept, a list item quoted after another quote on a line of its own, and the lines
    that open with « – » (an issue's items, a document's bullets) as a list."""
    out: list[str] = []
    for line in (line.strip() for line in _ITEM_AFTER_MARK.sub("\n", text).splitlines()):
        if not line:
            continue
        if line.startswith("– "):
            if out and not out[-1].startswith("- "):
                out.append("")  # a list after a paragraph
            out.append("- " + escape_markdown(line[2:]))
        else:
            out.append(escape_markdown(line) + "  ")
    return "\n".join(out).rstrip()


@dataclass(frozen=True)
class SourceButton:
    """A button under the answer that opens one source in the side panel."""

    kind: str  # "passage" or "pdf"
    label: str
    tooltip: str
    passage_id: str
    rank: int
    quotes: tuple[str, ...] = ()  # what the answer quotes from this source, to highlight there


@dataclass(frozen=True)
class ChatReply:
    """The message to send and its source buttons."""

    content: str
    buttons: tuple[SourceButton, ...]
    answer: Answer


@dataclass(frozen=True)
class SidePanel:
    """What the side panel shows for one source: the custom element (public/elements/<element>.jsx) and its props.

    A passage: its text first, the quoted runs marked, then its details on one line. A PDF: the cited page
    as an image the panel's width, the quoted lines highlighted, with the other pages a click away.
    """

    title: str
    kind: str  # "text" or "pdf"
    element: str
    props: dict
    page: int | None = None


def pdf_label(rank: int, passage: Passage) -> str:
    """The label of the button that opens the PDF of passage `rank` at its page."""
    page = f" p. {passage.page}" if passage.page else ""
    return f"PDF [{rank}]{page}"


def details_line(passage: Passage) -> str:
    """Type, page, section and date of a passage on one line (plain text: the panel shows it as text)."""
    return " · ".join(where_parts(passage))


def passage_panel(passage: Passage, rank: int, quotes: tuple[str, ...] | list[str] = ()) -> SidePanel:
    """The side panel for the passage cited as [rank]: its text with the quoted runs marked, then its details."""
    p = passage
    themes = [PRACTICE_LABELS.get(p.practice or "", ""), TOPIC_LABELS.get(p.topic or "", "")]
    # Only http(s) addresses become links; anything else is shown as the text it is.
    href = p.url if p.url and re.match(r"https?://", p.url) else None
    props = {
        "segments": [{"text": s.text, "mark": s.marked} for s in segments(p.text, tuple(quotes))],
        "details": details_line(p),
        "source": {"label": href or p.source, "href": href},
        "themes": " · ".join(t for t in themes if t and t != "Autre"),
        "sample": SAMPLE_NOTE if p.sample else "",
    }
    return SidePanel(title=f"[{rank}] {p.title}", kind="text", element="Passage", props=props, page=p.page)


def pdf_panel(passage: Passage, rank: int, url: str, page_url: str = "", pages: int | None = None,
              boxes: tuple[Box, ...] = ()) -> SidePanel:
    """The side panel showing the PDF of passage [rank] at its page: `page_url` gives a page's image (« {page} »
    replaced by its number), `boxes` the quoted lines on the cited page."""
    page = passage.page or 1
    props = {
        "title": passage.title, "pdf": url, "image": page_url, "page": page, "pages": pages or page,
        "details": details_line(passage),
        "boxes": [{"left": b.left, "top": b.top, "width": b.width, "height": b.height} for b in boxes],
    }
    suffix = f" — page {passage.page}" if passage.page else ""
    return SidePanel(title=f"[{rank}] {passage.title}{suffix}", kind="pdf", element="PdfPage", props=props,
                     page=passage.page)


def _source_line(hit: Hit, text: str = "") -> str:
    """One source under an answer; without its section when the answer's `text` already names it (a list of an
    issue's items: the line would repeat it)."""
    p = hit.passage
    where = where_parts(p, escape_markdown)
    if p.section and p.section.split(" › ")[-1].rstrip(". ") in text:
        where = where_parts(replace(p, section=None), escape_markdown)
    parts = [f"**\\[{hit.rank}\\]** {escape_markdown(p.title)}", *where]
    if p.sample:
        parts.append("_document d'exemple_")
    return "- " + " — ".join(parts)


def not_found_markdown(catalog: Catalog | None, filters: Filters | None = None, reason: str | None = None,
                       answer: Answer | None = None) -> str:
    """The honest reply when no passage is shown, with what the assistant does cover.

    `reason` is the answer's own explanation when it has one (off topic, no passage under the filters);
    otherwise the general one.
    """
    lines = [escape_markdown(reason) if reason else
             "Je n'ai trouvé dans les documents indexés aucun passage qui réponde à cette question : "
             "je préfère vous le dire plutôt que de vous montrer des passages sans rapport."]
    active = describe_filters(filters)
    if active:
        lines += ["", f"La recherche était limitée par vos filtres ({escape_markdown(active)}) : "
                      "élargissez-les dans les réglages puis reposez la question."]
    if catalog:
        lines += ["", coverage_markdown(catalog)]
    pointers = _help_markdown(answer) if answer else []
    if pointers:  # chosen for the question: the nearest topics covered and the contacts the documents give
        lines += [""] + pointers
    else:
        lines += ["", "Vous pouvez par exemple demander : « " + escape_markdown(STARTERS[2].message) + " » ou « "
                  + escape_markdown(STARTERS[0].message) + " »"]
    return "\n".join(lines).rstrip()


def _help_markdown(answer: Answer) -> list[str]:
    """render.help_lines in the chat's Markdown: escaped, headings in bold."""
    return help_lines(answer, escape_markdown, heading=lambda text: f"**{text}**")


def _quotes(answer: Answer) -> str:
    """The quoted sentences of an answer, without the sentence that says it is uncertain."""
    lead = f"{answer.reason} {CLOSEST} " if answer.reason else ""
    return answer.text[len(lead):] if lead and answer.text.startswith(lead) else answer.text


def render_reply(answer: Answer, *, filters: Filters | None = None, catalog: Catalog | None = None,
                 has_pdf: Callable[[Passage], bool] = lambda p: False) -> ChatReply:
    """The chat message for an answer: text with [n] marks, « Sources », and a button per source.

    An uncertain answer opens with a warning that says why, and its sources are « the closest passages »; an
    off-topic question (or one with no passage at all) gets the list of what the documents cover.
    """
    understood = [f"_Compris comme : {escape_markdown(answer.understood_as)}_", ""] if answer.understood_as else []
    if answer.outcome == OFF_TOPIC or not answer.hits:
        # The list of what the assistant covers follows: the answer's own sentence about it would repeat it.
        reason = answer.reason.replace(NOT_FOUND_SCOPE, "").strip() if answer.reason else None
        reason = None if reason == NOT_FOUND else reason
        return ChatReply(content="\n".join(understood) + not_found_markdown(catalog, filters, reason, answer),
                         buttons=(), answer=answer)
    uncertain = answer.outcome == UNCERTAIN
    by_rank = {h.rank: h for h in answer.hits}
    # Buttons and sources in mark order ([1] [2] [3]), whatever order the quotes cite them in.
    cited = sorted((by_rank[r] for r in answer.cited_ranks() if r in by_rank), key=lambda h: h.rank) \
        or [answer.hits[0]]
    others = [h for h in answer.hits if h not in cited]
    quoted: dict[int, tuple[str, ...]] = {}
    for quote in answer.quotes:
        quoted[quote.rank] = quoted.get(quote.rank, ()) + (quote.text,)
    buttons: list[SourceButton] = []
    for hit in cited + others:
        buttons.append(SourceButton(kind="passage", label=f"[{hit.rank}]",
                                    tooltip=f"Lire le passage : {citation(hit.passage)}",
                                    passage_id=hit.passage.id, rank=hit.rank, quotes=quoted.get(hit.rank, ())))
    pdfs = [hit for hit in cited if has_pdf(hit.passage)]
    for hit in pdfs:
        buttons.append(SourceButton(kind="pdf", label=pdf_label(hit.rank, hit.passage),
                                    tooltip=f"Ouvrir le PDF à la page citée : {hit.passage.title}",
                                    passage_id=hit.passage.id, rank=hit.rank, quotes=quoted.get(hit.rank, ())))
    content = list(understood)
    if uncertain:
        content += [f"> ⚠️ **Réponse incertaine.** {escape_markdown(answer.reason or DOUBT)}", "",
                    f"_{escape_markdown(CLOSEST)}_", ""]
    content += [answer_markdown(_quotes(answer) if uncertain else answer.text), "",
                "**Passages les plus proches (à vérifier)**" if uncertain else "**Sources**", ""]
    content += [_source_line(h, answer.text) for h in cited]
    if others:
        content += ["", "**Autres passages trouvés**", ""] + [_source_line(h) for h in others]
    if answer.contacts:
        content += [""] + _help_markdown(answer)
    content += ["", "_Boutons ci-dessous : lire un passage" + (" ou ouvrir le PDF à la page citée._" if pdfs else "._")]
    active = describe_filters(filters)
    if active:
        content += ["", f"_Filtres actifs : {escape_markdown(active)}_"]
    return ChatReply(content="\n".join(content), buttons=tuple(buttons), answer=answer)
