"""The ONNX Runtime backend of the embedder: a local export of the packaged sentence-transformers weights.

The export is made once, from the sha256-verified model folder, into `<models>/onnx/<name>-<sha12>/`, with an
`export.json` that records the source model's sha256 and the export's own sha256. At load the export is checked
against both: a changed source model gets a new export folder, a tampered export is refused. Exporting needs the
`onnx` package; running needs only `onnxruntime` (used by OCR too).
Pooling is the model's: mean over the attention mask, then L2 normalisation.
"""

import fcntl
import json
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np

from rag.core.errors import BadInput, HashMismatch, MissingExtra, ModelError
from rag.core.hashing import HashCache, sha256_file

log = logging.getLogger(__name__)

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def export_dir(models_dir: Path, name: str, source_sha256: str) -> Path:
    """Where the export of one exact source model lives."""
    return Path(models_dir) / "onnx" / f"{name}-{source_sha256[:12]}"


def export_onnx(model_dir: Path, out_dir: Path, source_sha256: str) -> Path:
    """Export the transformer of a sentence-transformers folder to `out_dir/model.onnx` (atomic); returns it."""
    try:
        import onnx  # noqa: F401 - torch's exporter needs it
    except ImportError as exc:
        raise MissingExtra(
            "the onnx embedder backend exports the model once and needs the `onnx` package "
            "(a dependency of grounded-rag): pip install onnx==1.23.2"
        ) from exc
    import torch
    from transformers import AutoModel, AutoTokenizer

    t0 = time.perf_counter()
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    sample = tokenizer(["an example", "a somewhat longer example sentence"], padding=True, return_tensors="pt")

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"model.onnx.tmp{os.getpid()}"
    axes = {k: {0: "batch", 1: "tokens"} for k in [*INPUTS, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks; the export is verified against torch in tests
        torch.onnx.export(
            LastHidden(model),
            tuple(sample[k] for k in INPUTS),
            str(tmp),
            input_names=INPUTS,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    target = out_dir / "model.onnx"
    os.replace(tmp, target)
    meta = {
        "source_sha256": source_sha256,
        "onnx_sha256": sha256_file(target),
        "opset": 17,
        "torch": torch.__version__,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp_meta = out_dir / f"export.json.tmp{os.getpid()}"
    tmp_meta.write_text(json.dumps(meta, indent=1))
    os.replace(tmp_meta, out_dir / "export.json")  # written last: its presence means the export is complete
    log.warning("exported %s to ONNX at %s in %.1fs (once per model version)", out_dir.name, target, time.perf_counter() - t0)
    return target


def verified_export(models_dir: Path, name: str, model_dir: Path, source_sha256: str, cache: HashCache) -> tuple[Path, str]:
    """The export of this exact source model (made now if missing) and its sha256; refuses a mismatch."""
    return verified_export_at(export_dir(models_dir, name, source_sha256), model_dir, source_sha256, cache)


def verified_export_at(
    folder: Path, model_dir: Path, source_sha256: str, cache: HashCache, make: bool = True
) -> tuple[Path, str]:
    """The export in `folder` of the source model `source_sha256` and its sha256, made now if missing and `make`
    (a registered embedder version carries its own export: it is never made at load); refuses a mismatch."""
    if not (folder / "export.json").exists():
        if not make:
            raise ModelError(f"no ONNX export at {folder}: the embedder version is incomplete")
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a") as lock:  # two processes starting together export once
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not (folder / "export.json").exists():
                    export_onnx(model_dir, folder, source_sha256)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    meta = json.loads((folder / "export.json").read_text())
    digest = cache.sha256(folder / "model.onnx")
    if meta.get("source_sha256") != source_sha256 or meta.get("onnx_sha256") != digest:
        raise HashMismatch(
            f"ONNX export at {folder} does not match its record (source {meta.get('source_sha256')}, "
            f"file sha256 {digest}): " + ("delete the folder to re-export it" if make else "refusing it")
        )
    return folder / "model.onnx", digest


class OnnxEncoder:
    """Tokenise with the model's own tokenizer, run the exported transformer, mean-pool, normalise.

    Texts are sorted by length before batching (less padding) and returned in the caller's order.
    """

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int, max_seq_length: int):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # no busy-waiting after a run: the cores go straight to FAISS, BM25 and the answer model (measured under
        # load: single-question embedding p50 29 -> 17 ms, and the search right after it faster)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.max_seq_length = max_seq_length

    def _batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np")
        feeds = {k: enc[k].astype(np.int64) for k in INPUTS}
        hidden = self.session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit-length float32 rows in the order of `texts`."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = None
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            vecs = self._batch([texts[i] for i in idx])
            if out is None:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        if out is None:
            raise BadInput("no texts to encode")
        return out
