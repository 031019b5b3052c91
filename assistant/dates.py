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
_PUBLICATION = re.compile(r"\b(bulletins?|veilles?|numeros?|parutions?|editions?|lettres?|newsletters?|rubriques?)\b")
_LATEST = re.compile(r"\b(derniere?s?|plus recente?s?|recente?s?|actuel(le)?|nouve(au|l|lle)|nouveautes?|quoi de neuf)\b")


@dataclass(frozen=True)
class TimeHints:
    """Dates and numbers a question asks for; empty when it names none."""

    date_from: str | None = None
    date_to: str | None = None
    number: int | None = None
    latest: bool = False
    # How many of the latest issues (« les trois derniers bulletins »), when more than one.
    last: int | None = None
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
    full_date = re.search(rf"\b\d{{1,2}}(?:er)?\s+({_MONTH})\s+\d{{4}}\b", text)
    span = None if full_date else _span(text, publication, today)
    if span is not None:
        return TimeHints(*span, hint_number)
    month_year = re.search(rf"(?<!\d\s)(?<!\d)\b({_MONTH})\s+(?:de\s+l'annee\s+)?(\d{{4}})\b", text)
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
    several = _LAST_ISSUES.search(text) if latest else None
    count = several[1] if several else None
    # « les derniers bulletins » without a count: the latest few
    last = (_COUNT_WORDS.get(count) or int(count)) if count else LATEST_FEW if several else None
    return TimeHints(number=hint_number, latest=latest, last=last if last and last > 1 else None)


# « les derniers bulletins », « les derniers numéros »: the latest few, as many as this.
LATEST_FEW = 3
# « les trois derniers bulletins », « les 3 derniers numéros », « les derniers bulletins » (the count, if any)
_COUNT_WORDS = {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
                "douze": 12}
_LAST_ISSUES = re.compile(rf"\b(?:({'|'.join(_COUNT_WORDS)}|\d{{1,2}})|les|des|ces)\s+"
                          r"(?:derniers|dernieres|plus recents|plus recentes)"
                          r"\s+(?:bulletins|numeros|parutions|editions|lettres|newsletters|veilles)\b")


# A season, a half or a quarter of a year, as months (« l'hiver 2025 » runs from December 2024 to February 2025).
_SEASONS = {"printemps": (3, 5), "ete": (6, 8), "automne": (9, 11), "hiver": (12, 2), "rentree": (9, 9)}
ORDINALS = {"premier": 1, "premiere": 1, "1er": 1, "1ere": 1, "1e": 1, "second": 2, "seconde": 2, "deuxieme": 2,
             "2e": 2, "2eme": 2, "2nd": 2, "2nde": 2, "troisieme": 3, "3e": 3, "3eme": 3, "quatrieme": 4, "4e": 4,
             "4eme": 4}
_PART = r"semestre|trimestre"
# One unit of a period: a month, a season, a half or a quarter (« mars », « l'automne », « le premier semestre »).
_UNIT = (rf"(?:l'|le\s+|la\s+|les\s+)?(?:mois\s+de\s+)?(?:({_MONTH}|{'|'.join(_SEASONS)})"
         rf"|(dernier|{'|'.join(ORDINALS)})\s+({_PART})|([st])([1-4]))")
_YEAR = r"(?:\s+(?:de\s+l'annee\s+|de\s+)?(20\d\d))"
# « entre l'automne 2024 et l'été 2025 », « de janvier à mars 2026 », « janvier-mars 2026 »
_SPAN = re.compile(rf"\b{_UNIT}{_YEAR}?\s*(?:\s(?:et|a|au|jusqu'(?:a|au|en))\s|-|–|/)\s*(?:en\s+)?{_UNIT}{_YEAR}\b")
# « le premier semestre 2025 », « l'automne 2025 », « T1 2026 »
_ONE = re.compile(rf"\b{_UNIT}{_YEAR}\b")
# « depuis septembre 2025 », « depuis le printemps 2025 »: from then until today
_SINCE = re.compile(rf"\bdepuis\s+(?:le\s+debut\s+(?:de\s+|du\s+)?)?{_UNIT}{_YEAR}\b")
# « depuis 2024 », « début 2025 », « fin 2025 »: a year's part, read only with a publication word, like a year
_SINCE_YEAR = re.compile(r"\bdepuis\s+(?:le\s+debut\s+(?:de\s+)?|l'annee\s+)?(20\d\d)\b")
_EDGE_YEAR = re.compile(r"\b(debut|fin)\s*(?:de\s+l'annee\s+|de\s+)?(20\d\d)\b")
# « entre 2025 et 2026 », « de 2024 à 2025 »: read only with a publication word, like a year
_YEARS = re.compile(r"\b(?:entre|de)\s+(20\d\d)\s+(?:et|a|au)\s+(20\d\d)\b")
# « l'hiver 2025-2026 »
_WINTER = re.compile(r"\bhiver\s+(20\d\d)\s*[-/–]\s*(20\d\d)\b")


