"""The kind of value a question asks for (an amount, a rate, a phone number…), and whether passages give one.

« Combien coûte un audit ? », « montant de la subvention », « numéro de
téléphone de la CCI », « date limite de la déclaration » ask for a value, not
for a topic. Retrieval still finds passages on the topic; if none of the best
ones holds a value of that kind (about the word asked about, when the question
names one), the documents do not answer, and the assistant says so instead of
citing passages that only share the words. This is the expected-answer-type
check of classic question answering, written for French: a question pattern per
kind, a value pattern per kind. Every question of PIAF and Service-Public has
an answer in its passage: `assistant eval` counts how many of them this check
refuses, and each rule here was kept only if that count stayed small.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from . import rules
from .contacts import CONTACT
from .french import MONTH_NAMES, NUMBERED_ITEM
from .lexical import analyze, fold, stem_set

_WORD = re.compile(r"\w+")

_NUMBER_WORDS = (r"un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|"
                 r"vingt|trente|quarante|cinquante|soixante|cent|cents|mille|millions?|milliards?|dizaines?|"
                 r"centaines?|milliers?")
_OF = r"(?:(?:de la|de l['’]|du|des|de|d['’]une?|d['’])\s*)?"
_CURRENCIES = r"(?:euros?|dollars?|livres?|francs?|yens?|yuans?)\b"
_MONTHS = MONTH_NAMES

# People by their role (« le directeur », « la déléguée »): who a question may ask the name of.
_ROLES = (r"(?:vice-)?pr[ée]sidente?|directeur|directrice|d[ée]l[ée]gu[ée]e?|responsable|conseill[eè]re?|charg[ée]e?|"
          r"r[ée]f[ée]rente?|correspondante?|interlocut(?:eur|rice)|dirigeante?|animat(?:eur|rice)|auteure?|"
          r"r[ée]dact(?:eur|rice)|coordinat(?:eur|rice)|pilote|ministre|pr[ée]f[eè]te?|[ée]lue?|maire")

# What a passage must contain to give a value of each kind.
VALUE_PATTERNS = {
    "montant": re.compile(r"\d\s*(?:€|\$|£|k€|M€|EUR\b|USD\b)|[$£]\s*\d"
                          r"|\b(?:\d+|" + _NUMBER_WORDS + r")\s+(?:d['’])?" + _CURRENCIES
                          + r"|\bgratuit(?:e|s|es|ement)?\b", re.I),
    "taux": re.compile(r"\d\s*%|\bpour ?cent\b", re.I),
    "nombre": re.compile(r"\d|\b(?:" + _NUMBER_WORDS + r"|aucune?)\b", re.I),
    "durée": re.compile(r"\b(?:\d+|quelques|" + _NUMBER_WORDS + r")\s*(?:secondes?|minutes?|min|heures?|h\d*|jours?|"
                        r"semaines?|mois|ans?|années?)\b", re.I),
    "horaire": re.compile(r"\b\d{1,2}\s?h(?:\s?\d\d)?\b|\b\d{1,2}\s?heures\b", re.I),
    "téléphone": re.compile(r"\b0\d(?:[ .-]?\d\d){4}\b|\+33\s?\d"),
    "courriel": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|\bwww\.", re.I),
    # Someone's own address: an address written out, not a site's link.
    "courriel personnel": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+", re.I),
    "adresse": re.compile(r"\b(?:rue|avenue|boulevard|bd|place|quai|allée|chemin|cedex|bp)\b|\b\d{5}\b", re.I),
    "identité": re.compile(r"\b(?:M\.|Mme|Monsieur|Madame)\s+[A-ZÉ]"),
    # A day and month, a month and year, a numeric date, or a year introduced as a date (« en 2017 »).
    "date": re.compile(r"\b\d{1,2}(?:er)?\s+(?:" + _MONTHS + r")\b|\b(?:" + _MONTHS + r")\s+(?:19|20)\d\d\b"
                       r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:19|20)\d\d-\d\d-\d\d\b"
                       r"|\b(?:en|depuis|dès|de|à partir de|a partir de|jusqu['’]en|avant|après|vers|le|du|au)"
                       r" (?:1\d{3}|20\d\d)\b", re.I),
}

# « le cours du bitcoin, de l'euro »: a market price (not « au cours de », « en cours de », « des cours de »).
_QUOTE = r"(?<!\bau )(?<!\ben )(?<!\bdes )(?<!\bles )(?<!\bun )cours(?=\s+(?:du|de la|de l['’]|des)\b)"

# How a question asks for each kind, first match wins; the group « focus » is the word the value is about.
QUESTION_PATTERNS = [
    ("durée", re.compile(r"\bcombien de temps\b|\bquelle (?:est la )?durée\b|\bdurée (?:de|du|d['’])", re.I)),
    # « prix » is an award in « grand prix » and « prix Nobel ».
    ("montant", re.compile(r"\b(?:montant|(?<!grand )(?<!grands )prix(?!\s+(?-i:[A-ZÉ]))|tarifs?|co[uû]t|budget|salaire"
                           r"|cotisation|" + _QUOTE + r")\s+" + _OF + r"(?P<focus>\w+)"
                           r"|\bcombien (?:co[uû]te|co[uû]tent)\s+(?:(?:un|une|le|la|les|des|mon|ma|mes)\s+|l['’])?"
                           r"(?P<focus2>\w+)"
                           r"|\bcombien (?:(?:ça|ca|cela) )?(?:co[uû]te|co[uû]tent|faut-il payer)\b"
                           r"|\bco[uû]ten?t?\s+combien\b|\bc['’]est combien\b", re.I)),
    # « taux de … »: « prêt à taux zéro » names a product, not a rate asked for.
    ("taux", re.compile(r"\b(?:taux|pourcentage)\s+(?:\w+\s+)?(?:de la|de l['’]|du|des|de|d['’])\s*(?P<focus>\w+)",
                        re.I)),
    ("nombre", re.compile(r"\b(?:combien|nombre)\s+(?:(?:exacte?(?:ment)?|total|pr[ée]cis(?:[ée]ment)?|moyen|au juste"
                          r"|en tout|environ|[àa] peu pr[eè]s)\s+)?(?:de|d['’])\s*"
                          r"(?!temps\b)(?P<focus>\w+)", re.I)),
    ("horaire", re.compile(r"\bhoraires?\b|\bà quelle heure\b", re.I)),
    # A number asked for, not a telephone named (« depuis mon téléphone », « le telephone du boulot », « si un
    # salarié perd son téléphone »): « numéro de portable », « nom et tel », « …, et son tel ? », « le téléphone
    # de la CCI ».
    # « son numéro direct », « un numéro perso », « sa ligne directe », « vous avez le 06 du gars de la CCI ? ».
    ("téléphone", re.compile(r"\bnum[ée]ro\s+(?:de\s+)?(?:t[ée]l[ée]phone|t[ée]l|portable|mobile|fixe)\b"
                             r"|\bnum[ée]ro\s+(?:direct|perso|personnel)\b|\bligne\s+directe\b"
                             r"|\b(?:le|son|leur|ton|votre)\s+0[67]\b(?!\s*\d)"
                             r"|\b(?:nom|adresse|e-?mail|mail|courriel)\s+et\s+(?:son\s+|le\s+|leur\s+)?"
                             r"(?:t[ée]l[ée]phone|t[ée]l)\b"
                             r"|(?:\bet|,)\s+(?:son|leur|le)\s+(?:t[ée]l[ée]phone|t[ée]l)\b"
                             r"|\b(?:le|quel est le|donner|avoir le)\s+t[ée]l[ée]phone\s+(?:de|du|des|d['’])\s*(?:la\s+|l['’])?"
                             r"(?:cci|anssi|r[ée]gion|mission|d[ée]l[ée]gu|pr[ée]f|gendarmerie|police|cybermalveillance"
                             r"|conseill|charg[ée]|r[ée]f[ée]rent|service|p[ôo]le|responsable|directeur|directrice)",
                             re.I)),
    # « son adresse mail perso », « un mail personnel »: someone's own address, which no site's link gives.
    ("courriel personnel", re.compile(r"\b(?:e-?mail|mail|courriel|adresse (?:e-?mail|mail|électronique|electronique))"
                                      r"\s+(?:perso|personnel(?:le)?|priv[ée]e?|directe?)\b", re.I)),
    # « son email ? », « leur adresse mail »: someone's address (« mon mail a été piraté » names a mailbox; « un
    # courriel disant… », « par courriel » name a message).
    ("courriel", re.compile(r"\badresse (?:e-?mail|mail|électronique|electronique)\b"
                            r"|(?<!\bun )(?<!\bdes )(?<!\bce )(?<!\bces )(?<!\bpar )(?<!\bles )(?<!\bmes )(?<!\bnos )"
                            r"(?<!\bmon )(?<!\bautre )\bcourriel\b"
                            r"|\b(?:son|sa|ses|leur|leurs)\s+(?:adresses?\s+)?e-?mails?\b", re.I)),
    ("adresse", re.compile(r"\badresse\b(?! (?:e-?mail|mail|électronique|electronique|ip)\b)", re.I)),
    ("identité", re.compile(r"\bnom et pr[ée]nom\b", re.I)),
    # « qui est le directeur de… », « comment s'appelle le délégué… », « le nom du conseiller… », « le directeur
    # il s'appelle comment ? »: a person in a role. Uncertain, not refused, when no passage shown names one
    # (M. / Mme) near the role.
    ("identité", re.compile(r"\b(?:qui (?:est|sont|était)|c['’]est qui|comment s['’]appellen?t?|s['’]appellen?t? "
                            r"comment|(?:quel est )?(?:le )?nom)\s+(?:(?:du|de la|de l['’]|des|d['’]|le|la|l['’]|les)"
                            r"\s*)?(?:(?:actuel(?:le)?|nouveau|nouvelle|même)\s+)?(?P<focus>" + _ROLES + r")\b"
                            r"|\b(?:le|la|l['’])\s*(?P<focus2>" + _ROLES + r")\b[^?.]{0,60}?"
                            r"\b(?:s['’]appellen?t? comment|c['’]est qui)\b|\bquelles? personnes?\b", re.I)),
    ("date", re.compile(r"\bdates?\s+(?:limites?\s+|exactes?\s+|pr[ée]cises?\s+)?" + _OF
                        + r"(?:(?:prochaine?s?|derni[eè]re?s?|premi[eè]re?s?)\s+)?(?P<focus>\w+)"
                        r"|^\W*(?:(?:depuis|jusqu['’]à|à partir de|a partir de|c['’]est)\s+)?quand\b|\bquand\s*\?"
                        r"|\b(?:depuis|jusqu['’]à|à partir de|a partir de)\s+quand\b"
                        r"|\bà quelle date\b|\bquel jour\b|\bdates?\b", re.I)),
]

# How the refusal names what is missing.
MISSING = {"montant": "ce montant", "taux": "ce taux", "nombre": "ce nombre", "durée": "cette durée",
           "horaire": "ces horaires", "téléphone": "ce numéro de téléphone", "courriel": "cette adresse électronique",
           "courriel personnel": "cette adresse électronique personnelle",
           "adresse": "cette adresse", "identité": "ce nom", "date": "cette date"}


@dataclass(frozen=True)
class AskedValue:
    """A question asks for a value of `kind`, about the word stemmed `focus` (None: about the question at large)."""

    kind: str
    focus: str | None = None
    # The noun that completes the focus (« déclaration d'impôt », « dépôt de brevet »): the passage must name it too.
    complement: str | None = None
    # The year a count, an amount or a rate is asked for (« combien de PME … en 2024 »): the value must be near it.
    year: str | None = None

    def given_by(self, text: str) -> bool:
        """True when the text holds a value of this kind, near the focus word when the question names one.

        Near is within NEAR words: a page that names « dépôts » in one row and
        « diagnostic gratuit » in another does not say what a filing costs. A
        count is a number that is neither a year nor the number of a list item
        (« les webinaires de 2024 » does not say how many there were), or
        « aucun » right before the focus word (« aucune réforme »).
        """
        if not VALUE_PATTERNS[self.kind].search(text):
            return False
        if self.focus is None:
            return True
        stems = stem_set(text)
        if self.focus not in stems or (self.complement and self.complement not in stems):
            return False
        words = _words(text)
        focus = [i for i, (_, _, stem) in enumerate(words) if stem == self.focus]
        if self.kind == "nombre":
            values = [i for i, (_, word, _) in enumerate(words) if _is_count(word, words, i, self.focus)]
        else:
            starts = [start for start, _, _ in words]
            values = [max(0, bisect_right(starts, m.start()) - 1) for m in VALUE_PATTERNS[self.kind].finditer(text)]
        if self.year is not None:
            years = [i for i, (_, word, _) in enumerate(words) if word == self.year]
            values = [j for j in values if any(abs(y - j) <= NEAR for y in years)]
        return any(abs(i - j) <= NEAR for i in focus for j in values)

    @property
    def missing(self) -> str:
        return MISSING[self.kind]


# What answers a who / where / which-year question, for choosing the answer's sentences (never for refusing):
# a proper noun inside the sentence, a place after a preposition, a year, month or century.
_ANSWER_SHAPES = [
    # Whom to turn to (« qui j'appelle ? », « on prévient qui ? », « à qui je dois en parler ? », « qui peut
    # m'aider ? »): a sentence that gives a contact (contacts.CONTACT: an address, a number, a site, a public
    # service), or tells whom to contact (« contactez 17Cyber », a contacts table's « À qui vous adresser : … »).
    (re.compile(r"\bqui (?:contacter|appeler|pr[ée]venir|alerter|joindre|solliciter)\b"
                r"|\bqui (?:j['’]|on |je |nous )(?:appel|contact|pr[ée]vien|alert)\w*"
                r"|\b(?:appel|contact|pr[ée]vien|alert)\w* qui\b"
                r"|\b[àa] qui (?:je dois|dois-je|on doit|m['’]adresser|s['’]adresser|nous adresser|faire appel"
                r"|en parler|je m['’]adresse|signaler)\b|\bvers qui\b"
                r"|\bqui (?:peut|pourrait) (?:m['’]|nous )?(?:aider|accompagner|conseiller|orienter)\b", re.I),
     re.compile(CONTACT.pattern + r"|\bÀ qui vous adresser\b"
                r"|\b(?:contactez|appelez|alertez|prévenez|adressez-vous|rapprochez-vous|sollicitez|signalez)\b",
                re.I)),
    (re.compile(r"\b(?:en quelle année|quelle année|à quelle époque|en quel siècle|quel siècle)\b", re.I),
     re.compile(r"\b1\d{3}\b|\b20\d\d\b|\b(?:" + _MONTHS + r")\b|\bsiècles?\b", re.I)),
    (re.compile(r"^\W*(?:qui|par qui|à qui|de qui)\b|\bqui (?:est|était|a|fut|sont)\b", re.I),
     re.compile(r"(?<=\s)[A-ZÉÈÀÂÎÔ][a-zéèêëàâîïôöûüç'-]+")),
    (re.compile(r"^\W*(?:où|ou se|dans quel(?:le)? (?:pays|ville|région))\b|\boù\b", re.I),
     re.compile(r"\b(?:à|en|au|aux|dans|près de|sur)\s+(?:l['’]|le |la |les )?[A-ZÉ]\w+")),
]


def answer_shape(question: str, asked: AskedValue | None = None) -> re.Pattern | None:
    """What a sentence that answers the question holds: the value asked for, else a name, place or year.

    `asked` is the question's `asked_value` when already read (None: read here)."""
    asked = asked if asked is not None else asked_value(question)
    if asked is not None:
        return VALUE_PATTERNS[asked.kind]
    return next((shape for asks, shape in _ANSWER_SHAPES if asks.search(question)), None)


