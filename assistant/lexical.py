"""French lexical retrieval: an analyzer (elisions, stop words, Snowball stems,
accents folded) and a BM25 index (bm25s) saved as plain files beside the vectors.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import rules

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)
# Prepositional phrases whose nouns carry no topic: « qui est à l'origine du bulletin » asks about the bulletin,
# not about « garanties d'origine ». Dropping them left PIAF, Service-Public and the local set unchanged
# (eval/results.md) and put the right passage first for such questions.
_LOCUTIONS = re.compile(r"\b(?:à l'origine|a l'origine|par rapport|au niveau|en matière|en matiere|à propos|a propos"
                        r"|au sujet|en termes|en fonction|au cours|en cas|à partir|a partir|à cause|a cause|au lieu"
                        r"|dans le cadre|en ce qui concerne|il y a)\b", re.IGNORECASE)


# Typos in questions (`LexicalIndex.known`): stems this long at least are corrected, one edit away, two from
# TYPO_LONG letters on. Local R@1 0.861 -> 0.870 and PIAF lexical 0.765 -> 0.773 with 6 / 9; 5 / 8, 6 / 8, 7 / 9
# and 6 / 10 scored the same within 0.002 (`assistant eval`).
TYPO_MIN = 6
TYPO_LONG = 9
_CORRECTIONS_KEPT = 20_000
# Elided words typed without their apostrophe: « dinvention », « lentreprise », « quil ».
_ELIDED = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu"})


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_FRENCH

    words = set(STOPWORDS_FRENCH) | {"quel", "quelle", "quels", "quelles", "comment", "est-ce", "faut", "peut"}
    return frozenset(fold(w) for w in words)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("french")


def fold(text: str) -> str:
    """Lower case without accents, œ/æ spelled out."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def plain(text: str) -> str:
    """Lower case, accents folded, punctuation and spacing reduced to single spaces: for comparing texts."""
    return " ".join(_WORD.findall(fold(text)))


# Words Snowball stems like another word (accents folded): « paye » and « payé » like « pays » (« pay »), where they
# belong with « paie » and « payer » (« pai »): « comment faire la paye ? » found the travel advice's « pays ».
_SAME_STEM = {"paye": "paie", "payes": "paies", "payee": "payer", "payees": "payer"}


@lru_cache(maxsize=200_000)
def _fold_word(word: str) -> str:
    # Words repeat across passages and answers: folding each distinct word once is most of analyze's speed.
    return fold(word)


