"""The kind of value a question asks for (an amount, a rate, a phone number…), and whether passages give one.

« Combien coûte un audit ? », « montant de la subvention », « numéro de
téléphone de la CCI » ask for a value, not for a topic. Retrieval still finds
passages on the topic; if none of the best ones holds a value of that kind
(about the word asked about, when the question names one), the documents do
not answer, and the assistant says so instead of citing passages that only
share the words. This is the expected-answer-type check of classic question
answering, written for French: a question pattern per kind, a value pattern
per kind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import analyze

_NUMBER_WORDS = (r"un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|"
                 r"vingt|trente|quarante|cinquante|soixante|cent|cents|mille|millions?|milliards?|dizaines?|"
                 r"centaines?|milliers?")
_OF = r"(?:(?:de la|de l['’]|du|des|de|d['’]une?|d['’])\s*)?"

# What a passage must contain to give a value of each kind.
VALUE_PATTERNS = {
    "montant": re.compile(r"\d\s*(?:€|euros?\b|k€|M€|EUR\b)|\b(?:" + _NUMBER_WORDS + r")\s+(?:d['’])?euros?\b"
                          r"|\bgratuit(?:e|s|es|ement)?\b", re.I),
    "taux": re.compile(r"\d\s*%|\bpour ?cent\b", re.I),
    "nombre": re.compile(r"\d|\b(?:" + _NUMBER_WORDS + r"|plusieurs|nombreux|nombreuses)\b", re.I),
    "durée": re.compile(r"\b(?:\d+|quelques|" + _NUMBER_WORDS + r")\s*(?:secondes?|minutes?|min|heures?|h\d*|jours?|"
                        r"semaines?|mois|ans?|années?)\b", re.I),
    "horaire": re.compile(r"\b\d{1,2}\s?h(?:\s?\d\d)?\b|\b\d{1,2}\s?heures\b", re.I),
    "téléphone": re.compile(r"\b0\d(?:[ .-]?\d\d){4}\b|\+33\s?\d"),
    "courriel": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|\bwww\.", re.I),
    "adresse": re.compile(r"\b(?:rue|avenue|boulevard|bd|place|quai|allée|chemin|cedex|bp)\b|\b\d{5}\b", re.I),
    "identité": re.compile(r"\b(?:M\.|Mme|Monsieur|Madame)\s+[A-ZÉ]"),
}

# How a question asks for each kind, first match wins; the group « focus » is the word the value is about.
QUESTION_PATTERNS = [
    ("durée", re.compile(r"\bcombien de temps\b|\bquelle (?:est la )?durée\b|\bdurée (?:de|du|d['’])", re.I)),
    ("montant", re.compile(r"\b(?:montant|prix|tarifs?|co[uû]t|budget|salaire|cotisation)\s+" + _OF + r"(?P<focus>\w+)"
                           r"|\bcombien (?:co[uû]te|co[uû]tent|faut-il payer)\b", re.I)),
    ("taux", re.compile(r"\b(?:taux|pourcentage)\s+" + _OF + r"(?P<focus>\w+)", re.I)),
    ("nombre", re.compile(r"\b(?:combien|nombre)\s+(?:de|d['’])\s*(?!temps\b)(?P<focus>\w+)", re.I)),
    ("horaire", re.compile(r"\bhoraires?\b|\bà quelle heure\b", re.I)),
    ("téléphone", re.compile(r"\bt[ée]l[ée]phone\b", re.I)),
    ("courriel", re.compile(r"\badresse (?:e-?mail|mail|électronique|electronique)\b|\bcourriel\b", re.I)),
    ("adresse", re.compile(r"\badresse\b(?! (?:e-?mail|mail|électronique|electronique|ip)\b)", re.I)),
    ("identité", re.compile(r"\bnom et pr[ée]nom\b", re.I)),
]

# How the refusal names what is missing.
MISSING = {"montant": "ce montant", "taux": "ce taux", "nombre": "ce nombre", "durée": "cette durée",
           "horaire": "ces horaires", "téléphone": "ce numéro de téléphone", "courriel": "cette adresse électronique",
           "adresse": "cette adresse", "identité": "ce nom"}


@dataclass(frozen=True)
class AskedValue:
    """A question asks for a value of `kind`, about the word stemmed `focus` (None: about the question at large)."""

    kind: str
    focus: str | None = None

    def given_by(self, text: str) -> bool:
        """True when the text holds a value of this kind (and names the focus word, when there is one)."""
        if not VALUE_PATTERNS[self.kind].search(text):
            return False
        return self.focus is None or self.focus in set(analyze(text))

    @property
    def missing(self) -> str:
        return MISSING[self.kind]


def asked_value(question: str) -> AskedValue | None:
    """The kind of value the question asks for, or None for questions about a topic."""
    for kind, pattern in QUESTION_PATTERNS:
        match = pattern.search(question)
        if match:
            focus = match.groupdict().get("focus")
            stems = analyze(focus) if focus else []
            return AskedValue(kind, stems[0] if stems else None)
    return None