# A question that asks what to do (« on fait quoi la tout de suite ? », « quelles précautions prendre ? », « par où
# commencer ? », « vous conseillez quoi ? »), read on its folded text (questions are typed without accents): the
# sentences that advise (french.DIRECTIVE) answer it better than those that describe the situation (rule
# `directives`, answer.py).
_ASKS_ADVICE = re.compile(
    r"\b(?:comment(?! s['’]?appel)|que faire|quoi faire|on fait quoi|je fais quoi|faire quoi|dois faire|doit faire"
    r"|quel(?:le)?s? (?:precautions?|regles?|mesures?|recos?|recommandations?|conseils?|bonnes pratiques|reflexes?"
    r"|etapes?|points? de vigilance|outils?|solutions?)|conseil|recommand|recos?\b|par ou (?:commencer|je commence"
    r"|on commence)|precautions?|eviter|proteger|securiser|faut[- ]il|dois-je|doit-on|je dois|on doit|c'est grave"
    r"|que prevoir|a prevoir)")


def asks_advice(folded: str) -> bool:
    """Whether a question (lower case, accents folded: lexical.fold) asks what to do."""
    return bool(_ASKS_ADVICE.search(folded))


def asked_value(question: str) -> AskedValue | None:
    """The kind of value the question asks for, or None for questions about a topic."""
    # « est-ce qu'on a le droit de récupérer les tarifs d'un concurrent ? », « comment fixer ses prix ? » ask
    # whether or how, about prices: no amount answers them.
    topical = _WHETHER_OR_HOW.match(question) and not _HOW_MUCH.search(question)
    for kind, pattern in QUESTION_PATTERNS:
        if topical and kind in _AMOUNTS:
            continue
        match = pattern.search(question)
        if match and kind in _MENTIONABLE and rules.on("mentioned") and _only_mentioned(question, match.start()):
            continue
        if match:
            groups = match.groupdict()
            name = "focus" if groups.get("focus") else "focus2" if groups.get("focus2") else None
            stems = analyze(groups[name]) if name else []
            if not stems:
                return AskedValue(kind)
            complement = _COMPLEMENT.match(question, match.end(name))
            extra = analyze(complement["noun"]) if complement else []
            year = _ASKED_YEAR.search(question) if kind in _AMOUNTS and rules.on("year") else None
            return AskedValue(kind, stems[0], extra[0] if extra and extra[0] != stems[0] else None,
                              year[1] if year else None)
    return None


