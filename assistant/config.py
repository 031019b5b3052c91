"""Settings: paths, model, chunking and search knobs, with ASSISTANT_* overrides.

The fingerprint covers every setting that changes what is stored in an index;
an index built under another fingerprint is refused at load time.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

# Bump when readers, chunking or the lexical analyzer change what they produce.
PIPELINE_VERSION = "12"

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# When an answer is uncertain (answer.Certainty): (minimum confidence, coverage weight, maximum similarity, length
# weight), learnt by `assistant eval` on the blind set's dev half (eval/results.md, « Réglages appris »); 0.0: never
# uncertain.
CERTAINTY = {"e5-small": (4.887, 3.0, 0.86, 0.5), "use-multilingual": (0.0, 0.0, 0.0, 0.0),
             "hash": (0.0, 0.0, 0.0, 0.0)}


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assistant-ie"


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or a search, with sane defaults."""

    index_dir: Path = PROJECT_ROOT / "index"
    corpus_dirs: tuple[Path, ...] = (PROJECT_ROOT / "corpus",)
    cache_dir: Path = field(default_factory=_default_cache_dir)
    model: str = "e5-small"
    # How e5-small runs (embed.ENCODERS): "onnx" (ONNX Runtime, float), "torch" (sentence-transformers, float),
    # "onnx-int8". ONNX float gives the torch vectors (cosine ≥ 0.9999, same PIAF scores) with queries ~3× faster;
    # int8 cost the shipped retriever 0.006 of Recall@1 on PIAF (docs/evaluation-and-speed.md).
    encoder: str = "onnx"
    chunk_size: int = 900
    chunk_overlap: int = 120
    k: int = 5
    # Weight of the dense score in the fused score (the rest is lexical).
    dense_weight: float = 0.7
    # How many passages each retriever proposes before fusion.
    candidates: int = 100
    # Per-file limits: a larger file is reported as failed, the build goes on.
    max_file_mb: float = 50.0
    max_pages: int = 2000
    # Each file is read in a worker process, stopped past this time or memory.
    max_read_seconds: float = 60.0
    max_read_memory_mb: int = 2048
    # Questions per minute from one client address (0: no limit), for the HTTP API and the chat.
    rate_limit: int = 120
    # Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client (proxies.py); none by
    # default: a header anyone can write is then never read.
    trusted_proxies: tuple[str, ...] = ()

    def certainty(self) -> tuple[float, float, float, float]:
        """(minimum confidence, coverage weight, maximum similarity, length weight): answer.Certainty's settings."""
        return CERTAINTY.get(self.model, (0.0, 0.0, 0.0, 0.0))

    def fingerprint_fields(self) -> dict:
        """The settings that change what an index contains."""
        fields = {
            "pipeline": PIPELINE_VERSION,
            "model": self.model,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
        }
        # int8 vectors never mix with float ones; the two float encoders make the same vectors and share indexes.
        if self.model == "e5-small" and self.encoder == "onnx-int8":
            fields["encoder"] = self.encoder
        return fields

    def fingerprint(self) -> str:
        """A short hash of fingerprint_fields()."""
        blob = json.dumps(self.fingerprint_fields(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_overrides(self, **changes) -> "Settings":
        """A copy with the given fields changed (None values ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def describe(self) -> dict:
        """JSON-friendly view, for manifests and health checks."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
            elif isinstance(value, tuple):
                out[key] = [str(v) for v in value]
        return out


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def load_settings(**overrides) -> Settings:
    """Defaults, then ASSISTANT_* environment variables, then explicit overrides."""
    env = {
        "index_dir": _env("ASSISTANT_INDEX_DIR"),
        "cache_dir": _env("ASSISTANT_CACHE_DIR"),
        "model": _env("ASSISTANT_MODEL"),
        "encoder": _env("ASSISTANT_ENCODER"),
    }
    settings = Settings()
    settings = settings.with_overrides(
        **{k: (Path(v) if k.endswith("_dir") and v else v) for k, v in env.items()}
    )
    numbers = {"chunk_size": int, "chunk_overlap": int, "k": int, "max_file_mb": float, "max_pages": int,
               "max_read_seconds": float, "max_read_memory_mb": int, "rate_limit": int}
    for key, kind in numbers.items():
        value = _env(f"ASSISTANT_{key.upper()}")
        if value is not None:
            try:
                settings = replace(settings, **{key: kind(value)})
            except ValueError:
                raise ValueError(
                    f"ASSISTANT_{key.upper()}={value!r} n'est pas un nombre : corrigez ou supprimez cette variable."
                ) from None
    proxies = _env("ASSISTANT_TRUSTED_PROXIES")
    if proxies is not None:
        from .proxies import TrustedProxies

        TrustedProxies.parse(proxies)  # a mistyped entry is refused here, with the entry and the fix
        settings = replace(settings, trusted_proxies=tuple(p.strip() for p in proxies.split(",") if p.strip()))
    return settings.with_overrides(**overrides)
