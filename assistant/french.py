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
# - inside a passage (lines joined), a number before a capital opens an item (« 4. Le prestataire… »): not a
#   count of anything (asked.py blanks it before looking for the number a question asks).
NUMBERED_ITEM = re.compile(rf"(?:^|(?<=\s)){NUMBER}\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ])", re.M)
