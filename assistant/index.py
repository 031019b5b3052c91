"""Build, update and load the index folder.

Layout of an index folder (default `index/`):

    current -> gen-20261128-101500-3f2a/    symlink, swapped atomically at the end of a build
    gen-.../vectors.faiss                   FAISS vectors, row i is passage i
    gen-.../passages.jsonl                  one passage per line, row i is vector i
    gen-.../lexical/                        BM25 arrays and vocabulary (bm25s)
    gen-.../manifest.json                   settings, fingerprint, per-file hashes and failures, checksums
    .lock                                   held by the one build running

A build is planned, then applied. The plan (`plan_build`) discovers and hashes
the files and diffs them against the current generation, reading and writing
nothing; the apply reads what changed, embeds what is new, writes a new
generation beside the current one and only then points `current` at it, so a
crash or Ctrl-C mid-build leaves the previous index in use.

Files are known by their content (SHA-256 and suffix), not their path: content
already indexed is never embedded again, whether the file moved, was renamed or
was copied; one content held at several paths is indexed once (see _primaries).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import rules
from .chunking import mark_pointers, passage_windows, sentences_of, source_label, window_asks
from .config import Settings
from .durable import fsync_dir, fsync_tree
from .embed import Embedder
from .lexical import Accents, LexicalIndex, plain
from .guard import BoundedReader, Limits
from .readers import SUPPORTED_SUFFIXES, ReadError
from .schema import Passage

FORMAT_VERSION = 1
CURRENT = "current"
VECTORS = "vectors.faiss"
PASSAGES = "passages.jsonl"
MANIFEST = "manifest.json"
OWNERS = "owners.npy"
ASKING = "asking.npy"
# Passages whose vectors `LoadedIndex.passage_scores` gathers at once.
SCORED_AT_ONCE = 2_000
# Taken from a sentence window's similarity when it asks a question (rule `asks`): a question in a passage
# (« Savez-vous ce que prépareront vos trois principaux concurrents ? », a notice's list of the questions it
# answers) is near any question asked in the same words and says nothing of the topic, so such passages came
# first for questions on other subjects. Blind dev half, hybrid top 3 0.847 -> 0.869; any penalty from 0.01 to
# 0.1 gave the same ranks (eval/attempts.md, session 15).
ASKING_PENALTY = 0.05
# A sentence held by this many of the indexed documents at least (and this share of them) is boilerplate, quoted
# only when nothing else can be (rule `boilerplate`, answer.py): the ANSSI collection's disclaimer is in 15 of the
# 159 documents of the corpus + ANSSI index; Service-Public's most repeated sentence in 8 of 105.
BOILERPLATE_MIN_DOCUMENTS = 5
BOILERPLATE_SHARE = 0.05
# The vector index by collection size, from the scale part of `make bench` (eval/bench.md): exact
# (flat) search up to FLAT_MAX_VECTORS window vectors, where it stays within a few milliseconds on
# two cores; HNSW beyond, where flat search grows linearly and HNSW keeps recall@10 >= 0.95.
FLAT_MAX_VECTORS = 100_000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
# Files in a folder that describe the folder rather than belong to the corpus.
_FOLDER_NOTES = {"readme.md", "readme.txt", "readme", "license", "license.md", "licence.md"}


class IndexError(Exception):
    """Base of the index errors; messages are one line a maintainer can act on."""


class IndexNotFound(IndexError):
    """No index has been built in this folder yet."""


class IndexMismatch(IndexError):
    """The index was built with other settings than the current ones."""


class IndexCorrupt(IndexError):
    """A file of the index is missing, truncated or altered."""


class IndexBusy(IndexError):
    """Another build holds the folder."""


class NoDocuments(IndexError):
    """Nothing readable was found in the given paths."""


def rebuild_hint(index_dir: Path) -> str:
    return f"reconstruisez-le avec : assistant index --index-dir {index_dir}"


# ---------------------------------------------------------------- discovery


@dataclass
class Discovery:
    """Files to index, and the paths that were given but could not be used."""

    files: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0


def discover(paths: list[Path]) -> Discovery:
    """Supported files under the given files and folders (recursive, hidden files skipped)."""
    found = Discovery()
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            found.problems.append((str(path), "chemin introuvable : vérifiez l'orthographe du chemin"))
            continue
        if path.is_file():
            candidates = [path]
        else:
            candidates = sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink())
            candidates = [p for p in candidates
                          if not any(part.startswith(".") for part in p.relative_to(path).parts)]
        for file in candidates:
            named = file == path
            if not named and (file.suffix.lower() not in SUPPORTED_SUFFIXES or file.name.lower() in _FOLDER_NOTES):
                found.ignored += 1
                continue
            resolved = file.resolve()
            if not named and not _under(resolved, [path.resolve()]):
                # A link inside the corpus to a file elsewhere (~/.ssh, /etc) would be indexed and served.
                found.problems.append((str(file), f"lien symbolique vers {resolved}, hors du dossier {path} : ignoré ; "
                                                  "copiez le fichier dans le dossier ou indexez-le par son chemin"))
                continue
            if resolved in seen:
                continue
            seen.add(resolved)
            found.files.append(file)
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- the loaded index


@dataclass
class LoadedIndex:
    """An index generation in memory: row i of vectors, lexical and passages is passage i."""

    folder: Path
    manifest: dict
    passages: list[Passage]
    vectors: object  # faiss.Index over sentence windows
    lexical: LexicalIndex
    owners: np.ndarray  # owners[v] is the passage row of vector v

    @property
    def size(self) -> int:
        return len(self.passages)

    def all_vectors(self) -> np.ndarray:
        """Every stored window vector, in row order."""
        total = int(self.vectors.ntotal)
        if total == 0:
            return np.zeros((0, int(self.manifest.get("dim", 0))), dtype=np.float32)
        return self.vectors.reconstruct_n(0, total)

    def window_ranges(self) -> np.ndarray:
        """starts[r]..starts[r+1] are the vector rows of passage r (owners are stored in passage order)."""
        if getattr(self, "_starts", None) is None:
            self._starts = window_starts(self.owners, self.size)
        return self._starts

    def search_parameters(self, selector):
        """FAISS search parameters restricted to `selector`, of the type this index's kind needs."""
        import faiss

        if self.manifest.get("index_type") == "hnsw":
            ef = int(self.manifest.get("index_params", {}).get("ef_search", HNSW_EF_SEARCH))
            return faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
        return faiss.SearchParameters(sel=selector)

    def following(self, passage: Passage) -> Passage | None:
        """The passage that follows this one in its document under the same heading (the next cut, or the top
        of the next page when a section runs over a page break), if any. A document's passages are stored
        together and in reading order."""
        sequel = self._next(passage)
        same = sequel is not None and \
            (sequel.source, sequel.title, sequel.section) == (passage.source, passage.title, passage.section)
        return sequel if same else None

    def first_child(self, passage: Passage) -> Passage | None:
        """The passage right after this one when it opens a sub-section of this one's heading (« Voyager à
        l'étranger en sécurité » then « … › Avant le départ »), if any."""
        child = self._next(passage) if passage.section else None
        inside = child is not None and child.source == passage.source and \
            (child.section or "").startswith(f"{passage.section} › ")
        return child if inside else None

    def opens(self, passage: Passage) -> bool:
        """Whether the passage opens a document of several passages, under no heading of its own: a guide's
        preamble (« Face à une menace informatique toujours croissante… »), before the recommendations."""
        if passage.section:
            return False
        row = self._row(passage)
        if row is None or (row > 0 and self.passages[row - 1].source == passage.source):
            return False
        return row + 1 < self.size and self.passages[row + 1].source == passage.source

    def _next(self, passage: Passage) -> Passage | None:
        """The passage stored right after this one, if any."""
        row = self._row(passage)
        return self.passages[row + 1] if row is not None and row + 1 < self.size else None

    def _row(self, passage: Passage) -> int | None:
        """The passage's row in this index (None when it is not one of its passages); the map is built once."""
        if getattr(self, "_row_of", None) is None:
            self._row_of = {p.id: row for row, p in enumerate(self.passages)}
        return self._row_of.get(passage.id)

    def accents(self) -> Accents:
        """The accents of the passages' words, to put back on a question typed without them (lexical.Accents);
        read once per loaded index."""
        if getattr(self, "_accents", None) is None:
            from .scope import general_words  # the background of general French: words that stay as typed

            self._accents = Accents((f"{p.title} {p.section or ''} {p.text}" for p in self.passages), general_words())
        return self._accents

    def asking(self) -> np.ndarray:
        """For each stored vector, whether it is a sentence window that asks a question (chunking.window_asks):
        written at build time (asking.npy), read from the passages for an index built before."""
        if getattr(self, "_asking", None) is None:
            path = self.folder / ASKING
            stored = np.load(path, allow_pickle=False) if path.is_file() else None
            self._asking = stored if stored is not None and len(stored) == len(self.owners) else \
                asking_windows(self.passages, self.owners)
        return self._asking

    def boilerplate(self) -> frozenset[str]:
        """The sentences (as `plain` text) repeated by many documents (`boilerplate_of`): written at build time
        (the manifest's « boilerplate »), read from the passages for an index built before."""
        if getattr(self, "_boilerplate", None) is None:
            stored = self.manifest.get("boilerplate")
            self._boilerplate = frozenset(stored if isinstance(stored, list) else boilerplate_of(self.passages))
        return self._boilerplate

    def matrix(self) -> np.ndarray:
        """Every stored vector, as a read-only view of FAISS's own storage (no copy, flat or HNSW)."""
        if getattr(self, "_matrix", None) is None:
            self._matrix = vector_matrix(self.vectors)
        return self._matrix

    def passage_scores(self, query: np.ndarray, rows: np.ndarray, whole_weight: float,
                       asking: bool = True) -> np.ndarray:
        """Dense score of each passage row: a mix of the whole passage's similarity and its best window's, a
        window that asks a question lowered by ASKING_PENALTY (rule `asks`) unless `asking` is False."""
        return self.passage_readings(query, rows, whole_weight, (asking,))[0]

    def passage_readings(self, query: np.ndarray, rows: np.ndarray, whole_weight: float,
                         readings: tuple[bool, ...]) -> list[np.ndarray]:
        """`passage_scores` of the rows for each `asking` of `readings`, from one gather and one product (the
        off-topic check reads the scores without the rule `asks`, the certainty with it).

        Read by blocks of SCORED_AT_ONCE rows: the standing of a question in a large index reads a sample of
        20,000 passages, whose vectors gathered at once raised the 100k-passage server's peak memory 88 MiB
        above its resident size (`make bench`: 1,836 against 1,748 MiB; by blocks, the two are equal)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) > SCORED_AT_ONCE:
            blocks = [self.passage_readings(query, rows[i:i + SCORED_AT_ONCE], whole_weight, readings)
                      for i in range(0, len(rows), SCORED_AT_ONCE)]
            return [np.concatenate(parts) for parts in zip(*blocks)]
        starts = self.window_ranges()
        out = [np.zeros(len(rows), dtype=np.float32) for _ in readings]
        low, counts = starts[rows], starts[rows + 1] - starts[rows]
        keep = np.flatnonzero(counts > 0)
        if keep.size == 0:
            return out
        low, counts = low[keep], counts[keep]
        # All the rows' vectors in one gather and one product, then per-passage reductions (segments).
        first = np.cumsum(counts) - counts
        vectors = np.repeat(low - first, counts) + np.arange(int(counts.sum()))
        sims = self.matrix()[vectors] @ query.ravel()
        for scores, asking in zip(out, readings):
            scores[keep] = _mix(self._lowered(sims, vectors) if asking else sims, first, counts, whole_weight)
        return out

    def all_passage_scores(self, query: np.ndarray, whole_weight: float, asking: bool = True) -> np.ndarray:
        """`passage_scores` of every passage, from one product over all stored vectors (what flat search costs)."""
        return self.all_passage_readings(query, whole_weight, (asking,))[0]

    def all_passage_readings(self, query: np.ndarray, whole_weight: float,
                             readings: tuple[bool, ...]) -> list[np.ndarray]:
        """`all_passage_scores` for each `asking` of `readings`, from one product over all stored vectors."""
        starts = self.window_ranges()
        counts = np.diff(starts)
        out = [np.zeros(self.size, dtype=np.float32) for _ in readings]
        has = np.flatnonzero(counts > 0)
        if has.size == 0:
            return out
        sims = self.matrix() @ query.ravel()
        for scores, asking in zip(out, readings):
            scores[has] = _mix(self._lowered(sims) if asking else sims, starts[has], counts[has], whole_weight)
        return out

    def _lowered(self, sims: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
        """`sims` (of all stored vectors, or of `vectors`) with the windows that ask lowered by ASKING_PENALTY
        (rule `asks`): a copy, or `sims` itself when the rule is off or none of them asks."""
        if not rules.on("asks"):
            return sims
        marked = self.asking() if vectors is None else self.asking()[vectors]
        if not marked.any():
            return sims
        lowered = sims.copy()
        lowered[marked] -= ASKING_PENALTY
        return lowered

    def vectors_of(self, rows: list[int], all_vectors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The window vectors of some passage rows, with owners renumbered 0..len(rows)-1."""
        all_vectors = self.all_vectors() if all_vectors is None else all_vectors
        position = np.full(self.size, -1, dtype=np.int64)
        position[np.asarray(rows, dtype=np.int64)] = np.arange(len(rows))
        local = position[self.owners]
        keep = local >= 0
        order = np.argsort(local[keep], kind="stable")
        return all_vectors[keep][order], local[keep][order]


