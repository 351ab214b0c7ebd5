"""The model files that ship inside the package, how a name finds them, and the metadata of an exported model.

The bundled model ships as `pretrained/<name>.pt` (PyTorch) and `pretrained/<name>.onnx` (ONNX Runtime), with
its word LM as `pretrained/<name>.arpa.gz`. An .onnx file exported by speech2text describes itself: its metadata
(key METADATA_KEY, JSON) holds the frontend settings, the labels, the frame shift and the SHA-256 of the .pt it
was exported from; the bundled .onnx is used only while that checksum matches the bundled .pt.

No torch here: the backends (backends.py) and the Transcriber (transcribe.py) both build on this module.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import CheckpointError

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
DEFAULT_MODEL = "en-small"
METADATA_KEY = "speech2text"
ONNX_METADATA_KEYS = ("feature_config", "labels", "frame_shift_factor")
FEATURE_KEYS = ("sample_rate", "n_mels", "hop_ms", "n_fft", "win_length", "hop_length", "log_floor")


def pretrained_models() -> list[str]:
    """The names of the bundled models (each a .pt file in PRETRAINED_DIR)."""
    return sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))


def resolve_model(path_or_name: str | Path | None) -> Path:
    """A model name (bundled; None: the default) or a file path -> the checkpoint path."""
    if path_or_name is None:
        path_or_name = DEFAULT_MODEL
    if str(path_or_name) in pretrained_models():
        return PRETRAINED_DIR / f"{path_or_name}.pt"
    return Path(path_or_name)


def parse_onnx_metadata(path: str | Path, text: str | None) -> dict | None:
    """The speech2text metadata (a JSON string) of the ONNX file at `path`, checked; None when there is none.

    Metadata that is not JSON, or lacks a key the torch-free runtime reads, is a CheckpointError naming the file.
    """
    if not text:
        return None
    try:
        metadata = json.loads(text)
    except ValueError:
        raise CheckpointError(f"{path}: its speech2text metadata is not JSON (export it again with "
                              "`speech2text export`)") from None
    if not isinstance(metadata, dict):
        metadata = {}
    missing = [key for key in ONNX_METADATA_KEYS if key not in metadata]
    features = metadata.get("feature_config", {})
    if not isinstance(features, dict):
        missing.append("feature_config as an object")
    elif "feature_config" in metadata:
        missing += [f"feature_config.{key}" for key in FEATURE_KEYS if key not in features]
    if missing:
        raise CheckpointError(f"{path}: its speech2text metadata lacks {', '.join(missing)} (export it again with "
                              "`speech2text export`)")
    return metadata


def read_onnx_metadata(path: str | Path) -> dict | None:
    """The checked speech2text metadata of an exported model, or None for an ONNX file without it."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), onnxruntime.SessionOptions(), providers=["CPUExecutionProvider"])
    return parse_onnx_metadata(path, session.get_modelmeta().custom_metadata_map.get(METADATA_KEY))


@functools.cache  # the CLI asks, then the loader: hash the .pt and open the .onnx once, not twice
def bundled_onnx_model(name: str = DEFAULT_MODEL) -> Path | None:
    """The bundled .onnx file of model `name` if it is there and was exported from the bundled .pt; else None."""
    onnx_path, pt_path = PRETRAINED_DIR / f"{name}.onnx", PRETRAINED_DIR / f"{name}.pt"
    if not (onnx_path.is_file() and pt_path.is_file()):
        return None
    metadata = read_onnx_metadata(onnx_path) or {}
    if metadata.get("source_sha256") != hashlib.sha256(pt_path.read_bytes()).hexdigest():
        return None
    return onnx_path


def bundled_language_model(name: str = DEFAULT_MODEL) -> Path:
    """The bundled LM, unpacked once from the package's .arpa.gz into the user's cache folder.

    flashlight-text reads ARPA only from an uncompressed file; gzip keeps the package small.
    """
    packed = PRETRAINED_DIR / f"{name}.arpa.gz"
    if not packed.is_file():
        from .lm import LanguageModelError

        raise LanguageModelError(f"no bundled language model {packed.name}")
    home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "speech2text"
    # A read-only home (a container, a locked-down account) falls back to the temp folder.
    for cache in (home_cache, Path(tempfile.gettempdir()) / f"speech2text-{os.getuid()}"):
        target = cache / f"{name}-{packed.stat().st_size}.arpa"  # the size tells package versions apart
        if target.is_file():
            return target
        try:
            cache.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            with gzip.open(packed, "rb") as source, open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            partial.replace(target)  # atomic: a concurrent or interrupted unpack never leaves half a file
            return target
        except OSError:
            continue
    raise OSError(f"cannot unpack the bundled language model into {home_cache} or the temp folder")
