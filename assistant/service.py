"""The assistant as one object: settings, embedder, index and searcher loaded once.

A serving process picks up a re-index without restarting: when the index
folder's `current` link points at another generation, the new generation is
loaded beside the one in use (the model is reused) and swapped in with one
assignment, so every question is answered wholly from one index.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace

from . import rules, stages
from .answer import (ANSWERED, OFF_TOPIC, Certainty, compose_answer, issue_contents, off_topic, period_contents,
                     period_not_found, with_articles)
from .catalog import catalog_of, covered_text
from .config import Settings
from .contacts import MAX_CONTACTS, contacts_of, nearest_contacts, nearest_topics
from .embed import Embedder, get_embedder
from .followup import HISTORY_KEPT, could_stand_alone, emphasised, understand
from .glossary import glossary
from .index import IndexError, LoadedIndex, current_generation, load_index
from .query import Query
from .schema import Answer, Contact, Hit
from .scope import Background, QuestionBank, Scope
from .search import Filters, Searcher
from .stages import Context

log = logging.getLogger("assistant.service")

# How often a serving process looks at the `current` link (a readlink: cheap).
RELOAD_CHECK_SECONDS = 1.0


@dataclass
class Assistant:
    """Answers questions over one loaded index, following the index folder's `current` link."""

    settings: Settings
    embedder: Embedder
    index: LoadedIndex
    searcher: Searcher
    scope: Scope | None = None
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _checked: float = field(default=0.0, repr=False)
    _refused: object = field(default=None, repr=False)
    _per_index: dict = field(default_factory=dict, repr=False)  # name -> (index, what was read from it)

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> "Assistant":
        """Load the index first (cheap, fails fast), then the model."""
        index = load_index(settings.index_dir, settings)
        glossary()  # read now: a malformed line stops the start with its file and line, not a question
        embedder = embedder or get_embedder(settings.model, settings.cache_dir, settings.encoder)
        scope = Scope.for_model(Background(embedder, settings.cache_dir), settings,
                                QuestionBank(embedder, settings.cache_dir))
        scope.warm()  # encoded once per model (~40 s), then read from the cache: not at a question
        _read_ahead(index)  # now, not by the first question
        searcher = Searcher(index, embedder, settings)
        if searcher.neighbours is not None:
            searcher.neighbours.vectors()  # the training questions, encoded once per model (~20 s) like the bank
        return cls(settings, embedder, index, searcher, scope)

    def refresh(self, wait: bool = False) -> bool:
        """Start loading the generation `current` points at if it is not the one in use (True when started).

        The load runs in a background thread (questions meanwhile use the index in
        place), unless wait is True. A generation that fails to load is logged
        once and skipped; the index in use stays.
        """
        now = time.monotonic()
        if not wait and now - self._checked < RELOAD_CHECK_SECONDS:
            return False
        self._checked = now
        try:
            target = current_generation(self.settings.index_dir)
        except OSError:
            return False
        if target is None or target == self.index.folder or target == self._refused:
            return False
        if not self._reload_lock.acquire(blocking=False):
            return False
        if wait:
            self._swap_in(target)
        else:
            threading.Thread(target=self._swap_in, args=(target,), name="index-reload", daemon=True).start()
        return True

    def _swap_in(self, target) -> None:
        try:
            index = load_index(self.settings.index_dir, self.settings)
            searcher = Searcher(index, self.embedder, self.settings, self.searcher.neighbours)
            _read_ahead(index)  # in this thread, not by the first question on the new index
            # The searcher (what ask() reads) first: one assignment, so a question sees one index.
            self.searcher = searcher
            self.index = index
            log.info("nouvel index chargé : %s (%d passages)", index.folder.name, index.size)
        except IndexError as err:
            self._refused = target
            log.warning("nouvel index %s non chargé, l'index en service reste %s : %s", target.name,
                        self.index.folder.name, err)
        finally:
            self._reload_lock.release()

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None,
            history: list[str] | tuple[str, ...] = ()) -> Answer:
        """Retrieve and answer one question: answered, uncertain (the closest passages, flagged) or off topic.

        `history` holds the conversation's previous questions, oldest first: a follow-up (« et ça coûte
        combien ? ») is read with the previous question's topic (followup.py), and the answer says how; so
        is a word read as the documents write it (« deepfakes » as « hypertrucages », glossary.py).
        """
        knows = self.searcher.index.lexical.knows
        # « deepfakes » as the documents write it, in the question and the previous ones the reading keeps
        read = [glossary().read(text.strip(), knows) for text in (*list(history)[-HISTORY_KEPT:], question)]
        asked = read[-1]
        newest = self.searcher.latest_bulletin() if len(read) > 1 else None  # only a follow-up counts from it
        understood = understand(asked, read[:-1], latest=newest.date if newest else None) \
            if rules.on("followup") else asked
        if understood != asked and self._new_subject(asked):
            understood = asked
        answer = self._answer(emphasised(asked, understood), k, filters)
        return replace(answer, question=question, understood_as=understood if understood != question.strip() else None)

    def _new_subject(self, question: str) -> bool:
        """A question read as a follow-up that is a new subject, off the index's topics: long enough to stand alone
        and off topic alone, the question bank aside (rule `alone`). It is then read, and refused, alone instead of
        being answered from the turn before (« et une idée de cadeau pour les 60 ans de ma mère ? » after a
        question on phishing)."""
        return (rules.on("alone") and rules.on("scope") and self.scope is not None and could_stand_alone(question)
                and self.scope.off_topic(self.searcher, Query.parse(question), bank=False))

    def _covered(self, index: LoadedIndex) -> str:
        """What the index covers, in one sentence."""
        return self._read_once("covered", index, lambda: covered_text(catalog_of(index)))

    def _contacts(self, index: LoadedIndex) -> tuple[Contact, ...]:
        """The contacts the index gives."""
        return self._read_once("contacts", index, lambda: contacts_of(index))

    def _read_once(self, name: str, index: LoadedIndex, read):
        """What `read` finds in the index's passages, read once per loaded index (a new generation reads anew)."""
        cached = self._per_index.get(name)
        if cached is None or cached[0] is not index:
            cached = self._per_index[name] = (index, read())
        return cached[1]

    def _answer(self, question: str, k: int | None, filters: Filters | None) -> Answer:
        searcher = self.searcher  # one read: the whole answer comes from this index
        answer = self._decide(searcher, Query.parse(question), k, filters)
        if answer.outcome == ANSWERED:
            return answer
        # Not answered: name what the documents hold nearest the question, the contacts they give first.
        scores = searcher.dense_scores(question)
        if scores.size == 0:
            return answer
        index = searcher.index
        off = answer.outcome == OFF_TOPIC
        contacts = nearest_contacts(scores, self._contacts(index), n=1 if off else MAX_CONTACTS,
                                    shown=frozenset(h.passage.id for h in answer.hits), addresses_only=off)
        topics = tuple(nearest_topics(scores, index)) if off else ()
        return replace(answer, contacts=tuple(contacts), nearest_topics=topics)

    def _decide(self, searcher: Searcher, query: Query, k: int | None, filters: Filters | None) -> Answer:
        """The checks and the search in the order stages.PIPELINE lists them."""
        question = query.text
        context = Context(searcher, scope=self.scope, certainty=Certainty(*self.settings.certainty()),
                          lexical=searcher.index.lexical)
        if stages.off_topic(query, (), context):
            return off_topic(question, self._covered(searcher.index))
        hits = searcher.search(query, k=k or self.settings.k, filters=filters)
        missing = stages.uncovered_period(query, hits, context)
        if missing is not None:
            return period_not_found(question, missing, searcher.latest_bulletin(), hits)
        within = replace(context, allowed=searcher.mask(filters))
        items = stages.issue_contents(query, hits, within)
        if items:
            return issue_contents(question, _hits_of(searcher, query, items))
        groups = stages.period_contents(query, hits, within)
        if groups:
            passages = searcher.index.passages
            return period_contents(question, _hits_of(searcher, query, [rows[0] for rows in groups]),
                                   [[passages[row].section for row in rows] for rows in groups])
        answer = compose_answer(query, hits, context.certainty, lexical=searcher.index.lexical,
                                following=searcher.index.following, context=context,
                                first_child=searcher.index.first_child)
        # Only under an answer (the closest passages of an uncertain one are not « articles on this subject »), or
        # for a count of them, which the list answers.
        if not rules.on("articles") or not stages.asks_articles(query):
            return answer
        count = stages.asks_count(query)
        if not (answer.outcome == ANSWERED or count):
            return answer
        deeper = searcher.search(query, k=stages.ARTICLES_DEPTH, filters=filters)
        articles = stages.articles_on_topic(query, deeper, context)
        return with_articles(answer, articles, count=count) if articles else answer


def _read_ahead(index: LoadedIndex) -> None:
    """What questions read of an index and it derives from its passages once: the accents of its words, the
    sentence windows that ask, the sentences many documents repeat."""
    index.accents()
    index.asking()
    index.boilerplate()


def _hits_of(searcher: Searcher, query: Query, rows: list[int]) -> list[Hit]:
    """Passages listed rather than found (an issue's items), as hits ranked in the order given, each scored by its
    dense similarity to the question."""
    scores = searcher.dense_scores(query)
    return [Hit(passage=searcher.index.passages[row], score=float(scores[row]), rank=rank, dense=float(scores[row]))
            for rank, row in enumerate(rows, start=1)]