def _mix(sims: np.ndarray, first: np.ndarray, counts: np.ndarray, whole_weight: float) -> np.ndarray:
    """Per passage (segments of `sims` starting at `first`): its whole vector's similarity mixed with its best window's.

    The first vector of a passage is the whole passage, the others its windows; a passage of one vector is its
    own best window.
    """
    windows = sims.copy()
    windows[first[counts > 1]] = -np.inf
    return whole_weight * sims[first] + (1 - whole_weight) * np.maximum.reduceat(windows, first)


def manifest_digest(manifest: dict) -> str:
    """Checksum of a manifest's content (without its own checksum): a flipped byte in a path or title is caught."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def vector_matrix(index) -> np.ndarray:
    """The vectors of a flat or HNSW-flat FAISS index as a read-only (ntotal, d) array over its memory."""
    import faiss

    n, d = int(index.ntotal), int(index.d)
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    flat = faiss.downcast_index(index.storage) if hasattr(index, "storage") else index
    view = faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)
    view.flags.writeable = False
    return view


def current_generation(index_dir: Path) -> Path | None:
    """The generation folder `current` points at, if any."""
    link = Path(index_dir) / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def load_index(index_dir: Path, settings: Settings | None = None, verify: bool = True) -> LoadedIndex:
    """Load the current generation; refuse one built with other settings or damaged."""
    import faiss

    index_dir = Path(index_dir)
    folder = current_generation(index_dir)
    if folder is None:
        raise IndexNotFound(f"aucun index dans {index_dir} : construisez-le avec "
                            f"`assistant index --index-dir {index_dir}` (ou `make run`)")
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "fingerprint" not in manifest:
            raise ValueError("champs manquants")
    except (OSError, ValueError) as err:
        raise IndexCorrupt(f"{manifest_path} est illisible ou incomplet ({err}) : {rebuild_hint(index_dir)}") from None
    if "manifest_sha256" in manifest and manifest["manifest_sha256"] != manifest_digest(manifest):
        raise IndexCorrupt(f"{manifest_path} est altéré (somme de contrôle du manifeste différente) : "
                           f"{rebuild_hint(index_dir)}")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(f"{index_dir} a été construit par une autre version de l'assistant "
                            f"(format {manifest.get('format')}, attendu {FORMAT_VERSION}) : {rebuild_hint(index_dir)}")
    if settings is not None and manifest["fingerprint"] != settings.fingerprint():
        built = manifest.get("settings", {})
        wanted = settings.fingerprint_fields()
        diff = ", ".join(f"{k} {built.get(k)!r} ≠ {v!r}" for k, v in wanted.items() if built.get(k) != v)
        raise IndexMismatch(f"{index_dir} a été construit avec d'autres réglages ({diff or 'empreinte différente'}) : "
                            f"{rebuild_hint(index_dir)}")
    if verify:
        for name, expected in manifest.get("checksums", {}).items():
            path = folder / name
            if not path.is_file():
                raise IndexCorrupt(f"{path} manque : {rebuild_hint(index_dir)}")
            if file_sha256(path) != expected:
                raise IndexCorrupt(f"{path} est altéré ou tronqué (somme de contrôle différente) : {rebuild_hint(index_dir)}")
    try:
        rows = [json.loads(line) for line in (folder / PASSAGES).read_text(encoding="utf-8").splitlines()
                if line.strip()]
        passages = [Passage.from_dict(row) for row in rows]
        # An index built before tables of contents and mastheads were marked at build time: marked here, alike.
        if any("points_elsewhere" not in row for row in rows):
            passages = mark_pointers(passages)
    except (OSError, ValueError, TypeError) as err:
        raise IndexCorrupt(f"{folder / PASSAGES} est illisible ({type(err).__name__}) : {rebuild_hint(index_dir)}") from None
    try:
        vectors = faiss.read_index(str(folder / VECTORS))
        if manifest.get("index_type") == "hnsw":
            # read_index returns the concrete class (IndexHNSWFlat): its search depth is set here.
            vectors.hnsw.efSearch = int(manifest.get("index_params", {}).get("ef_search", HNSW_EF_SEARCH))
    except Exception as err:
        raise IndexCorrupt(f"{folder / VECTORS} est illisible ({str(err).splitlines()[0][:120]}) : "
                           f"{rebuild_hint(index_dir)}") from None
    try:
        lexical = LexicalIndex.load(folder)
    except Exception as err:
        raise IndexCorrupt(f"{folder / LexicalIndex.FOLDER} est illisible ({type(err).__name__}) : "
                           f"{rebuild_hint(index_dir)}") from None
    try:
        owners = np.load(folder / OWNERS, allow_pickle=False)
    except Exception as err:
        raise IndexCorrupt(f"{folder / OWNERS} est illisible ({type(err).__name__}) : {rebuild_hint(index_dir)}") from None
    counts = {"passages.jsonl": len(passages), "lexical": lexical.size, "manifest.json": int(manifest.get("passages", -1))}
    windows = {"vectors.faiss": int(vectors.ntotal), "owners.npy": len(owners),
               "manifest.json (vecteurs)": int(manifest.get("vectors", -1))}
    bad_owner = len(owners) and (owners.min() < 0 or owners.max() >= len(passages))
    if len(set(counts.values())) != 1 or len(set(windows.values())) != 1 or bad_owner:
        detail = ", ".join(f"{k} {v}" for k, v in {**counts, **windows}.items())
        raise IndexCorrupt(f"{folder} est incohérent (lignes : {detail}) : {rebuild_hint(index_dir)}")
    return LoadedIndex(folder=folder, manifest=manifest, passages=passages, vectors=vectors, lexical=lexical,
                       owners=owners.astype(np.int64))


# ---------------------------------------------------------------- building


@dataclass
class BuildReport:
    """What a build did, for the summary line and the tests."""

    index_dir: Path
    generation: Path | None = None
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old source, new source), content reused
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path not indexed, path cited instead)
    ignored: int = 0
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    full_rebuild: bool = False

    def summary(self) -> str:
        """The French summary printed at the end of `assistant index`."""
        lines = [
            f"Index écrit dans {self.index_dir} en {self.seconds:.1f} s : "
            f"{len(self.indexed)} fichier(s) indexé(s), {len(self.unchanged)} inchangé(s), "
            f"{len(self.failed)} en échec, {len(self.removed)} retiré(s)"
            + (f", {len(self.moved)} déplacé(s)" if self.moved else "")
            + (f", {len(self.duplicates)} en double" if self.duplicates else "")
            + f" ; {self.passages} passages ({self.embedded} encodés)."
        ]
        for old, new, count in _grouped(self.moved):
            lines.append(f"  déplacé : {old} → {new}" + (f" ({count} fichiers)" if count > 1 else ""))
        for copy, cited, count in _grouped(self.duplicates):
            lines.append(f"  en double : {copy} a le même contenu que {cited}"
                         + (f" ({count} fichiers)" if count > 1 else "") + f" : indexé une fois, cité sous {cited}")
        for path, reason in self.failed:
            lines.append(f"  échec : {reason}" if reason.startswith(path) else f"  échec : {path} : {reason}")
        return "\n".join(lines)


def _grouped(pairs: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(a, b) path pairs as few lines as possible: files that keep their place under two folders
    (/tmp/c1/memo/x.pdf → /tmp/c2/memo/x.pdf) are said once per folder pair (/tmp/c1 → /tmp/c2, 33 files)."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for a, b in pairs:
        left, right = Path(a).parts, Path(b).parts
        same = 0
        while same < min(len(left), len(right)) - 1 and left[-1 - same] == right[-1 - same]:
            same += 1
        key = (str(Path(*left[:len(left) - same])), str(Path(*right[:len(right) - same]))) if same else (a, b)
        groups.setdefault(key, []).append((a, b))
    out = []
    for (a_dir, b_dir), members in groups.items():
        out.extend([(a_dir, b_dir, len(members))] if len(members) > 1 else [(*members[0], 1)])
    return out


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: bool = True, log=None):
    """Hold the folder's build lock; a second build waits (or raises IndexBusy if wait is False)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / ".lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IndexBusy(f"{index_dir} est occupé par une autre construction d'index : "
                                "attendez qu'elle se termine puis relancez") from None
            if log:
                log(f"Une autre construction d'index est en cours dans {index_dir} : attente de sa fin…")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _under(path: Path, roots: list[Path]) -> bool:
    for root in roots:
        if path == root or root in path.parents:
            return True
    return False