def _only_mentioned(question: str, start: int) -> bool:
    """A date or an address the question names without asking for it: the asker's own (« venir de notre adresse
    mais c'est pas nous »), or in a question that asks what to do and nothing a value answers (« un fichier avec
    noms, adresses et dates d'anniversaire : je dois faire quoi ? »). Rule `mentioned`: off, 3 of the blind dev
    half's 137 answerable questions are flagged uncertain for a value they never asked (answered 96.4 → 94.2 %);
    PIAF, Service-Public and the local set are unchanged."""
    return bool(_OWN.search(question[:start])) or bool(_ASKS_ACTION.search(question)
                                                         and not _ASKS_VALUE.search(question))


# The kinds a question may name as part of its situation rather than ask for.
_MENTIONABLE = frozenset({"date", "adresse"})
_OWN = re.compile(r"\b(?:mon|ma|mes|notre|nos)\s+(?:\w+\s+)?$", re.I)
_ASKS_ACTION = re.compile(r"\b(?:comment|pourquoi|que faire|quoi faire|faire quoi|je dois|on doit|dois-je|doit-on"
                          r"|faut-il|faut il|il faut|peut-on|on peut|puis-je|est-ce que|est ce que)\b", re.I)
_ASKS_VALUE = re.compile(r"\b(?:quel(?:le)?s?|combien|quand|où|(?:trouver|avoir|obtenir|conna[iî]tre|savoir)\s+(?:l['’]|la|les)"
                         r")\b", re.I)


