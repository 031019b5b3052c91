"""Where to turn when the documents do not answer: the contacts they give and the topics they cover nearby.

An uncertain or off-topic answer used to be the same boilerplate for a recipe,
an antivirus brand and a civil servant's phone number. It now names what the
documents hold nearest the question: the sections closest to it (off topic,
where no passage is shown) and the contacts the index itself gives (an email
address, a phone number, a web address, a named public service such as
Cybermalveillance or MonAideCyber), the one closest to the question first.
Everything is read from the loaded index, so another corpus gives its own.
"""
from __future__ import annotations

import re

import numpy as np

from .chunking import sentences_of
from .french import LIST_ITEM
from .index import LoadedIndex
from .schema import Contact, last_heading

# What makes a sentence a contact: an address to write to, a number to call, a site to visit, or a named
# public service that takes requests (the ones the ANSSI guidance and the memo send readers to).
ADDRESS = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|\bwww\.\S+|\b0\d(?:[ .]?\d\d){4}\b"
SERVICE = r"\b(?:cybermalveillance(?:\.gouv\.fr)?|monaidecyber|17\s?cyber)\b"
CONTACT = re.compile(f"{ADDRESS}|{SERVICE}", re.IGNORECASE)
_ADDRESS = re.compile(ADDRESS, re.IGNORECASE)
# Contacts and topics named in one answer: enough to choose from, short enough to read.
MAX_CONTACTS, MAX_TOPICS = 2, 3
MAX_CONTACT_CHARS = 200
# Around the contact in a longer « sentence » (a table read as one run of text): characters kept before, after.
BEFORE, AFTER = 110, 70


def contacts_of(index: LoadedIndex) -> tuple[Contact, ...]:
    """Every sentence of the index that gives a contact, one per passage (its first), in index order."""
    found = []
    for row, passage in enumerate(index.passages):
        for sentence in sentences_of(passage.text):
            match = CONTACT.search(sentence)
            if match:
                found.append(Contact(row, _around(LIST_ITEM.sub("", sentence), match.group()), passage))
                break
    return tuple(found)


def _around(sentence: str, contact: str) -> str:
    """The sentence, or in a long one the words around the contact, cut at word boundaries."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= MAX_CONTACT_CHARS:
        return sentence
    # A table's row (readers.row_text): what the row is about, and the cell that gives the contact.
    parts = sentence.split(" — ")
    holding = next((part for part in parts[1:] if contact in part), None)
    if holding is not None and len(parts[0]) + len(holding) + 3 <= MAX_CONTACT_CHARS:
        return f"{parts[0]} — {holding}"
    at = sentence.find(contact)
    start, end = max(0, at - BEFORE), min(len(sentence), at + len(contact) + AFTER)
    piece = sentence[start:end]
    if start > 0:
        piece = "… " + piece.split(" ", 1)[-1]
    if end < len(sentence):
        piece = piece.rsplit(" ", 1)[0] + " …"
    return piece


def nearest_contacts(scores: np.ndarray, contacts: tuple[Contact, ...], n: int = MAX_CONTACTS,
                     shown: frozenset[str] = frozenset(), addresses_only: bool = False) -> list[Contact]:
    """The n contacts whose passages are closest to the question (its dense score per passage row), one per
    distinct contact: the same address given on two pages is named once, and a passage already shown (its id
    in `shown`) is not repeated. `addresses_only` keeps the contacts with an address, number or site: for an
    off-topic question, a named service (« contactez 17Cyber ») would answer another question."""
    chosen, seen = [], set()
    for contact in sorted(contacts, key=lambda c: -float(scores[c.row])):
        if contact.passage.id in shown or (addresses_only and not _ADDRESS.search(contact.text)):
            continue
        key = tuple(sorted(set(CONTACT.findall(contact.text.lower()))))
        if key in seen:
            continue
        seen.add(key)
        chosen.append(contact)
        if len(chosen) == n:
            break
    return chosen


def nearest_topics(scores: np.ndarray, index: LoadedIndex, n: int = MAX_TOPICS) -> list[str]:
    """The headings of the n distinct sections closest to the question, with their document's title."""
    topics, seen = [], set()
    for row in np.argsort(-scores, kind="stable")[: n * 20]:
        passage = index.passages[int(row)]
        heading = last_heading(passage.section) if passage.section else None
        if not heading or (passage.title, heading) in seen:
            continue
        seen.add((passage.title, heading))
        topics.append(f"« {heading} » ({passage.title})")
        if len(topics) == n:
            break
    return topics