Claim = tuple[Path, str, dict]  # (file as found, its key: the resolved path, its record: _hashed(file))


@dataclass(frozen=True)
class BuildPlan:
    """What a build will do, decided from the files' hashes and the previous generation before any file is read.

    Files are listed in the order they are applied: the path that holds each content first (`holders`),
    then the other paths of the same bytes (`copies`), recorded as duplicates of it once it is read. What
    happened to each file is the BuildReport's to say: a file planned for reading may turn out unreadable.
    """

    previous: LoadedIndex | None
    found: Discovery
    found_keys: frozenset[str]
    # Each content's one path (and kept copies whose original is gone), read unless in same_as_before.
    holders: list[Claim]
    copies: list[Claim]  # the other paths of a holder's content; read on their own if it could not be
    kept: dict[str, dict]  # indexed before from other paths, outside the folders given now: left as they were
    kept_as_is: frozenset[str]  # of `kept`, the entries carried over without reading
    same_as_before: frozenset[str]  # paths whose bytes are those indexed under them: passages and vectors reused
    reused_from: dict[str, str]  # path -> the path whose passages held the same bytes (moved, renamed, copied)
    primary: dict[str, str]  # content (_identity) -> the one path indexed and cited for it
    dropped: frozenset[str]  # paths of the previous index neither found now nor kept

    @property
    def old_files(self) -> dict:
        """The previous generation's per-file records, by key."""
        return self.previous.manifest.get("files", {}) if self.previous else {}


