"""French as data: the month table and the list-item marks, in one place for the readers, the question and the
answer.

There used to be four month tables (readers, dates, asked, render) and five
list-item patterns that disagreed on which bullets they knew; one table and one
pattern remain, with the two variants whose difference is deliberate.
"""
from __future__ import annotations

import re

from .lexical import fold

# The months by number, as written.
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
# Each spelling, with and without its accents (« fevrier », « aout »: questions are typed without them) -> number.
MONTH_NUMBERS = {spelling: number for number, name in enumerate(MONTHS, start=1)
                 for spelling in dict.fromkeys((name, fold(name)))}
# Every spelling, for a regular expression (no month's name begins another's: the order does not matter).
MONTH_NAMES = "|".join(MONTH_NUMBERS)

# What opens a list item: a bullet as the readers keep it (PDF, HTML, Markdown), a number (« 1. », « 2) ») or a
# letter (« a) »). Every line these texts hold that one pattern used to match and another not opens with a mark
# none of the corpora, PIAF or Service-Public has at a line's start (« — », « ▪ », « ◦ », « ● », « ■ », « a) »):
# merging them changed no passage and no answer (`assistant eval` identical).
BULLET = r"[-–—•*▪◦●■]"
NUMBER = r"\d{1,2}[.)]"
LIST_ITEM = re.compile(rf"^\s*(?:{BULLET}|{NUMBER}|[a-z][.)])\s+")

# Variants, on purpose:
# - a bullet alone is layout, not words: the answer drops it (« avec : la CCI ; la Chambre… » reads on one line)
#   and keeps an item's number, which says the order;
BULLET_ITEM = re.compile(rf"^\s*{BULLET}\s+")
# - a line that opens on an item's number (« 2. Alertez… »): the answer quotes a numbered list without a gap;
NUMBERED_LINE = re.compile(rf"^\s*{NUMBER}\s+")
# - inside a passage (lines joined), a number before a capital opens an item (« 4. Le prestataire… »): not a
#   count of anything (asked.py blanks it before looking for the number a question asks).
NUMBERED_ITEM = re.compile(rf"(?:^|(?<=\s)){NUMBER}\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ])", re.M)


# A sentence that tells the reader what to do: it opens with an imperative (« Désignez un référent », « Ne payez
# pas de rançon ») or an infinitive (« Mettre en œuvre une solution EDR », « 3. Sauvegarder et tester : … »), the
# forms advice and recommendations take in these documents, or it says what is advised (« il est recommandé de »,
# « veillez à », « doit être confirmée par un autre moyen »). The words that end like an infinitive but are nouns
# or adjectives (« Premier », « Fichier », « Cyber ») are left out; « Chez » is no imperative.
_NOT_INFINITIVES = ("Premier|Dernier|Entier|Hier|Cahier|Fichier|Dossier|Papier|Clavier|Courrier|Métier|Chantier"
                    "|Quartier|Janvier|Février|Calendrier|Atelier|Particulier|Foyer|Loyer|Danger|Routier|Pilier|Palier"
                    "|Acier|Levier|Panier|Laser|Super|Cyber|Hacker|Manager|Leader|Master|Poster|Server|Router|User"
                    "|Cluster|Docker|Broker|Partner")
_IRREGULAR_INFINITIVES = ("Mettre|Prendre|Faire|Suivre|Interdire|Inscrire|Permettre|Transmettre|Réduire|Conduire"
                          "|Détruire|Construire|Établir|Etablir|Définir|Choisir|Garantir|Maintenir|Prévenir|Réagir"
                          "|Saisir|Fournir|Bannir|Réfléchir|Agir|Prévoir|Recevoir|Revoir|Savoir|Concevoir|Promouvoir")
_LOWER = "a-zéèêëàâîïôöûüç"
DIRECTIVE = re.compile(
    rf"^(?:\s*(?:{BULLET}|{NUMBER})\s*)?(?:(?:Ne |N['’])[{_LOWER}]+ez\b|(?!Chez\b)[A-ZÉÈÀÂÎÔ][{_LOWER}]+ez\b"
    rf"|(?:Ne pas |Ne jamais )?(?:{_IRREGULAR_INFINITIVES}|(?!(?:{_NOT_INFINITIVES})\b)[A-ZÉÈ][{_LOWER}]+er)\b)"
    r"|\bil (?:faut|convient|est (?:recommandé|conseillé|préférable|nécessaire|indispensable|essentiel|important"
    r"|impératif|utile|souhaitable))\b|\b(?:veillez|pensez à|n['’]hésitez|privilégiez|assurez-vous|évitez"
    r"|recommande|préconise)\b|\b(?:est|sont) (?:recommandée?s?|conseillée?s?|à privilégier|à proscrire|à éviter)\b"
    r"|\b(?:doit|doivent) (?:être|faire|mettre|s['’])")
