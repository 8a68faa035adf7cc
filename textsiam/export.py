"""int8 encoding for transformer towers: an ONNX export of the tower with int8 weights, run by onnxruntime.

``export_int8(model_dir)`` writes ``onnx/model_qint8.onnx`` into a model directory: the transformer exported
to ONNX (inputs ``input_ids``, ``attention_mask``[, ``token_type_ids``], output ``last_hidden_state``, the
layout of Hugging Face Optimum's exports) with its weights quantised to int8 per channel by onnxruntime's
dynamic quantisation. The directory is otherwise untouched: its safetensors weights still load in plain
``SentenceTransformer(path)``.

``use_int8(model, model_dir)`` makes a loaded model encode through that file when it is there: the
transformer module's model is swapped for an onnxruntime session, while tokenisation, pooling and every
textsiam code path stay sentence-transformers' own. It needs ``onnxruntime`` (``pip install
'textsiam[int8]'``); without it the model stays in torch fp32, with a warning.

Why not sentence-transformers' own ``export_dynamic_quantized_onnx_model``: it needs Hugging Face Optimum,
and no Optimum release installs next to transformers 5 (see docs/scoring.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from . import runtime
from .errors import TextsiamError
from .model import SiameseModel, load

logger = logging.getLogger("textsiam")

INT8_FILE = "onnx/model_qint8.onnx"
OUTPUT_NAME = "last_hidden_state"
ONNX_OPSET = 17


def export_int8(model_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``MODEL_DIR/onnx/model_qint8.onnx``, the int8 ONNX export of the model's transformer tower."""
    model_dir = Path(model_dir)
    target = model_dir / INT8_FILE
    if target.exists() and not overwrite:
        raise TextsiamError(f"{target} already exists; pass --overwrite to export again.")
    model = load(model_dir, int8=False)  # export the torch weights, not an earlier export
    transformer = _transformer_of(model, str(model_dir))
    _, quantization = _onnxruntime()
    input_names = _input_names(transformer)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        _export_fp32(transformer, input_names, fp32)
        quantized = Path(tmp) / "model_qint8.onnx"
        root = logging.getLogger()
        level, root.level = root.level, logging.ERROR  # onnxruntime's advice to pre-process, on the root logger
        try:
            quantization.quantize_dynamic(str(fp32), str(quantized), weight_type=quantization.QuantType.QInt8,
                                          per_channel=True)
        finally:
            root.setLevel(level)
        os.replace(quantized, target)
    logger.info("%s: int8 ONNX export written (%.0f MB).", target, target.stat().st_size / 1e6)
    return target


def use_int8(model: SiameseModel, model_dir: str | Path) -> bool:
    """Encode with ``model_dir``'s int8 export when it has one and onnxruntime is installed; say so in one line.

    Returns whether the model now encodes through the export (calling it again changes nothing).
    """
    path = Path(model_dir) / INT8_FILE
    if not path.is_file():
        return False
    try:
        import onnxruntime
    except ImportError:
        logger.warning("%s has an int8 export (%s) but onnxruntime is not installed (pip install "
                       "'textsiam[int8]'); encoding in torch fp32.", model_dir, INT8_FILE)
        return False
    transformer = _transformer_of(model, str(model_dir))
    if isinstance(transformer.model, OnnxTransformer):
        return True  # already swapped in
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = runtime.threads()
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    transformer.model = OnnxTransformer(session, transformer.model.config, digest)
    logger.info("%s: encoding with its int8 ONNX export (%s, onnxruntime).", model_dir, INT8_FILE)
    return True


class OnnxTransformer(torch.nn.Module):
    """Stands in for the Hugging Face model inside sentence-transformers' Transformer module: same inputs,
    ``last_hidden_state`` out, computed by an onnxruntime session."""

    def __init__(self, session: Any, config: Any, digest: bytes) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.input_names = [i.name for i in session.get_inputs()]
        # The weights live in the session, not in the state dict: this hash of the ONNX file stands in for them,
        # so that dedup's embedding cache (keyed by the state dict) tells two exported models apart.
        self.register_buffer("onnx_digest", torch.tensor(list(digest), dtype=torch.uint8))

    def forward(self, **features: Any) -> dict[str, torch.Tensor]:
        feeds = {name: features[name].cpu().numpy() for name in self.input_names}
        return {OUTPUT_NAME: torch.from_numpy(self.session.run([OUTPUT_NAME], feeds)[0])}


def _transformer_of(model: SiameseModel, source: str):
    from sentence_transformers.base.modules import Transformer

    first = model.encoder[0]
    if not isinstance(first, Transformer):
        raise TextsiamError(f"{source}: int8 export is for transformer (bert) towers; this model starts with "
                            f"{type(first).__name__}, which has no transformer to quantise.")
    return first


def _onnxruntime():
    try:
        import onnx  # noqa: F401  (quantize_dynamic reads and writes the graph with it)
        import onnxruntime
        import onnxruntime.quantization as quantization
    except ImportError:
        raise TextsiamError("int8 export needs onnxruntime and onnx: pip install 'textsiam[int8]'.") from None
    return onnxruntime, quantization


def _input_names(transformer) -> list[str]:
    names = list(getattr(transformer.tokenizer, "model_input_names", ["input_ids", "attention_mask"]))
    return [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in names]


def _export_fp32(transformer, input_names: list[str], path: Path) -> None:
    class Exported(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(input_names, inputs, strict=True)), return_dict=True).last_hidden_state

    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in input_names)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*input_names, OUTPUT_NAME]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(Exported(transformer.model).eval(), example, str(path), input_names=input_names,
                          output_names=[OUTPUT_NAME], dynamic_axes=axes, opset_version=ONNX_OPSET, dynamo=False)