def plan_build(paths: list[Path], previous: LoadedIndex | None) -> BuildPlan:
    """Discover and hash the given files and folders and diff them against the previous generation."""
    found = discover(paths)
    if not found.files and not found.problems:
        raise NoDocuments(f"aucun document indexable dans {', '.join(map(str, paths))} : "
                          f"formats acceptés {', '.join(SUPPORTED_SUFFIXES)}")
    old_files: dict = previous.manifest.get("files", {}) if previous else {}
    # Every file is hashed before any is read: which path holds a content is decided first.
    claims: list[Claim] = [(file, str(file.resolve()), _hashed(file)) for file in found.files]
    given_roots = [Path(p).resolve() for p in paths]
    found_keys = frozenset(key for _, key, _ in claims)
    # Entries of other paths, left as they were: still on disk and outside the folders given now.
    kept = {key: old for key, old in old_files.items()
            if key not in found_keys and Path(key).exists() and not _under(Path(key), given_roots)}
    providers = _providers(old_files)
    primary = _primaries(claims, kept, providers)

    # The path that holds each content first, then the other paths of the same content.
    holders: list[Claim] = []
    copies: list[Claim] = []
    for file, key, record in claims:
        (copies if primary.get(_identity(key, record), key) != key else holders).append((file, key, record))
    kept_as_is = set()
    for key, old in kept.items():
        holder = primary.get(_identity(key, old))
        if old.get("error") or (old.get("status") != "duplicate" and holder in (None, key)):
            kept_as_is.add(key)
        elif holder == key:
            # The path it duplicated is gone: this copy now holds the content.
            holders.append((Path(key), key, _hashed(Path(key))))
        else:
            # A copy, or content an index written before content identity holds twice: one path keeps it.
            copies.append((Path(key), key, _hashed(Path(key))))

    same_as_before, reused_from = set(), {}
    for _, key, record in holders + copies:
        old = old_files.get(key)
        if (old and "error" not in record and old.get("sha256") == record.get("sha256") and not old.get("error")
                and old.get("status") != "duplicate"):
            same_as_before.add(key)
        provider = providers.get(_identity(key, record))
        if provider and provider != key:
            reused_from[key] = provider
    dropped = frozenset(key for key in old_files if key not in found_keys and key not in kept)
    return BuildPlan(previous=previous, found=found, found_keys=found_keys, holders=holders, copies=copies, kept=kept,
                     kept_as_is=frozenset(kept_as_is), same_as_before=frozenset(same_as_before),
                     reused_from=reused_from, primary=primary, dropped=dropped)


