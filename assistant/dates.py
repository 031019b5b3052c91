"""What a question says about time: a named month or year, a bulletin number, « le dernier »."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date

from .lexical import analyze, fold
from .french import MONTH_NUMBERS

_MONTHS = {fold(name): number for name, number in MONTH_NUMBERS.items()}  # questions are folded
_MONTH = "|".join(_MONTHS)
_PUBLICATION = re.compile(r"\b(bulletins?|veilles?|numeros?|parutions?|editions?|lettres?|newsletters?)\b")
_LATEST = re.compile(r"\b(derniere?s?|plus recente?s?|recente?s?|actuel(le)?|nouve(au|l|lle)|nouveautes?|quoi de neuf)\b")


@dataclass(frozen=True)
class TimeHints:
    """Dates and numbers a question asks for; empty when it names none."""

    date_from: str | None = None
    date_to: str | None = None
    number: int | None = None
    latest: bool = False
    # The question names a publication (« bulletin », « numéro », « veille »…): the period is that of an issue.
    publication: bool = field(default=False, compare=False)

    def any(self) -> bool:
        return bool(self.date_from or self.number or self.latest)


def _period(year: int, month: int | None = None) -> tuple[str, str]:
    if month is None:
        return f"{year:04d}-01-01", f"{year:04d}-12-31"
    last = calendar.monthrange(year, month)[1]
    return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"


def time_hints(question: str, today: date | None = None) -> TimeHints:
    """What the question says about time, and whether it names a publication."""
    publication = bool(_PUBLICATION.search(fold(question)))
    return replace(_read_hints(question, today), publication=publication)


def _read_hints(question: str, today: date | None = None) -> TimeHints:
    """Read a month and year (« mars 2025 »), a year with a publication word (« les bulletins de 2024 »),
    a number (« bulletin n° 42 ») or a wish for the latest issue (« le dernier bulletin »)."""
    text = fold(question).replace("’", "'")
    today = today or date.today()
    publication = bool(_PUBLICATION.search(text))
    number = re.search(r"\b(?:n\s*°|no\.?|numero|bulletin)\s*(\d{1,3})\b(?!\s*(?:" + _MONTH + r"))", text)
    hint_number = int(number[1]) if number and not re.match(r"\d{4}", number[1]) else None

    # A full date (« le 2 août 2026 ») is about content, not about which issue to read.
    month_year = re.search(rf"(?<!\d\s)(?<!\d)\b({_MONTH})\s+(?:de\s+l'annee\s+)?(\d{{4}})\b", text)
    full_date = re.search(rf"\b\d{{1,2}}(?:er)?\s+({_MONTH})\s+\d{{4}}\b", text)
    if month_year and not (full_date and full_date[1] == month_year[1]):
        start, end = _period(int(month_year[2]), _MONTHS[month_year[1]])
        return TimeHints(start, end, hint_number)
    if "mois dernier" in text or "mois precedent" in text:
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        start, end = _period(year, month)
        return TimeHints(start, end, hint_number)
    if "ce mois" in text:
        start, end = _period(today.year, today.month)
        return TimeHints(start, end, hint_number)
    year = re.search(r"\b(?:en|de|depuis|durant|pendant|annee)?\s*(20\d{2})\b", text)
    if year and publication and not full_date:
        start, end = _period(int(year[1]))
        return TimeHints(start, end, hint_number)
    if publication and ("annee derniere" in text or "l'an dernier" in text):
        start, end = _period(today.year - 1)
        return TimeHints(start, end, hint_number)
    latest = bool(publication and _LATEST.search(text))
    return TimeHints(number=hint_number, latest=latest)


# Words that name an issue (« le dernier bulletin »), and those that ask what it says, not what about
# (« … parle de quoi sur… »).
_PUBLICATION_STEMS = frozenset(analyze("bulletin bulletins veille veilles numéro numéros parution parutions "
                                       "édition éditions lettre lettres newsletter newsletters"))
_LATEST_STEMS = frozenset(analyze("dernier dernière derniers dernières récent récente récents récentes "
                                  "actuel actuelle nouveau nouvel nouvelle"))
_ISSUE_WORDS = _PUBLICATION_STEMS | _LATEST_STEMS | frozenset(analyze(
    "collaborative sommaire mois année parle parlent parler dit disent dire traite traitent traiter évoque "
    "évoquer aborde aborder contient contenir quoi sujet sujets thème thèmes question questions article articles "
    "nouveautés quel quelle quels quelles faire"))
_MONTH_STEMS = frozenset(analyze(" ".join(MONTH_NUMBERS)))


def time_words(question: str) -> frozenset[str]:
    """The stems that only say which issue a question wants (« le dernier bulletin », « la veille de mars
    2025 »): the ranking reads them as a date, and a passage is no closer to the question for saying « l'automne
    dernier », « mars » or « bulletin de veille » (every issue's cover does)."""
    return time_words_of(time_hints(question))


def time_words_of(hints: TimeHints) -> frozenset[str]:
    """`time_words` of a question read into these hints."""
    # « en mars 2019 » in a question on anything else is about the content (a passage that says it is closer).
    if not (hints.any() and hints.publication):
        return frozenset()
    words = set(_PUBLICATION_STEMS)
    if hints.latest:
        words |= _LATEST_STEMS
    if hints.date_from:
        words |= _MONTH_STEMS | {hints.date_from[:4]}
    if hints.number is not None:
        words.add(str(hints.number))
    return frozenset(words)


def issue_topic(question: str) -> frozenset[str] | None:
    """The stems of what a question about a named issue asks about: empty for the issue itself (« le dernier
    bulletin »), None when the question names no issue."""
    return issue_topic_of(analyze(question), time_hints(question))


def issue_topic_of(stems, hints: TimeHints) -> frozenset[str] | None:
    """`issue_topic` of a question read into these stems (lexical.analyze) and hints."""
    if not (hints.publication and hints.any()):
        return None
    return topic_words(stems)


def topic_words(stems) -> frozenset[str]:
    """The stems (lexical.analyze) left when those that only name an issue or a period are taken out."""
    return frozenset(t for t in stems if t not in _ISSUE_WORDS and not t.isdigit()) - _MONTH_STEMS