_WHETHER_OR_HOW = re.compile(r"\W*(?:est[- ]ce que?|est[- ]ce qu['’]|peut-on|peut on|puis-je|a-t-on|ai-je|faut-il"
                             r"|faut il|doit-on|dois-je|comment|pourquoi)\b", re.I)
_HOW_MUCH = re.compile(r"\bcombien\b", re.I)
# « en 2024 », « pour 2025 »: the year a figure is asked for.
_ASKED_YEAR = re.compile(r"\b(?:en|pour|sur|durant|pendant|depuis)\s+((?:19|20)\d\d)\b", re.I)
# The kinds a whether-or-how question names as a topic (« récupérer les tarifs », « le taux de clics »).
_AMOUNTS = frozenset({"montant", "taux", "nombre", "durée"})
_COMPLEMENT = re.compile(r"\s+(?:de la|de l['’]|du|des|de|d['’])\s*(?P<noun>\w+)", re.I)
_COUNT = re.compile(r"^(?:\d+(?:[.,]\d+)?|" + _NUMBER_WORDS + r")$", re.I)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
# How many words may separate the value from the word it is about (a sentence, about).
NEAR = 20


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[tuple[int, str, str | None], ...]:
    """The text's words in order: (start, word, stem or None for a stop word); list items' numbers are blanked."""
    text = NUMBERED_ITEM.sub(lambda m: " " * len(m.group()), text)
    out = []
    for match in _WORD.finditer(text):
        stems = analyze(match.group())
        out.append((match.start(), match.group().lower(), stems[0] if stems else None))
    return tuple(out)