def build_index(paths: list[Path], settings: Settings, embedder: Embedder, *, log=None,
                show_progress: bool = True, wait: bool = True) -> BuildReport:
    """Index the given files and folders into settings.index_dir, re-embedding only what changed."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    index_dir = Path(settings.index_dir)
    started = time.perf_counter()
    report = BuildReport(index_dir=index_dir)
    with build_lock(index_dir, wait=wait, log=log):
        previous = _previous(index_dir, settings, log)
        report.full_rebuild = previous is None
        plan = plan_build(paths, previous)
        report.ignored = plan.found.ignored
        report.failed.extend(plan.found.problems)
        _apply(plan, settings, embedder, report, show_progress)
    report.seconds = time.perf_counter() - started
    return report


def _apply(plan: BuildPlan, settings: Settings, embedder: Embedder, report: BuildReport,
           show_progress: bool) -> None:
    """Read what the plan says changed, embed what is new, write the generation and make it current (lock held)."""
    index_dir = Path(settings.index_dir)
    previous = plan.previous
    entries = _read(plan, settings, report, show_progress)
    if not any(p for _, _, p, _ in entries):
        raise NoDocuments("aucun document lisible : rien n'a été indexé, l'index précédent est inchangé"
                          + "".join(f"\n  échec : {p} : {r}" for p, r in report.failed))

    if previous and _unchanged(entries, plan.old_files, report):
        report.generation = previous.folder
        report.passages = previous.size
        return

    entries.sort(key=lambda e: e[1].get("source", e[0]))
    to_embed = [p for _, _, passages, vecs in entries if vecs is None for p in passages]
    new_vectors, new_owners = _embed(embedder, to_embed, show_progress)
    report.embedded = len(to_embed)

    passages_all: list[Passage] = []
    blocks: list[np.ndarray] = []
    owner_blocks: list[np.ndarray] = []
    cursor = 0
    for _, _, passages, encoded in entries:
        if not passages:
            continue
        if encoded is None:
            mask = (new_owners >= cursor) & (new_owners < cursor + len(passages))
            encoded = (new_vectors[mask], new_owners[mask] - cursor)
            cursor += len(passages)
        vecs, owners = encoded
        blocks.append(np.asarray(vecs, dtype=np.float32))
        owner_blocks.append(np.asarray(owners, dtype=np.int64) + len(passages_all))
        passages_all.extend(passages)
    vectors = np.concatenate(blocks)
    owners = np.concatenate(owner_blocks)

    files_manifest = {key: record for key, record, _, _ in entries}
    generation = publish_generation(index_dir, settings, embedder, passages_all, vectors, owners, files_manifest)
    _cleanup(index_dir, keep={generation.name, previous.folder.name if previous else ""})
    report.generation = generation
    report.passages = len(passages_all)


def _read(plan: BuildPlan, settings: Settings, report: BuildReport, show_progress: bool) -> list[tuple]:
    """The entries of the new generation: (key, record, passages, vectors or None when they must be embedded)."""
    previous, old_files = plan.previous, plan.old_files
    old_rows: dict[str, list[int]] = {}
    if previous:
        for row, passage in enumerate(previous.passages):
            old_rows.setdefault(passage.source, []).append(row)
    old_vectors = previous.all_vectors() if previous else None

    def reuse(rows):
        return previous.vectors_of(rows, old_vectors) if rows else None

    entries: list[tuple[str, dict, list[Passage], np.ndarray | None]] = []
    # Each file is read in a worker process bounded in time and memory (see guard.py).
    reader = BoundedReader(Limits.of(settings))
    files_bar = _bar(len(plan.found.files), "fichiers", show_progress)
    served: dict[str, str] = {}  # key -> source label, for the paths whose entry holds passages

    def index_file(file: Path, key: str, record: dict) -> None:
        label = record["source"]
        old = old_files.get(key)
        if key in plan.same_as_before:
            rows = old_rows.get(old["source"], [])
            entries.append((key, {**old, "status": "unchanged"},
                            [previous.passages[r] for r in rows], reuse(rows)))
            report.unchanged.append(label)
            served[key] = old["source"]
            return
        try:
            if "error" in record:
                raise ReadError(file, record["error"])
            document, passages = reader.read_passages(file, label, settings.chunk_size, settings.chunk_overlap)
            if not passages:
                raise ReadError(file, "aucun passage produit après découpage")
        except ReadError as err:
            reason = err.reason
            kept_rows = old_rows.get(old["source"], []) if old and old.get("status") != "duplicate" else []
            if kept_rows:
                # Losing nothing: the last good version stays searchable.
                reason += " (version précédente conservée dans l'index)"
                entries.append((key, {**old, "error": reason, "status": "failed"},
                                [previous.passages[r] for r in kept_rows], reuse(kept_rows)))
                served[key] = old["source"]
            else:
                entries.append((key, {**record, "error": reason, "status": "failed", "passages": 0}, [], None))
            report.failed.append((str(file), reason))
            return
        record = {**record, "title": document.title, "doc_type": document.doc_type, "date": document.date,
                  "passages": len(passages), "status": "indexed"}
        vectors = None
        provider = plan.reused_from.get(key)
        if provider:
            # The same bytes were indexed from another path. The file is read again (the whole
            # shipped corpus reads in 1.6 s, where embedding it takes about 70 s) because a title
            # taken from the file name, or a type from the folder, may differ at the new path; the
            # vectors are reused when every passage embeds the same texts as before.
            rows = old_rows.get(old_files[provider]["source"], [])
            if [passage_windows(previous.passages[r]) for r in rows] == [passage_windows(p) for p in passages]:
                vectors = reuse(rows)
            if not Path(provider).exists():
                report.moved.append((old_files[provider]["source"], label))
                record.update(status="moved")
        entries.append((key, record, passages, vectors))
        (report.unchanged if vectors is not None else report.indexed).append(label)
        served[key] = label

    for file, key, record in plan.holders:
        index_file(file, key, record)
        if key in plan.found_keys:
            files_bar.update(1)
    for key in plan.kept_as_is:
        if old_files[key].get("passages"):
            served[key] = old_files[key].get("source", key)
    for file, key, record in plan.copies:
        holder = plan.primary.get(_identity(key, record))
        if holder in served and holder != key:
            entries.append((key, {**record, "passages": 0, "status": "duplicate", "same_as": served[holder]},
                            [], None))
            report.duplicates.append((record["source"], served[holder]))
        else:  # the holder could not be read (or the copy changed since): this path is read on its own
            index_file(file, key, record)
        if key in plan.found_keys:
            files_bar.update(1)
    files_bar.close()
    reader.close()

    # Files indexed before and not part of this build: dropped when deleted or when they lived under a
    # folder given now (not reported as removed when their content is still indexed at another path);
    # otherwise kept as they were.
    current_contents = {_identity(key, record) for key, record, passages, _ in entries if passages}
    for key, old in old_files.items():
        if key in plan.dropped:
            if old.get("passages") and _identity(key, old) not in current_contents:
                report.removed.append(old.get("source", key))
        elif key in plan.kept_as_is:
            rows = old_rows.get(old.get("source"), [])
            entries.append((key, old, [previous.passages[r] for r in rows], reuse(rows)))

    return entries


def _hashed(file: Path) -> dict:
    """A file's manifest record before reading: its source label, path, SHA-256 and size (or the error)."""
    record = {"source": source_label(file), "path": str(file.resolve())}
    try:
        record["sha256"] = file_sha256(file)
        record["size"] = file.stat().st_size
    except OSError as err:
        record["error"] = "lecture refusée (permissions)" if isinstance(err, PermissionError) else str(err)
    return record