def analyze(text: str) -> list[str]:
    """French tokens for BM25: elisions cut, stop words and empty phrases dropped, stems with accents folded.

    Accents are folded before stemming: questions are often typed without
    accents, and « securite » must stem like « sécurité ».
    """
    text = _ELISION.sub(" ", _LOCUTIONS.sub(" ", text.lower().replace("’", "'")))
    stops = _stopwords()
    kept = [_SAME_STEM.get(w, w) for w in (_fold_word(w) for w in _WORD.findall(text))
            if w not in stops and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(kept) if kept else []


@lru_cache(maxsize=1)
def french_stems() -> frozenset[str]:
    """The stems of the words of general French, accents folded: pyspellchecker's French word list (139,905 words
    seen in film subtitles, 37,193 stems; read once, about half a second). On the blind set's questions, 27 of
    the 29 « corrections » the typo rule made were French words read as another (« appartement » as « apport »,
    « balance » as « blanc », « reconstruit » as « reconstruct »)."""
    return frozenset(_stemmer().stemWords(list(french_words())))


@lru_cache(maxsize=1)
def french_words() -> frozenset[str]:
    """The words of general French, lower-cased and accents folded (pyspellchecker's French word list)."""
    import gzip
    import json
    from importlib.resources import files

    words = json.loads(gzip.decompress((files("spellchecker") / "resources" / "fr.json.gz").read_bytes()))
    return frozenset(_fold_word(word.lower()) for word in words)


@lru_cache(maxsize=20_000)
def stem_set(text: str) -> frozenset[str]:
    """The set of `analyze(text)`, kept for texts met again: the same passages and sentences answer many questions."""
    return frozenset(analyze(text))


class LexicalIndex:
    """BM25 over analyzed passages, and over their sentences; row i is passage i.

    A passage's lexical score mixes its own BM25 score with the best BM25 score
    of its sentences (each read with the passage's title and headings): a
    question usually restates one sentence, and the sentence index rewards the
    passage where the question's words stand together. Both are scaled by their
    best score over the collection, so the mix is in [0, 1].
    """

    FOLDER = "lexical"
    # Share of the best sentence in the lexical score, measured on the three evaluation sets
    # (eval/results.md): R@1 rose on each of them.
    SENTENCE_SHARE = 0.7

    def __init__(self, model, sentences=None, starts: np.ndarray | None = None):
        self.model = model
        self.sentences = sentences
        # Passage i owns sentence units starts[i] .. starts[i + 1] - 1 (every passage owns at least one).
        self.starts = starts

    @classmethod
    def build(cls, passages: list) -> "LexicalIndex":
        """Index passages (with their titles and headings) and their sentences."""
        from .chunking import passage_context, sentence_units

        units, starts = [], []
        for passage in passages:
            starts.append(len(units))
            units.extend(sentence_units(passage))
        return cls(_bm25([passage_context(p) for p in passages]), _bm25(units), np.asarray(starts, dtype=np.int64))

    @property
    def size(self) -> int:
        return int(self.model.scores["num_docs"])

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of analyzed tokens (unknown tokens weigh as the rarest)."""
        frequencies = self._document_frequencies()
        n = self.size
        out = {}
        for token in tokens:
            token_id = self.model.vocab_dict.get(token)
            df = int(frequencies[token_id]) if token_id is not None and token_id < len(frequencies) else 0
            out[token] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def document_frequency(self, token: str) -> int:
        """How many passages hold the analyzed token."""
        frequencies = self._document_frequencies()
        token_id = self.model.vocab_dict.get(token)
        return int(frequencies[token_id]) if token_id is not None and token_id < len(frequencies) else 0

    def _document_frequencies(self) -> np.ndarray:
        if getattr(self, "_df", None) is None:
            self._df = np.diff(np.asarray(self.model.scores["indptr"]))
        return self._df

    def terms(self, question: str | Sequence[str], ignored: frozenset[str] = frozenset()) -> list[str]:
        """The question's stems as the index knows them: a word typed with a typo or without its apostrophe
        (« benchmarcking », « dinvention ») becomes the indexed stem it was meant to be (see `known`).
        `question` is its text, or its stems when already analyzed (`Query.stems`)."""
        return [self.known(t) for t in (analyze(question) if isinstance(question, str) else question)
                if t not in ignored]

    def knows(self, text: str) -> bool:
        """Whether the index holds every word of `text` as it is (no typo read: « deepfake » is not « defaut »)."""
        stems = analyze(text)
        vocab = self.model.vocab_dict
        return bool(stems) and all(t in vocab for t in stems)

    def known(self, token: str) -> str:
        """The indexed stem closest to a stem the index does not have, or the stem itself.

        Tried in order: a missing apostrophe (« lentreprise »), then the stems
        one edit away (two from TYPO_LONG letters on: an insertion, a deletion,
        a substitution or two letters swapped) that start with the same letter,
        the most frequent of the closest. Stems shorter than TYPO_MIN letters
        are left alone: « mairie » and « marie » are both words; so are the
        stems of French words (`french_stems`), which are not typos: « dessus »
        is not « dessous », « portable » not « portail », « préfet » not
        « préférer ».
        """
        vocab = self.model.vocab_dict
        if token in vocab or len(token) < TYPO_MIN or token.isdigit() or not rules.on("typos"):
            return token
        if token in french_stems():
            return token
        corrections = getattr(self, "_corrections", None)
        if corrections is None or len(corrections) >= _CORRECTIONS_KEPT:
            # Kept for words met again; a server fed random strings forgets them rather than grow.
            corrections = self._corrections = {}
        if token not in corrections:
            corrections[token] = self._closest(token)
        return corrections[token]

    def _closest(self, token: str) -> str:
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        vocab = self.model.vocab_dict
        for cut in (1, 2):
            if token[:cut] in _ELIDED and token[cut:] in vocab:
                return token[cut:]
        if getattr(self, "_by_initial", None) is None:
            by_initial: dict[str, list[str]] = {}
            for word in vocab:
                if word and not word.isdigit():
                    by_initial.setdefault(word[0], []).append(word)
            self._by_initial = by_initial
        limit = 2 if len(token) >= TYPO_LONG else 1
        found = process.extract(token, self._by_initial.get(token[0], []), scorer=DamerauLevenshtein.distance,
                                score_cutoff=limit, limit=None)
        if not found:
            return token
        df = self._document_frequencies()
        return min(found, key=lambda f: (f[1], -int(df[vocab[f[0]]])))[0]

    def scores(self, question: str | Sequence[str], ignored: frozenset[str] = frozenset()) -> np.ndarray:
        """Lexical score in [0, 1] of every passage for the question, its text or its stems (zeros when no
        word is known), the stems in `ignored` left out."""
        analyzed = self.terms(question, ignored)
        whole = scale_to_max(_bm25_scores(self.model, analyzed, self.size))
        if self.sentences is None or self.size == 0:
            return whole
        units = _bm25_scores(self.sentences, analyzed, int(self.sentences.scores["num_docs"]))
        best = np.maximum.reduceat(units, self.starts) if units.size else np.zeros(self.size, dtype=np.float32)
        return ((1 - self.SENTENCE_SHARE) * whole + self.SENTENCE_SHARE * scale_to_max(best)).astype(np.float32)

    def save(self, folder: Path) -> None:
        """Plain .npy and .json files under folder/lexical (passages) and folder/lexical/sentences."""
        target = folder / self.FOLDER
        self.model.save(str(target), show_progress=False)
        self.sentences.save(str(target / "sentences"), show_progress=False)
        np.save(target / "sentences" / "starts.npy", self.starts, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        """Load what save() wrote; the sentence index must cover every passage."""
        import bm25s

        target = folder / cls.FOLDER
        model = bm25s.BM25.load(str(target), show_progress=False, verbosity=0)
        sentences = bm25s.BM25.load(str(target / "sentences"), show_progress=False, verbosity=0)
        starts = np.load(target / "sentences" / "starts.npy", allow_pickle=False)
        index = cls(model, sentences, starts)
        units = int(sentences.scores["num_docs"])
        if len(starts) != index.size or (len(starts) and (starts[0] != 0 or np.any(np.diff(starts) < 1)
                                                            or starts[-1] >= units)):
            raise ValueError(f"{target / 'sentences'} does not match {target}")
        return index


# Accents put back for the dense side (`Accents`): an accented form must be this many times as frequent in the
# passages as the bare form typed. Rule `accents`, measured on the first 86 questions of the blind dev half: dense
# R@1 0.547 -> 0.581, fused top 1 0.721 -> 0.744; on the 137 of rounds 1-3, top 1 0.701 -> 0.708 and phrase in
# the answer 0.577 -> 0.584; PIAF top 1 0.836 -> 0.837; local unchanged (eval/attempts.md).
ACCENT_RATIO = 3


class Accents:
    """Accents put back on the words of a question typed without them (« securite » -> « sécurité »), from the
    passages' own words (rule `accents`).

    Business owners type without accents; the lexical side folds them anyway,
    but the dense model reads « securite » as other tokens than « sécurité ».
    A bare word is changed only when the passages write it with accents at
    least ACCENT_RATIO times as often as without (« a », « ou », « tel » are
    words of their own and stay;
    words of one or two letters are left as typed), and never when it is a
    word of general French as it is (`words`: « pense », « conseille »,
    « marche » are verbs, not « pensé », « conseillé », « marché », however
    the passages write them).
    """

    def __init__(self, texts, words: frozenset[str] = frozenset()) -> None:
        counts: dict[str, int] = {}
        for text in texts:
            for word in _WORD.findall(text.lower()):
                counts[word] = counts.get(word, 0) + 1
        best: dict[str, tuple[int, str]] = {}
        for word, count in counts.items():
            if not word.isascii():
                bare = _fold_word(word)
                if bare.isascii() and count > best.get(bare, (0, ""))[0]:
                    best[bare] = (count, word)
        self._forms = {bare: word for bare, (count, word) in best.items()
                       if count >= ACCENT_RATIO * counts.get(bare, 0) and bare not in words}

    def restore(self, text: str) -> str:
        """The text with the accents of its bare words put back (case kept for a capital first letter)."""
        if not self._forms or not rules.on("accents"):
            return text

        def accented(match: re.Match) -> str:
            word = match.group()
            if not word.isascii() or len(word) < 3:  # « a » and « à », « ou » and « où » are both common
                return word
            form = self._forms.get(word.lower())
            if form is None:
                return word
            return form.capitalize() if word[0].isupper() else form

        return _WORD.sub(accented, text)


def _bm25(texts: list[str]):
    import bm25s

    # k1 and b measured on PIAF and Service-Public (eval/results.md): shorter-passage friendly.
    model = bm25s.BM25(k1=0.9, b=0.4)
    model.index([analyze(t) or [""] for t in texts], show_progress=False)
    return model


def _bm25_scores(model, analyzed: list[str], size: int) -> np.ndarray:
    tokens = [t for t in analyzed if t in model.vocab_dict]
    if not tokens:
        return np.zeros(size, dtype=np.float32)
    return np.asarray(model.get_scores(tokens), dtype=np.float32)


def scale_to_max(values: np.ndarray) -> np.ndarray:
    """Scores divided by the best one (all zeros stay zeros)."""
    high = float(values.max()) if values.size else 0.0
    return values / high if high > 0 else np.zeros_like(values)