def _is_count(word: str, words, i: int, focus: str) -> bool:
    """A number that can count something: not a year nor « un » (an article), not the day of a date nor an
    hour (« le 12 juin », « 11 h »: a calendar of webinars does not say how many there were); « aucun » before
    the counted word."""
    after = words[i + 1] if i + 1 < len(words) else None
    if word in ("aucun", "aucune"):
        return after is not None and after[2] == focus
    if after is not None and after[2] != focus and _CLOCK_OR_MONTH.match(after[1]):
        return False
    return bool(_COUNT.match(word)) and not _YEAR.match(word) and word not in ("un", "une")


_CLOCK_OR_MONTH = re.compile(r"^(?:h\d{0,2}|heures?|" + _MONTHS + r")$")


# ---------------------------------------------------------------- places the documents may not cover

# French regions (current and former), overseas ones, and the French-speaking neighbours a French user may ask
# about: a question on one of them is answered only if the documents speak of it.
PLACES = (
    "Auvergne-Rhône-Alpes", "Auvergne", "Rhône-Alpes", "Bourgogne-Franche-Comté", "Bourgogne", "Franche-Comté",
    "Bretagne", "Centre-Val de Loire", "Corse", "Grand Est", "Alsace", "Lorraine", "Champagne-Ardenne",
    "Hauts-de-France", "Nord-Pas-de-Calais", "Picardie", "Île-de-France", "Normandie", "Nouvelle-Aquitaine",
    "Aquitaine", "Limousin", "Poitou-Charentes", "Occitanie", "Languedoc-Roussillon", "Midi-Pyrénées",
    "Pays de la Loire", "Provence-Alpes-Côte d'Azur", "PACA", "Guadeloupe", "Martinique", "Guyane",
    "Mayotte", "Belgique", "Wallonie", "Suisse", "Luxembourg", "Québec", "Canada", "Monaco",
)


def _place_pattern(place: str) -> re.Pattern:
    words = [re.escape(w) for w in re.split(r"[\s'’-]+", fold(place)) if w]
    return re.compile(r"\b" + r"[\s'’-]+".join(words) + r"\b")


# Longest names first (« Pays de la Loire » before « Loire »).
_PLACES = tuple((place, _place_pattern(place)) for place in sorted(PLACES, key=len, reverse=True))


def places_named(question: str) -> list[str]:
    """The places of PLACES the question names, longest names first (« Pays de la Loire » before « Loire »)."""
    folded = fold(question)
    named = [place for place, pattern in _PLACES if pattern.search(folded)]
    # « Auvergne-Rhône-Alpes » also matches « Auvergne »: keep the longer name only.
    return [p for p in named if not any(p != q and fold(p) in fold(q) for q in named)]


def places_in(texts) -> frozenset[str]:
    """The places of PLACES that some text names (read once per index)."""
    folded = [fold(t) for t in texts]
    return frozenset(place for place, pattern in _PLACES if any(pattern.search(t) for t in folded))