def _identity(key: str, record: dict) -> str | None:
    """What makes two files the same document: their bytes (SHA-256) and their kind (suffix), since the
    reader is chosen by suffix: the same bytes saved as .md and as .html read differently."""
    return f"{record['sha256']}{Path(key).suffix.lower()}" if record.get("sha256") else None


def _providers(old_files: dict) -> dict[str, str]:
    """Content (identity) -> the path whose passages hold it in the previous index.

    An index written before content identity may hold one content twice (a folder indexed from two
    paths): the first path in alphabetical order is the one reused.
    """
    out: dict[str, str] = {}
    for key in sorted(old_files):
        old = old_files[key]
        if old.get("sha256") and old.get("passages") and not old.get("error"):
            out.setdefault(_identity(key, old), key)
    return out


def _primaries(claims: list[tuple[Path, str, dict]], kept: dict, providers: dict[str, str]) -> dict[str, str]:
    """Content (identity) -> the one path that is indexed and cited for it; its other paths are duplicates.

    The rule: the path the index already cites for that content keeps it while it still holds the same
    bytes (so ids and citations do not shift when a copy appears); otherwise the first path in
    alphabetical order of the resolved paths (so a build from scratch does not depend on the order of
    the folders given).
    """
    holders: dict[str, list[str]] = {}
    for _, key, record in claims:
        if record.get("sha256") and "error" not in record:
            holders.setdefault(_identity(key, record), []).append(key)
    for key, old in kept.items():
        if old.get("sha256") and not old.get("error"):
            holders.setdefault(_identity(key, old), []).append(key)
    return {content: providers[content] if providers.get(content) in keys else min(keys)
            for content, keys in holders.items()}