def _months(match: re.Match, offset: int, year: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The first and last (year, month) of the unit `_UNIT` matched at group `offset` (five groups) in `year`."""
    month, ordinal, part, letter, digit = match.group(*range(offset, offset + 5))
    if month in _MONTHS:
        return (year, _MONTHS[month]), (year, _MONTHS[month])
    if month:
        first, last = _SEASONS[month]
        return ((year - 1 if first > last else year), first), (year, last)
    halves = 2 if (part or ("semestre" if letter == "s" else "trimestre")) == "semestre" else 4
    nth = halves if ordinal == "dernier" else ORDINALS.get(ordinal, 0) if ordinal else int(digit)
    if not 1 <= nth <= halves:
        raise ValueError(ordinal or digit)
    width = 12 // halves
    return (year, (nth - 1) * width + 1), (year, nth * width)


def month_bounds(first: tuple[int, int], last: tuple[int, int]) -> tuple[str, str]:
    """The first day of (year, month) `first` and the last day of `last`, ISO."""
    return _period(*first)[0], _period(*last)[1]


def _span(text: str, publication: bool, today: date) -> tuple[str, str] | None:
    """A period of several months the question names, as (first day, last day), or None."""
    try:
        if winter := _WINTER.search(text):
            return month_bounds((int(winter[1]), 12), (int(winter[2]), 2))
        if span := _SPAN.search(text):
            end_year = int(span[12])
            first, _ = _months(span, 1, int(span[6]) if span[6] else end_year)
            _, last = _months(span, 7, end_year)
            if first > last and not span[6]:
                first = (first[0] - 1, first[1])  # « de novembre à février 2026 »
            return month_bounds(first, last) if first <= last else None
        until = (today.year, today.month)
        if since := _SINCE.search(text):
            return month_bounds(_months(since, 1, int(since[6]))[0], until)
        if one := _ONE.search(text):
            if one[1] not in _MONTHS:  # a month and year alone is read by the caller, as it always was
                return month_bounds(*_months(one, 1, int(one[6])))
        if publication and (years := _YEARS.search(text)) and years[1] <= years[2]:
            return month_bounds((int(years[1]), 1), (int(years[2]), 12))
        if publication and (since := _SINCE_YEAR.search(text)):
            return month_bounds((int(since[1]), 1), until)
        if publication and (edge := _EDGE_YEAR.search(text)):
            year = int(edge[2])
            return month_bounds((year, 1), (year, 3)) if edge[1] == "debut" else month_bounds((year, 10), (year, 12))
    except ValueError:
        return None
    return None


# The words of a period (« le second semestre », « l'automne », « depuis », « fin 2025 »): they name no subject.
PERIOD_WORDS = frozenset(analyze(" ".join(_SEASONS) + " été rentrée " + " ".join(ORDINALS) + " semestre semestres "
                                 "trimestre trimestres période périodes début fin depuis entre "
                                 + " ".join(_COUNT_WORDS)))


# Words that name an issue (« le dernier bulletin »), and those that ask what it says, not what about
# (« … parle de quoi sur… »).
_PUBLICATION_STEMS = frozenset(analyze("bulletin bulletins veille veilles numéro numéros parution parutions "
                                       "édition éditions lettre lettres newsletter newsletters rubrique rubriques"))
_LATEST_STEMS = frozenset(analyze("dernier dernière derniers dernières récent récente récents récentes "
                                  "actuel actuelle nouveau nouvel nouvelle"))
_ISSUE_WORDS = _PUBLICATION_STEMS | _LATEST_STEMS | frozenset(analyze(
    "collaborative sommaire mois année parle parlent parler dit disent dire traite traitent traiter évoque "
    "évoquer aborde aborder contient contenir quoi sujet sujets thème thèmes question questions article articles "
    "nouveautés quel quelle quels quelles faire"))
_MONTH_STEMS = frozenset(analyze(" ".join(MONTH_NUMBERS) + " printemps été automne hiver semestre trimestre"))


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
