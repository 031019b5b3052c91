"""Hits -> Answer: the sentences that answer, with [n] marks, and how sure the assistant is of them.

The answer is extractive: one to three sentences taken word for word from the
retrieved passages, each followed by the number of the passage it comes from.
It has one of three outcomes (`OUTCOMES`):
- answered: the passages answer;
- uncertain: the documents are on the question's topic but no passage clearly
  answers it (too far from the question, a value asked for that no passage
  gives, a named issue that does not treat the topic). A plain sentence says
  so, and the closest passages are still quoted and shown: a reader can judge
  them, where a blank « not found » leaves nothing;
- off_topic: the question is outside what the index covers (decided against a
  background of general French, `scope.py`): no passage, the list of what is
  covered.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from . import rules, stages
from .chunking import SENTENCE_END, sentences_of
from .followup import READ_WITH, done_statement
from .french import BULLET_ITEM, DIRECTIVE, LIST_ITEM, NUMBERED_LINE
from .lexical import analyze, fold, plain, stem_set
from .query import Query
from .readers import SAMPLE_MARK
from .schema import Answer, Hit, Passage, Quote
from .stages import Context, read, value_source

# A sentence's score: its share of the question's (weighted) words, plus PASSAGE_WEIGHT times its passage's
# fused score, less POSITION_PENALTY per sentence before it in its passage and RANK_PENALTY per passage ranked
# before its own. 0.01 instead lifted the shipped corpus dev phrase 0.794 -> 0.809 and PIAF's containment, but let
# the last item of a list, read in the section's next passage, lead the answer before the sentence announcing the
# list (« – de constituer un réseau… [1] La présente charte a pour objet : … [4] »; a browser test caught it).
PASSAGE_WEIGHT = 0.5
POSITION_PENALTY = 0.02
RANK_PENALTY = 0.15
# « À retenir : … », the documents' own advice at the end of a passage: quoted with the passage the answer leads
# with, in up to ADVICE_ROOM characters beyond max_chars (rule `advice`). Blind dev half, phrase in the answer
# 0.591 -> 0.613 (0.606 without the extra room), answers 22 characters longer on average; PIAF and
# Service-Public have no such lines and are unchanged.
ADVICE = re.compile(r"^\s*[ÀA] retenir\b", re.I)
ADVICE_ROOM = 200
# A short line that is not a sentence nor a list item reads as a heading the reader has no bookmark for (« Trois
# questions pour commencer »): it counts HEADLINE_PENALTY less on top of FRAGMENT_PENALTY (rule `headlines`), unless
# it has the shape of what is asked (an address, a date). Quoted alone, it answered a question on a trade-fair stand.
HEADLINE_WORDS = 6
HEADLINE_PENALTY = 0.5
# The question's words that a passage's title or section heading holds count HEADING_WEIGHT of their weight for
# each of its sentences that does not hold them (rule `headings`): « NOV@LOG quel rapport avec l'intelligence
# économique ? » quoted a contacts table's row naming NOV@LOG rather than the section « NOV@LOG › Le lien avec
# l'intelligence économique », whose sentences name neither.
HEADING_WEIGHT = 0.3
# A sentence about its own document (« Si l'une de ces questions vous met dans l'embarras, ce mémo est fait pour
# vous. », « Ce guide a bénéficié des contributions de… », « Le présent document constitue le profil… ») describes
# the document, not the reader's case: it counts ABOUT_PENALTY less, unless the question names a kind of document
# (« à quoi sert ce guide ? », « le mémo parle de quoi ? »). The blind dev half's answers quoted the memo's
# « … ce mémo est fait pour vous » for questions on competitors, a stand at a trade fair, a host's subcontractor.
ABOUT_PENALTY = 0.5
_DOCUMENT_KINDS = r"(?:mémo|memo|guide|document|charte|bulletin|fiche|note|publication|ouvrage|recueil|site|page)"
ABOUT_ITSELF = re.compile(rf"\b(?:ce|cet|cette|le présent|la présente|notre)\s+{_DOCUMENT_KINDS}\b", re.I)
DOCUMENT_NAMED = re.compile(rf"\b{_DOCUMENT_KINDS}s?\b", re.I)
# A sentence after the first is quoted only if its score is at least KEEP_RATIO times the first one's.
KEEP_RATIO = 0.6
# The room, beyond max_chars, for the items of a numbered list that fill a gap between two quoted ones (rule `gaps`).
GAP_ROOM = 200
# A guide's opening passage under no heading (its preamble: « Face à une menace informatique toujours croissante… »)
# sets the scene: its sentences give way to those of the passages after it, which recommend (rule `preamble`), unless
# the question asks about a document. Not any document's: a Service-Public page opens on its answer.
PREAMBLE_PENALTY = 0.3
# Share of the best sentence's score given to the sentence that follows it in its passage: it raised the share
# of answers holding the gold answer from 0.739 to 0.757 on PIAF and from 0.610 to 0.638 on Service-Public
# (`assistant eval`, « réponse contient la réponse attendue »), answers growing from 383 to 419 characters.
NEXT_SENTENCE_BONUS = 0.4
# A next-step question (« ok on a tout débranché du réseau et appelé notre presta. et maintenant ? ») says which steps
# are done: in a list of steps that names them, the steps after the last one done lead the answer (rule `steps`),
# and those done are not quoted back. A step is done when it holds at least DONE_SHARE of the words (those the index
# knows) of one thing the question says was done (« on a débranché les pc du réseau »: « réseau » of « pc, réseau »).
STEPS_BONUS = 1.0
DONE_SHARE = 0.5
STEPS_DEPTH = 5  # the passages read for such a list: all those shown
# Added to a sentence that holds what the question asks for (asked.answer_shape: an amount, a date, a name for
# « qui », a place for « où »): PIAF 0.757 -> 0.772 and Service-Public 0.638 -> 0.648 of answers holding the
# gold answer (answers 416 -> 427 characters on PIAF).
SHAPE_BONUS = 0.5
# Added to a sentence that advises (french.DIRECTIVE: « Désignez un référent… », « Ne payez pas de rançon… », « il
# est recommandé de… ») when the question asks what to do (asked.asks_advice; rule `directives`). The answers quoted
# the description of the situation (« Face à une menace informatique toujours croissante… ») where the passage goes
# on with what to do. A sentence announcing a list of advice (« Les premiers réflexes : ») advises too. Blind dev
# half, phrase in the answer 0.728 -> 0.747, shipped corpus dev half 0.773 -> 0.794; PIAF's containment unchanged
# (its questions rarely ask what to do), Service-Public 0.667 -> 0.657 (one question).
DIRECTIVE_BONUS = 0.35
# Taken off a line that does not end as a sentence does (a heading, « Source : conférence », a running header
# « RÉGION NORMANDIE »): Service-Public 0.648 -> 0.676 of answers holding the gold answer, PIAF 0.772 -> 0.773.
# Also off a question (« Qui la saisit ? », a heading in Service-Public's pages): containment unchanged.
FRAGMENT_PENALTY = 0.3
# Taken off a sentence that holds a question (rule `questions`): a rhetorical one (« Savez-vous ce que prépareront
# vos concurrents ? »), or examples of questions in quotes (« Formulez votre question : « Un investisseur inconnu
# souhaite entrer au capital », « Notre messagerie a été piratée » ») ask and answer nothing. The blind dev half's
# phrase rate is unchanged (0.628 at 1.0; 0.635 at 0.3), PIAF's and Service-Public's too; « un fonds étranger veut
# entrer au capital… » no longer quotes the examples of the Région's page (issue « The answer and its sources »).
QUESTION_PENALTY = 1.0
# Lines of a list that follow a sentence announcing it (« … en cinq étapes : »), at most, within max_chars;
# its first item, up to FIRST_ITEM characters, even beyond max_chars.
LIST_LINES = 8
FIRST_ITEM = 300
# How many passages after its own a list may run into (a list of LIST_LINES long lines spans two or three).
SEQUELS = 2
# A line this long with no sentence end (a table read out of a PDF, a long table of contents) is quoted by its
# EXCERPT_WORDS words that hold most of the question's words, from EXCERPT_LEAD words before the first of them.
LONG_FRAGMENT = 450
EXCERPT_WORDS = 40
EXCERPT_LEAD = 3
# A line of labelled fields (« Éditeur : ANSSI — Thématique : Protocole 802.1X — Mise à jour : 2018-08-17 »,
# « Source : conférence »): the document's details, which the source already shows. Quoted only when the question
# asks for the value it gives (a date); rule `fields`. A link (« Lien : https://… ») is where to read on, and stays.
FIELD_LINE = re.compile(r"^\s*[A-ZÉÈÀÂÎÔ][\w'’-]*(?:\s[\w'’-]+){0,2}\s?:\s+(?P<value>\S.*)$")
URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$")

ANSWERED, UNCERTAIN, OFF_TOPIC = "answered", "uncertain", "off_topic"
OUTCOMES = (ANSWERED, UNCERTAIN, OFF_TOPIC)

# The sentence that opens an uncertain answer, before the closest passages' sentences.
DOUBT = "Je ne suis pas sûr que les documents indexés répondent à cette question."
CLOSEST = "Voici ce que disent les passages les plus proches :"
OFF_TOPIC_TEXT = ("Cette question ne semble pas porter sur les documents indexés : je ne peux pas y répondre à "
                  "partir d'eux.")
NOT_FOUND_SCOPE = ("Les documents indexés sont ceux du programme d'intelligence économique de la Région Normandie "
                   "et des guides de cybersécurité.")
NOT_FOUND = ("Je n'ai pas trouvé de réponse à cette question dans les documents indexés "
             "(programme d'intelligence économique de la Région Normandie et guides de cybersécurité).")


def period_not_found(question: str, hints, latest=None, hits: tuple[Hit, ...] | list[Hit] = ()) -> Answer:
    """A question about an issue that is not indexed: say so, name the latest one there is, and show the passages
    closest to the question (the same topic in the issues that are indexed)."""
    from .render import french_date

    if hints.date_from:
        first, last = french_date(hints.date_from, with_day=False), french_date(hints.date_to, with_day=False)
        whole_year = (hints.date_from.endswith("-01-01") and hints.date_to.endswith("-12-31")
                      and hints.date_from[:4] == hints.date_to[:4])
        asked = f"de {hints.date_from[:4]}" if whole_year else f"de {first}" if first == last else f"de {first} à {last}"
    else:
        asked = f"n° {hints.number}"
    text = f"Aucun document indexé ne correspond au numéro ou à la période demandés ({asked})."
    if latest is not None:
        text += f" Le bulletin le plus récent de l'index est « {latest.title} », daté du {french_date(latest.date)}."
    if hits:
        text += " Les passages ci-dessous sont les plus proches de la question dans les autres documents."
    return Answer(question=question, text=text, abstained=False, hits=tuple(hits), outcome=UNCERTAIN, reason=text)


def issue_contents(question: str, items: Sequence[Hit]) -> Answer:
    """What one issue holds (stages.issue_contents): its items, each on its own line with its mark, under the
    issue's title; with each one's first sentence when they are few (one rubric's)."""
    from .render import french_date

    first = items[0].passage
    one_rubric = _one_rubric([hit.passage.section for hit in items])
    ledes = len(items) <= stages.ISSUE_LEDES
    lead = f"Au sommaire de « {first.title} »"
    if first.date:
        lead += f", publié le {french_date(first.date)}"
    if one_rubric:
        lead += f", rubrique « {one_rubric} »"
    lines, quotes = [], []
    for hit in items:
        heading = hit.passage.section.split(" › ", 1)[1] if one_rubric else hit.passage.section.replace(" › ", " — ")
        lede = _lede(hit.passage) if ledes else None
        heading = heading.rstrip(". ")
        lines.append(f"– {heading}{'' if heading.endswith(('?', '!', '…')) else '.'}" + (f" {lede}" if lede else "")
                     + f" [{hit.rank}]")
        quotes.append(Quote(rank=hit.rank, text=lede or heading, passage_id=hit.passage.id))
    text = f"{lead} :\n" + "\n".join(lines)
    return Answer(question=question, text=text, abstained=False, hits=tuple(items), outcome=ANSWERED,
                  quotes=tuple(quotes))


# In an overview of a period, the issues listed at most (the newest), and the titles of an issue's items named at
# most (all of them when a rubric is named).
OVERVIEW_ISSUES = 12
OVERVIEW_TITLES = 3


def period_contents(question: str, issues: Sequence[Hit], titles: Sequence[Sequence[str]]) -> Answer:
    """What the issues of a period hold (stages.period_contents): one line an issue, oldest first, its number and
    month, the titles of its items (OVERVIEW_TITLES at most, unless one rubric is asked) and its mark; `issues`
    holds each issue's first item, `titles` the sections of all its items. The OVERVIEW_ISSUES newest issues at
    most, the lead saying how many the period holds."""
    from .render import french_date

    total = len(issues)
    issues = [replace(hit, rank=rank) for rank, hit in enumerate(issues[-OVERVIEW_ISSUES:], start=1)]
    titles = titles[-OVERVIEW_ISSUES:]
    one_rubric = _one_rubric([section for sections in titles for section in sections])
    first, last = issues[0].passage, issues[-1].passage
    lead = f"Au sommaire des {len(issues)} bulletins parus du {french_date(first.date)} au {french_date(last.date)}"
    if total > len(issues):
        lead = (f"La période compte {total} bulletins ; au sommaire des {len(issues)} plus récents, parus du "
                f"{french_date(first.date)} au {french_date(last.date)}")
    if one_rubric:
        lead += f", rubrique « {one_rubric} »"
    lines, quotes = [], []
    for hit, sections in zip(issues, titles):
        named = [section.split(" › ", 1)[-1].rstrip(". ") for section in sections]
        shown = named if one_rubric else named[:OVERVIEW_TITLES]
        rest = len(named) - len(shown)
        listed = " ; ".join(shown) + (f" ; et {rest} autre{'s' if rest > 1 else ''}" if rest else "")
        label = _issue_label(hit.passage)
        lines.append(f"– {label} : {listed}. [{hit.rank}]")
        quotes.append(Quote(rank=hit.rank, text=listed, passage_id=hit.passage.id))
    text = f"{lead} :\n" + "\n".join(lines)
    return Answer(question=question, text=text, abstained=False, hits=tuple(issues), outcome=ANSWERED,
                  quotes=tuple(quotes))


def _one_rubric(sections: Sequence[str]) -> str | None:
    """The rubric every one of these item sections is under (« Blockchain › … »), or None."""
    rubrics = {section.split(" › ")[0] for section in sections}
    return rubrics.pop() if len(rubrics) == 1 and all(" › " in section for section in sections) else None


def _issue_label(passage: Passage) -> str:
    """« n° 38 — novembre 2025 » out of an issue's title, or the title."""
    found = re.search(r"n°\s*\d+.*$", passage.title)
    return found.group() if found else passage.title


ARTICLES = "Articles des bulletins sur ce sujet, du plus récent au plus ancien :"


def with_articles(answer: Answer, items: Sequence[Hit], count: bool = False) -> Answer:
    """The answer, then the bulletin items found (stages.articles_on_topic), one a line with its issue and mark.

    An item among the passages the answer shows keeps its mark; the others are added to its passages, marked
    after them. For a count (« combien d'articles sur… ? »), the list is the answer, led by how many it holds
    (at least those, since the search looks only so deep): its items are the first passages, marked in the
    list's order, and the other passages found follow."""
    if count:
        listed = {hit.passage.id for hit in items}
        items = [replace(hit, rank=rank) for rank, hit in enumerate(items, start=1)]
        others = [replace(hit, rank=rank) for rank, hit in enumerate(
            (hit for hit in answer.hits if hit.passage.id not in listed), start=len(items) + 1)]
        lines, quotes = _article_lines(items)
        text = f"Au moins {len(items)} articles des bulletins indexés évoquent ce sujet, du plus récent au plus ancien :"
        return replace(answer, text=f"{text}\n" + "\n".join(lines), quotes=quotes, hits=(*items, *others),
                       outcome=ANSWERED, abstained=False, reason=None)
    shown = {hit.passage.id: hit for hit in answer.hits}
    added: list[Hit] = []
    marked = []
    for hit in items:
        if hit.passage.id in shown:
            hit = shown[hit.passage.id]
        else:
            hit = replace(hit, rank=len(answer.hits) + len(added) + 1)
            added.append(hit)
        marked.append(hit)
    lines, quotes = _article_lines(marked)
    return replace(answer, text=f"{answer.text}\n{ARTICLES}\n" + "\n".join(lines), quotes=(*answer.quotes, *quotes),
                   hits=(*answer.hits, *added))


def _article_lines(items: Sequence[Hit]) -> tuple[list[str], tuple[Quote, ...]]:
    """One line an item, « – issue : rubric — title [n] », and the quote each line makes."""
    headings = [hit.passage.section.replace(" › ", " — ") for hit in items]
    return ([f"– {hit.passage.title} : {heading} [{hit.rank}]" for hit, heading in zip(items, headings)],
            tuple(Quote(rank=hit.rank, text=heading, passage_id=hit.passage.id) for hit, heading in zip(items, headings)))


def _lede(passage: Passage) -> str | None:
    """A passage's first sentence of its own (not a detail line such as « Source : … »)."""
    return next((sentence for sentence in sentences_of(passage.text)
                 if len(sentence) >= 15 and not is_field_line(sentence)), None)


def off_topic(question: str, covered: str = "") -> Answer:
    """The refusal of a question outside what the index covers: no passage, and what is covered."""
    text = OFF_TOPIC_TEXT + (f" {covered}" if covered else "")
    return Answer(question=question, text=text, abstained=True, hits=(), outcome=OFF_TOPIC, reason=OFF_TOPIC_TEXT)


class Lexical(Protocol):
    """What the answer needs of the index's lexical side (lexical.LexicalIndex)."""

    def terms(self, question: str | Sequence[str], ignored: frozenset[str] = frozenset()) -> list[str]: ...

    def idf(self, tokens: list[str]) -> dict[str, float]: ...

    def document_frequency(self, token: str) -> int: ...


@dataclass(frozen=True)
class Certainty:
    """When the passages are too far from the question to be called its answer (calibrated by `assistant eval`).

    Doubt needs two weak signals at once: the question's best passage stands
    little above the rest of the index (`Searcher.standing`: in standard
    deviations of its similarities to every passage, plus a share of the
    question's words the best passage has: below min_confidence), and it is
    not close in absolute terms either (best dense similarity below
    max_similarity). An absolute similarity alone says more about the corpus
    and the wording than about the answer (PIAF's questions have lower cosines
    than ours, yet their passages answer them: 48 % of them were flagged); the
    standing alone flags questions on a topic many passages treat (« que
    disent les bulletins sur les rançongiciels ? »), whose best passage is
    close but not alone.
    """

    min_confidence: float = 0.0
    coverage_weight: float = 0.0
    max_similarity: float = float("inf")
    # A long question (« notre page Facebook s'est fait pirater, on ne peut plus se connecter et ils publient des
    # pubs louches à notre nom ») spreads its vector over several things, so its best passage stands less far
    # above the rest than a short one's does, however well it answers: this weight times log(1 + its content
    # words) is added to the confidence.
    length_weight: float = 0.0

    def doubt(self, hits: list[Hit], question: str | Query, lexical: Lexical | None = None,
              standing: float | None = None) -> str | None:
        """Why the passages may not answer the question, in a sentence for the reader; None when they do.

        The confidence is the question's standing in the index (the best dense similarity without one) plus
        the coverage and length bonuses."""
        best, covered = signals(hits, question, lexical)
        confidence = ((best if standing is None else standing) + self.coverage_weight * covered
                      + self.length_weight * length_signal(question))
        return DOUBT if confidence < self.min_confidence and best < self.max_similarity else None


def length_signal(question: str | Query) -> float:
    """log(1 + the question's content words), as the index reads them: what Certainty.length_weight weighs."""
    stems = question.stems if isinstance(question, Query) else analyze(question)
    return math.log1p(len(stems))


def signals(hits: list[Hit], question: str | Query, lexical: Lexical | None = None) -> tuple[float, float]:
    """What the confidence is made of: the best dense similarity of the top 3, the best passage's coverage."""
    if not hits:
        return 0.0, 0.0
    return max(h.dense for h in hits[:3]), coverage(question, read(hits[0].passage), lexical)


def coverage(question: str | Query, text: str, lexical: Lexical | None = None) -> float:
    """Share of the question's content words (stems, as the index reads them) found in the text, rare words
    weighing more."""
    wanted, weights = _question_words(question, lexical)
    if not wanted:
        return 0.0
    present = stem_set(text)
    total = sum(weights.values()) or 1.0
    return sum(w for t, w in weights.items() if t in present) / total


def _next_steps(question: str, hits: Sequence[Hit], lexical: Lexical | None) -> tuple[int, set[int], set[int]] | None:
    """For a next-step question, the passage whose list of steps names what the question says is done: (its rank,
    the positions of the steps done, the positions of the steps after the last one done), or None. Each thing said
    done (« on a débranché les pc du réseau », « appelé notre presta ») is matched on its own."""
    done = done_statement(question)
    if done is None:
        return None
    actions = []
    for said in re.split(r"\s*(?:[,;]|\bet\b|\bpuis\b)\s*", done):
        wanted, _ = _question_words(said, lexical)
        if lexical is not None:  # a word the index never writes matches no step
            wanted = {t for t in wanted if lexical.document_frequency(t)}
        if wanted:
            actions.append(wanted)
    if not actions:
        return None
    for hit in hits:
        lines = sentences_of(hit.passage.text)
        items = [position for position, line in enumerate(lines) if LIST_ITEM.match(line)]
        matched = {position for position in items for wanted in actions
                   if len(wanted & stem_set(lines[position])) >= DONE_SHARE * len(wanted)}
        if not matched:
            continue
        # The steps after the last one done, as long as the list runs (consecutive items); those before it are done.
        last = max(matched)
        after, position = set(), last + 1
        while position in items:
            after.add(position)
            position += 1
        before, position = set(), last
        while position in items:
            before.add(position)
            position -= 1
        if after:
            return hit.rank, before, after
    return None


def _question_words(question: str | Query, lexical: Lexical | None,
                    ignored: frozenset[str] = frozenset()) -> tuple[set[str], dict[str, float]]:
    """The question's stems, as the index reads them, and their weights (all 1 without an index)."""
    stems = Query.of(question).stems
    if lexical is None:
        wanted = set(stems) - ignored
        return wanted, {t: 1.0 for t in wanted}
    wanted = set(lexical.terms(stems, ignored))
    return wanted, (lexical.idf(sorted(wanted)) if wanted else {})


def _with_list(cand: tuple, lines: tuple[str, ...], room: int,
               mark: Callable[[int, int], int] | None = None,
               announced: bool = False) -> tuple[tuple, list[int], tuple[tuple[str, int], ...]]:
    """The candidate with the lines of the list it announces (« … en cinq étapes : »), as many as fit in `room`.

    A reader left with « Il est réalisé en partenariat avec : » and no partners is not answered. The list joins
    its sentence, so the whole reads as one quotation; « … » says when it goes on. Containment of the
    benchmarks' answers is unchanged by this (they rarely sit in lists); answers grow on Service-Public.
    `mark(i, current)` gives the [n] mark of line i, `current` being the mark of the line before (a list that
    runs onto the next page is cited with that page); where it changes, the lines before are closed with theirs.
    Returns the candidate, the positions of the lines it took, and its pieces: (text, mark) in order, the
    candidate's sentence being the pieces joined with their marks but the last.
    """
    score, rank, position, sentence = cand
    if not (announced or _announces_list(sentence)):
        return cand, [], ((sentence, rank),)
    taken, numbered, current = [], None, rank
    pieces, opened = [], 0  # the pieces closed so far; where the open one starts in `sentence`
    end = min(position + 1 + LIST_LINES, len(lines))
    for following in range(position + 1, end):
        line = lines[following]
        # Items led by a number or a bullet end where such lines end; others at the first period.
        item = bool(LIST_ITEM.match(line))
        numbered = item if numbered is None else numbered
        if numbered and not item:
            break
        # An announcement with none of its items answers nothing: a first item of up to FIRST_ITEM
        # characters comes whatever the room.
        if len(line) + 1 > room and (taken or len(line) > FIRST_ITEM):
            sentence += " …"
            break
        line_mark = mark(following, current) if mark is not None else rank
        if line_mark != current:
            closing = f" [{current}]"
            pieces.append((sentence[opened:], current))
            sentence, room, current = sentence + closing, room - len(closing), line_mark
            opened = len(sentence) + 1
        # A bullet is layout, not words: « avec : la CCI ; la Chambre… » reads on one line, numbers stay.
        line = BULLET_ITEM.sub("", line)
        sentence, room = f"{sentence} {line}", room - len(line) - 1
        taken.append(following)
        if not numbered and line.rstrip().endswith("."):
            break
    else:
        if numbered and end < len(lines) and LIST_ITEM.match(lines[end]):
            sentence += " …"
    return (score, rank, position, sentence), taken, (*pieces, (sentence[opened:], current))


def _subsections_after(cand: tuple, passages: dict, lines: dict,
                       first_child: Callable[[Passage], Passage | None] | None) -> Passage | None:
    """The sub-section opening right after the candidate's passage, when the candidate is that passage's last
    sentence and announces nothing else (rule `subsections`)."""
    if first_child is None or not rules.on("subsections") or _announces_list(cand[3]):
        return None
    _, rank, position, _ = cand
    return first_child(passages[rank]) if position == len(lines[rank]) - 1 else None


def is_field_line(line: str) -> bool:
    """« Éditeur : ANSSI — Thématique : … », « Source : conférence »: a document's details, not a sentence (no
    sentence end, fields joined by dashes or a value of a few words); a link is not one."""
    match = FIELD_LINE.match(line)
    if match is None or line.rstrip().endswith((".", "!", "?", "…", ":", ";")):
        return False
    value = match["value"].strip()
    return not URL_ONLY.match(value) and (" — " in value or len(value.split()) <= 6)


def _announces_list(sentence: str) -> bool:
    """« Elle se déroule en quatre étapes : »"""
    return sentence.rstrip().endswith(":")


def _excerpt(fragment: str, weights: dict[str, float], size: int = EXCERPT_WORDS) -> str:
    """The `size` words of a long fragment that hold most of the question's words, « … » marking the cuts.

    A table read out of a PDF comes as one line of cells with no sentence
    end (« Votre besoin À qui vous adresser… Approche suspecte, ingérence…
    Services de l'État en région… »): the row asked about is quoted, not the
    whole table.
    """
    words = fragment.split()
    if len(words) <= size:
        return fragment
    gains = [sum(weights.get(t, 0.0) for t in set(analyze(word))) for word in words]
    window = sum(gains[:size])
    best, start = window, 0
    for i in range(size, len(words)):
        window += gains[i] - gains[i - size]
        if window > best:
            best, start = window, i - size + 1
    # The window opens a little before the first word asked about: a row starts with what it is about.
    first = next((i for i in range(start, start + size) if gains[i] > 0), start)
    start = max(0, first - EXCERPT_LEAD)
    end = min(len(words), start + size)
    return ("… " if start else "") + " ".join(words[start:end]) + (" …" if end < len(words) else "")


def _restates(sentence: str, other: str) -> bool:
    """True when two sentences say the same thing (the same fact on two pages): it is quoted once."""
    a, b = stem_set(sentence), stem_set(other)
    return bool(a and b) and len(a & b) / len(a | b) >= 0.6


def _is_sample_notice(sentence: str) -> bool:
    """The notice a sample document opens with (« Document d'exemple rédigé pour la démonstration… »)."""
    # Folding every sentence cost ~0.3 ms a question: look for the bare word first.
    return "xemple" in sentence and SAMPLE_MARK in fold(sentence).replace("’", "'")


def _lines_with_sequel(passage: Passage, following: Callable[[Passage], Passage | None] | None
                       ) -> tuple[tuple[str, ...], tuple[Passage, ...]]:
    """The passage's lines, then those of the passages cut after it, where a list announced here may go on;
    and the passage each line was read from (a list may run over a page break).

    Passages overlap: lines of a sequel already read are skipped, and a line
    cut at a passage's end gives way to its whole form. The list takes at most
    LIST_LINES lines, so the sequels read stop there too.
    """
    lines = sentences_of(passage.text)
    owners = (passage,) * len(lines)
    current = passage
    for _ in range(SEQUELS):
        sequel = following(current) if following is not None else None
        if sequel is None:
            break
        rest = [line for line in sentences_of(sequel.text) if line.strip() not in current.text]
        if rest and lines and rest[0].startswith(lines[-1].strip()):
            lines, owners, rest = lines[:-1] + (rest[0],), owners[:-1] + (sequel,), rest[1:]
        lines, owners, current = lines + tuple(rest), owners + (sequel,) * len(rest), sequel
    return lines, owners


def compose_answer(question: str | Query, hits: list[Hit], certainty: Certainty | None = None,
                   max_sentences: int = 3, max_chars: int = 600, lexical: Lexical | None = None,
                   following: Callable[[Passage], Passage | None] | None = None,
                   standing: float | None = None, doubt: str | None = None,
                   context: Context | None = None,
                   first_child: Callable[[Passage], Passage | None] | None = None) -> Answer:
    """The sentences that best match the question, each marked [n] with its passage's rank.

    `lexical` is the index's lexical side: it weighs the question's words (rare ones count more) and reads
    them as the search did (typos corrected); without it all words weigh 1.
    `following` gives the passage cut after a passage, so that a list announced at the end of one goes on
    into the next (same document and heading, cited under the same mark). `first_child` gives the passage
    opening a sub-section right after one (« … › Avant le départ »): a passage whose last sentence is quoted
    announces its sub-sections (« Quelques précautions simples limitent fortement ces risques. »), and their
    first items follow it, cited under their own mark.
    `standing` is how far the best passage stands above the index (`Searcher.standing`), which the certainty reads.
    `doubt` is a reason found before: the answer is then uncertain.
    `context` is what the checks read (stages.DOUBTS: a place no passage names, the certainty, a value no
    passage gives); without it, the certainty and the value are checked, with `certainty`, `lexical`, `standing`.
    """
    query = Query.of(question)
    question = query.text
    certainty = certainty or Certainty()
    if not hits:
        return Answer(question=question, text=NOT_FOUND, abstained=False, hits=(), outcome=UNCERTAIN, reason=NOT_FOUND)
    context = context or Context(certainty=certainty, lexical=lexical, standing=standing)
    # The passages may be on the topic yet not answer (a place none names, too far, a value none gives): say so,
    # then quote the closest.
    doubt = doubt or stages.doubt(query, hits, context)
    sources = hits[:3]
    # The section the answer leads with goes on in its next passages, which the rule `spread` shows after the first
    # three: they are read as the lead's own (blind dev phrase 0.620 -> 0.628 with them, as before `spread`).
    lead = hits[0].passage.section_key
    continued = {h.rank for h in hits[3:] if lead is not None and h.passage.section_key == lead}
    sources = [*sources, *(h for h in hits[3:] if h.rank in continued)]
    asked = query.asked if rules.on("value") else None
    source = value_source(hits, asked) if asked is not None else None
    if source is not None and source not in sources:
        sources = [*sources, source]
    # A list of steps that names what a next-step question says is done, among the passages shown (rule `steps`).
    steps = _next_steps(query.text.split(READ_WITH)[0], hits[:STEPS_DEPTH], lexical) if rules.on("steps") else None
    if steps is not None and all(hit.rank != steps[0] for hit in sources):
        sources = [*sources, next(hit for hit in hits if hit.rank == steps[0])]
    wanted, weights = _question_words(query, lexical, query.time_words)
    total_weight = sum(weights.values()) or 1.0
    shape = query.shape
    directives = query.advice and rules.on("directives")
    lines = {hit.rank: sentences_of(hit.passage.text) for hit in sources}
    passages = {hit.rank: hit.passage for hit in sources}
    candidates = []
    fields = rules.on("fields")
    # A table of contents or a masthead points to content and answers nothing (rule `covers`), unless it is all
    # there is to quote.
    covers = rules.on("covers") and not all(hit.passage.points_elsewhere for hit in sources)
    questions = rules.on("questions")
    # A sentence about the document itself answers a question about the document, not the reader's own (rule
    # `about`).
    about = rules.on("about") and not DOCUMENT_NAMED.search(question)
    headlines = rules.on("headlines")
    preamble = about and rules.on("preamble") and context.searcher is not None
    # A sentence many documents repeat (a collection's disclaimer) says nothing of the question (rule `boilerplate`).
    boilerplate = context.searcher.index.boilerplate() \
        if rules.on("boilerplate") and context.searcher is not None else frozenset()
    # A sentence is read under its document's title and section heading, as the search reads it (rule `headings`).
    heads = {hit.rank: stem_set(f"{hit.passage.title} {hit.passage.section or ''}") for hit in sources} \
        if rules.on("headings") else {}
    for hit in sources:
        if covers and hit.passage.points_elsewhere:
            continue
        opening = preamble and hit.passage.doc_type == "guide" and context.searcher.index.opens(hit.passage)
        # Which lines advise (rule `directives`), read once: a line is also read for the sentence announcing it.
        advising = [bool(DIRECTIVE.search(line)) for line in lines[hit.rank]] if directives else []
        for position, sentence in enumerate(lines[hit.rank]):
            if len(sentence) < 15 or (hit.passage.sample and _is_sample_notice(sentence)) or \
                    (boilerplate and plain(sentence) in boilerplate):
                continue
            if fields and is_field_line(sentence) and not (asked is not None and asked.given_by(sentence)):
                continue
            words = stem_set(sentence)
            overlap = sum(weights[t] for t in wanted & words) / total_weight
            if heads:
                overlap += HEADING_WEIGHT * sum(weights[t] for t in (wanted & heads[hit.rank]) - words) / total_weight
            # Prefer the best passage, and within it sentences that share the question's words.
            placed = 1 if hit.rank in continued else hit.rank
            score = overlap + PASSAGE_WEIGHT * hit.score - POSITION_PENALTY * position - RANK_PENALTY * (placed - 1)
            if shape is not None and shape.search(sentence):
                score += SHAPE_BONUS
            # A sentence announcing a list of advice (« Les premiers réflexes : ») advises as its items do.
            if directives and (advising[position] or (_announces_list(sentence) and position + 1 < len(advising)
                                                      and advising[position + 1])):
                score += DIRECTIVE_BONUS
            if not SENTENCE_END.search(sentence) or sentence.rstrip().endswith("?"):
                score -= FRAGMENT_PENALTY
                if headlines and len(sentence.split()) <= HEADLINE_WORDS and not LIST_ITEM.match(sentence) \
                        and not (shape is not None and shape.search(sentence)):
                    score -= HEADLINE_PENALTY
            if questions and "?" in sentence:
                score -= QUESTION_PENALTY
            if about and ABOUT_ITSELF.search(sentence):
                score -= ABOUT_PENALTY
            if opening:
                score -= PREAMBLE_PENALTY
            if steps is not None and hit.rank == steps[0]:
                score += STEPS_BONUS if position in steps[2] else -STEPS_BONUS if position in steps[1] else 0.0
            candidates.append((score, hit.rank, position, sentence))
    if source is not None and not asked.given_by(read(source.passage)):
        # Only the title gives the value (« Les six pôles de compétitivité normands »): it leads the answer.
        top = max((c[0] for c in candidates), default=0.0)
        candidates.append((top + 0.01, source.rank, -1, source.passage.title))
    if not candidates:
        first = hits[0]
        return _answer(question, _quoted([(first.passage.text[:max_chars], first.rank)], {first.rank: first}),
                       tuple(hits), doubt)
    candidates.sort(key=lambda c: -c[0])
    # The sentence right after the best one often completes it (« … trois modes d'action. » then the three).
    best = candidates[0]
    candidates = [best] + sorted(
        ((score + NEXT_SENTENCE_BONUS * best[0] if (rank, position) == (best[1], best[2] + 1) else score,
          rank, position, sentence) for score, rank, position, sentence in candidates[1:]),
        key=lambda c: -c[0])
    # A list that runs onto the next page cites that page: its passage keeps its rank among the hits, or comes
    # after them as a source of its own.
    rank_of, added, cited = {h.passage.id: h.rank for h in hits}, [], {h.rank: h for h in hits}

    def cite(owner: Passage, current: int, own: bool = False) -> int:
        # A line is cited with its own passage when that one is shown; a list cut by a page break, with its
        # page's; a sub-section's lines with their own passage.
        here = cited[current].passage
        if owner.id == here.id:
            return current
        if owner.id in rank_of:
            return rank_of[owner.id]
        if not own and owner.page == here.page:
            return current
        added.append(Hit(passage=owner, score=cited[current].score, rank=len(hits) + len(added) + 1))
        rank_of[owner.id], cited[added[-1].rank] = added[-1].rank, added[-1]
        return added[-1].rank

    chosen, absorbed, total, pieces = [], set(), 0, {}
    for cand in candidates:
        if chosen and (len(chosen) >= max_sentences or cand[0] < candidates[0][0] * KEEP_RATIO):
            break
        # A line already quoted (in a list, or from a passage that overlaps another) is not quoted again.
        if (cand[1], cand[2]) in absorbed or cand[3] in absorbed or (chosen and (
                total + len(cand[3]) > max_chars or any(_restates(cand[3], c[3]) for c in chosen))):
            continue
        # (A sentence that announces a list ends with « : », so it is never cut here.)
        if len(cand[3]) > LONG_FRAGMENT and not SENTENCE_END.search(cand[3]):
            cand = (*cand[:3], _excerpt(cand[3], weights))
        # A list's lines come with the sentence announcing it, before any other sentence takes the room: those
        # of its passage, then of the passages cut after it.
        child = _subsections_after(cand, passages, lines, first_child)
        if child is not None or _announces_list(cand[3]):
            if child is None:
                sequel, owners = _lines_with_sequel(passages[cand[1]], following)
            else:  # the passage's own lines, then its first sub-section's
                sequel, owners = _lines_with_sequel(child, following)
                sequel, owners = lines[cand[1]] + sequel, (passages[cand[1]],) * len(lines[cand[1]]) + owners
            cand, taken, pieces[(cand[1], cand[2])] = _with_list(
                cand, sequel, max_chars - total - len(cand[3]), announced=child is not None,
                mark=lambda i, current, owners=owners, own=child is not None: cite(owners[i], current, own))
            absorbed |= {(cand[1], position) for position in taken} | {sequel[position] for position in taken}
            # A line chosen on its own before its list came is now quoted in the list: it is not quoted twice.
            for quoted in [c for c in chosen if (c[1], c[2]) in absorbed or c[3] in absorbed]:
                chosen.remove(quoted)
                total -= len(quoted[3])
        chosen.append(cand)
        total += len(cand[3])
    # The passage the answer leads with gives its own advice in an « À retenir » line: it is quoted too.
    if chosen and rules.on("advice"):
        lead, taken = chosen[0][1], {(c[1], c[2]) for c in chosen}
        advice = next(((position, line) for position, line in enumerate(lines[lead]) if ADVICE.match(line)), None)
        if advice is not None and (lead, advice[0]) not in taken and advice[1] not in absorbed \
                and total + len(advice[1]) <= max_chars + ADVICE_ROOM:
            chosen.append((0.0, lead, *advice))
    if rules.on("gaps"):
        chosen = _without_gaps(chosen, lines, pieces, max_chars + GAP_ROOM)
    # Read in document order: by passage rank, then position in the passage; the next steps first.
    chosen.sort(key=lambda c: (steps is None or c[1] != steps[0], c[1], c[2]))
    quoted = [piece for _, rank, position, sentence in chosen
              for piece in pieces.get((rank, position), ((sentence, rank),))]
    return _answer(question, _quoted(quoted, cited), (*hits, *added), doubt)


def _without_gaps(chosen: list[tuple], lines: dict[int, tuple[str, ...]], pieces: dict, room: int) -> list[tuple]:
    """The chosen sentences, with the items of a numbered list quoted without a gap (rule `gaps`): « 1. Isolez…
    3. Conservez… » reads as if there were no step 2. The missing items between two chosen ones are added while
    `room` (characters) allows; the items after a gap that does not fit are dropped."""
    total = sum(len(c[3]) for c in chosen)
    taken = {(c[1], c[2]) for c in chosen}
    for rank in sorted({c[1] for c in chosen}):
        numbered = sorted(c[2] for c in chosen if c[1] == rank and c[2] >= 0 and (rank, c[2]) not in pieces
                          and NUMBERED_LINE.match(c[3]))
        if len(numbered) < 2:
            continue
        for position in range(numbered[0] + 1, numbered[-1]):
            if (rank, position) in taken:
                continue
            line = lines[rank][position]
            if NUMBERED_LINE.match(line) and total + len(line) <= room:
                chosen.append((0.0, rank, position, line))
                taken.add((rank, position))
                total += len(line)
            else:  # a gap that stays: what comes after it goes
                chosen = [c for c in chosen if not (c[1] == rank and c[2] > position and NUMBERED_LINE.match(c[3]))]
                break
    return chosen


def _quoted(pieces: list[tuple[str, int]], cited: dict[int, Hit]) -> tuple[str, tuple[Quote, ...]]:
    """The answer's words, each piece closed by its [n] mark, and its quotes: each piece with its mark and the id
    of the passage it was taken from (`cited`: the hit of each mark)."""
    text = " ".join(f"{piece} [{mark}]" for piece, mark in pieces)
    return text, tuple(Quote(rank=mark, text=piece.strip(), passage_id=cited[mark].passage.id)
                       for piece, mark in pieces if piece.strip())


def _answer(question: str, quoted: tuple[str, tuple[Quote, ...]], hits: tuple[Hit, ...], doubt: str | None) -> Answer:
    """The quotes as the answer, or after the reason for doubt as the closest passages' words."""
    text, quotes = quoted
    if doubt is None:
        return Answer(question=question, text=text, abstained=False, hits=hits, outcome=ANSWERED, quotes=quotes)
    return Answer(question=question, text=f"{doubt} {CLOSEST} {text}", abstained=False, hits=hits,
                  outcome=UNCERTAIN, reason=doubt, quotes=quotes)