def _unchanged(entries, old_files: dict, report: BuildReport) -> bool:
    """True when the build would write the same index again."""
    if report.indexed or report.removed or report.moved:
        return False
    if {key for key, *_ in entries} != set(old_files):
        return False
    # A path whose bytes changed for content indexed elsewhere (two files swapped) reuses vectors yet changes
    # the index: the content and the path it is cited under are compared too.
    same = ("error", "sha256", "passages", "same_as")
    return all(all(record.get(f) == old_files[key].get(f) for f in same) for key, record, _, _ in entries)


def _previous(index_dir: Path, settings: Settings, log) -> LoadedIndex | None:
    """The current index if it can be reused; otherwise None (and a full rebuild)."""
    try:
        return load_index(index_dir, settings)
    except IndexNotFound:
        return None
    except IndexError as err:
        log(f"Index existant non réutilisable ({err}) : reconstruction complète.")
        return None


class _NullBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _bar(total: int, unit: str, show: bool):
    if not show or total == 0:
        return _NullBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=f" {unit}", desc=unit.capitalize(), file=sys.stderr, leave=False,
                dynamic_ncols=True)


def _embed(embedder: Embedder, passages: list[Passage], show_progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of every passage's sentence windows, and the passage (position in `passages`) of each."""
    if not passages:
        return np.zeros((0, embedder.dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
    texts: list[str] = []
    owners: list[int] = []
    for i, passage in enumerate(passages):
        windows = passage_windows(passage)
        texts.extend(windows)
        owners.extend([i] * len(windows))
    bar = _bar(len(texts), "extraits", show_progress)
    try:
        vectors = embedder.embed_passages(texts, progress=bar.update)
    finally:
        bar.close()
    return np.asarray(vectors, dtype=np.float32), np.asarray(owners, dtype=np.int64)


def choose_index_type(n_vectors: int) -> str:
    """« flat » (exact) for small collections, « hnsw » (approximate) for large ones."""
    return "flat" if n_vectors <= FLAT_MAX_VECTORS else "hnsw"


def make_vector_index(vectors: np.ndarray, dim: int, kind: str | None = None):
    """A FAISS inner-product index holding `vectors` (row order kept), and its kind and parameters."""
    import faiss

    kind = kind or choose_index_type(len(vectors))
    if kind == "flat":
        index, params = faiss.IndexFlatIP(dim), {}
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        params = {"M": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH}
    else:
        raise ValueError(f"type d'index vectoriel inconnu {kind!r} : flat ou hnsw")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, {"index_type": kind, "index_params": params}


def window_starts(owners: np.ndarray, size: int) -> np.ndarray:
    """starts[r]..starts[r+1] are the vector rows of passage r, owners[v] being the passage row of vector v (stored
    in passage order)."""
    return np.searchsorted(owners, np.arange(size + 1))


def asking_windows(passages: list[Passage], owners: np.ndarray) -> np.ndarray:
    """For each vector (vector v belongs to passage owners[v], in passage order), whether it is a sentence window
    that asks a question (chunking.window_asks; about 35 µs a passage). A passage whose vectors do not match
    today's windows (an index built by another version) has none marked."""
    starts = window_starts(owners, len(passages))
    asking = np.zeros(len(owners), dtype=bool)
    for row, passage in enumerate(passages):
        marks = window_asks(passage)
        if len(marks) == starts[row + 1] - starts[row]:
            asking[starts[row]:starts[row + 1]] = marks
    return asking


def boilerplate_of(passages: list[Passage]) -> list[str]:
    """The sentences (as `plain` text) that at least BOILERPLATE_SHARE of the documents, and at least
    BOILERPLATE_MIN_DOCUMENTS, hold: a collection's disclaimers (« Les Essentiels de l'ANSSI visent à éclairer
    l'ensemble de nos lecteurs… »), a series' mastheads. Counted by hash, a document at a time, so that a large
    index holds one integer a distinct sentence while it counts (about 65 µs a passage)."""
    by_source: dict[str, list[Passage]] = {}
    for passage in passages:
        by_source.setdefault(passage.source, []).append(passage)
    need = max(BOILERPLATE_MIN_DOCUMENTS, BOILERPLATE_SHARE * len(by_source))
    if len(by_source) < need:
        return []
    counts: dict[int, int] = {}
    for group in by_source.values():
        for key in {hash(plain(sentence)) for passage in group for sentence in sentences_of(passage.text)}:
            counts[key] = counts.get(key, 0) + 1
    repeated = {key for key, count in counts.items() if count >= need}
    if not repeated:
        return []
    return sorted({text for passage in passages for text in map(plain, sentences_of(passage.text))
                   if hash(text) in repeated})


def _write_generation(index_dir: Path, settings: Settings, embedder: Embedder, passages: list[Passage],
                      vectors: np.ndarray, owners: np.ndarray, files: dict) -> Path:
    import faiss

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = index_dir / f"gen-{stamp}-{uuid.uuid4().hex[:6]}"
    tmp = index_dir / f".tmp-{folder.name}"
    tmp.mkdir(parents=True)
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[0] else embedder.dim
    index, kind = make_vector_index(vectors, dim)
    faiss.write_index(index, str(tmp / VECTORS))
    np.save(tmp / OWNERS, owners.astype(np.int64), allow_pickle=False)
    passages = mark_pointers(passages)
    np.save(tmp / ASKING, asking_windows(passages, owners.astype(np.int64)), allow_pickle=False)
    with open(tmp / PASSAGES, "w", encoding="utf-8") as handle:
        for passage in passages:
            handle.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
    LexicalIndex.build(passages).save(tmp)
    checksums = {str(p.relative_to(tmp)): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {
        "format": FORMAT_VERSION,
        "fingerprint": settings.fingerprint(),
        "settings": settings.fingerprint_fields(),
        "model": embedder.describe(),
        "dim": dim,
        **kind,
        "passages": len(passages),
        "vectors": int(len(vectors)),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": files,
        "boilerplate": boilerplate_of(passages),
        "checksums": checksums,
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    fsync_tree(tmp)
    os.rename(tmp, folder)
    fsync_dir(index_dir)
    return folder


def publish_generation(index_dir: Path, settings: Settings, embedder: Embedder, passages: list[Passage],
                       vectors: np.ndarray, owners: np.ndarray, files: dict) -> Path:
    """Write a generation of these passages and their window vectors (vector v belongs to passage owners[v]),
    then make it current; `files` is the manifest's per-file record. Returns the generation folder."""
    generation = _write_generation(index_dir, settings, embedder, passages, vectors, owners, files)
    _switch(index_dir, generation)
    return generation


def _switch(index_dir: Path, generation: Path) -> None:
    """Point `current` at the new generation in one atomic rename."""
    tmp_link = index_dir / f".current-{uuid.uuid4().hex[:6]}"
    os.symlink(generation.name, tmp_link)
    os.replace(tmp_link, index_dir / CURRENT)
    fsync_dir(index_dir)


def _cleanup(index_dir: Path, keep: set[str]) -> None:
    """Drop old generations and leftovers of interrupted builds (we hold the lock)."""
    for path in index_dir.iterdir():
        if path.name in keep or path.name in (CURRENT, ".lock"):
            continue
        if path.name.startswith(("gen-", ".tmp-gen-", ".current-")):
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)
