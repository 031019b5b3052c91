"""The assistant as one object: settings, embedder, index and searcher loaded once."""
from __future__ import annotations

from dataclasses import dataclass

from .answer import Abstention, compose_answer
from .config import Settings
from .embed import Embedder, get_embedder
from .index import LoadedIndex, load_index
from .schema import Answer
from .search import Filters, Searcher


@dataclass
class Assistant:
    """Answers questions over one loaded index."""

    settings: Settings
    embedder: Embedder
    index: LoadedIndex
    searcher: Searcher

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> "Assistant":
        """Load the index first (cheap, fails fast), then the model."""
        index = load_index(settings.index_dir, settings)
        embedder = embedder or get_embedder(settings.model, settings.cache_dir)
        return cls(settings, embedder, index, Searcher(index, embedder, settings))

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None) -> Answer:
        """Retrieve and answer one question."""
        hits = self.searcher.search(question, k=k or self.settings.k, filters=filters)
        threshold, weight = self.settings.abstention()
        return compose_answer(question, hits, Abstention(threshold, weight), idf=self.index.lexical.idf)
