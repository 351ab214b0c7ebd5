"""Text in, a multi-voice, augmented speech corpus out: 16 kHz FLAC plus JSON-lines manifests.

Three offline engines speak the text: espeak-ng (formant synthesis: 8 English
accents x many variants x pitch x rate), flite (kal16, awb, rms, slt) and
festival (kal and ked diphones, the slt HTS voice; run in batch mode, one
process for many sentences, because a festival start costs more than its
speech). Behind them are five recorded speakers (kal, ked, awb, rms, slt) and
espeak-ng's synthetic ones.

A realism pass then makes the clean engine output sound like a microphone in a
room: tempo and pitch (sox), room reverberation (pyroomacoustics' image-method
rooms), background noise at a random SNR, band-limiting to an 8 kHz telephone
line or an MP3/Ogg round trip, random gain, and leading and trailing silence.
Every choice is drawn from the seed when the corpus is planned and written into
the manifest row, so a corpus can be re-made exactly.

`holdout_voices` keeps named speakers or voices out of training; they speak
only the held-out sentences, which no training voice speaks, so the held-out
split measures an unseen voice on unseen text.

Resumable: the plan depends only on the inputs and the seed, and a finished
FLAC file is never synthesized again.
"""

from __future__ import annotations

import functools
import io
import json
import random
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile

from .manifest import write_manifest
from .errors import Speech2TextError

SAMPLE_RATE = 16000

# fmt: off
ESPEAK_ACCENTS = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc",
)
ESPEAK_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3",
    "klatt4", "Alex", "Alicia", "Andy", "Annie", "adam", "anika", "aunty", "belinda", "benjamin", "caleb", "david",
    "edward", "grandma", "grandpa", "linda", "max", "michel", "paul", "robert", "steph", "travis", "victor",
    "whisperf",
)
# (engine, voice, recorded speaker)
RECORDED_VOICES = (
    ("flite", "kal16", "kal"), ("flite", "awb", "awb"), ("flite", "rms", "rms"), ("flite", "slt", "slt"),
    ("festival", "kal_diphone", "kal"), ("festival", "ked_diphone", "ked"), ("festival", "cmu_us_slt_arctic_hts", "slt"),
)
# fmt: on
FESTIVAL_BATCH = 24  # sentences per festival process
ROOMS = 64  # simulated rooms in the bank; each worker builds those it meets once
# Seconds of clean speech per character of text: anything outside is a failed synthesis.
PLAUSIBLE_S_PER_CHAR = (0.02, 0.3)
# To plan a corpus by hours: seconds of speech per character of text, and the silence and room tail
# that the realism pass adds per utterance. Fitted to a 6.95 h corpus (4,964 utterances), rounded down
# so that a plan of H hours gives at least H.
SECONDS_PER_CHAR = 0.060
REALISM_PAD_S = 0.9


class SynthesisError(Speech2TextError, RuntimeError):
    pass


@dataclass(frozen=True)
class RealismConfig:
    tempo: tuple[float, float] = (0.85, 1.15)
    pitch_cents: tuple[float, float] = (-300.0, 300.0)
    reverb_prob: float = 0.4
    rt60_s: tuple[float, float] = (0.15, 0.7)
    noise_prob: float = 0.6
    snr_db: tuple[float, float] = (5.0, 35.0)
    channel_probs: tuple[tuple[str, float], ...] = (("clean", 0.6), ("telephone", 0.15), ("mp3", 0.15), ("ogg", 0.1))
    gain_db: tuple[float, float] = (-18.0, 0.0)
    silence_s: tuple[float, float] = (0.05, 0.8)


NEURAL_ENGINES = ("piper", "kokoro")  # speech2text.neural_voices, from the [voices] extra
KOKORO_BLENDS = 24  # random Kokoro mixtures in the catalog, beside the 5 packs and their 10 pairs


def default_engines() -> list[str]:
    """What a plan uses unless told: the installed engine programs. The neural voices are 10-50x slower
    (Kokoro speaks 2-3.5x real time on 2 cores), so they speak only when named (`--engines`)."""
    return [engine for engine in available_engines() if engine not in NEURAL_ENGINES]


def available_engines() -> list[str]:
    from .neural_voices import installed

    programs = [engine for engine in ("espeak-ng", "flite", "festival") if shutil.which(engine)]
    # The neural voices take their phonemes from the espeak-ng program.
    neural = [engine for engine, ok in installed().items() if ok] if "espeak-ng" in programs else []
    return programs + neural


def voice_catalog(engines: list[str], kokoro_blends: int = KOKORO_BLENDS, seed: int = 0) -> list[dict]:
    """Every base voice of the installed engines, as {engine, voice, speaker} (Kokoro voices add their pack
    weights). A Kokoro blend's voice id names its packs and shares, so the same id is always the same voice."""
    voices = [{"engine": e, "voice": v, "speaker": s} for e, v, s in RECORDED_VOICES if e in engines]
    if "espeak-ng" in engines:
        voices += [
            {"engine": "espeak-ng", "voice": f"{a}+{v}", "speaker": f"espeak:{v}"}
            for a in ESPEAK_ACCENTS
            for v in ESPEAK_VARIANTS
        ]
    if "piper" in engines:
        from .neural_voices import PIPER_VOICE

        voices.append({"engine": "piper", "voice": PIPER_VOICE, "speaker": "joe"})
    if "kokoro" in engines:
        from .neural_voices import blend_id, kokoro_voices

        blends = {blend_id(weights): weights for weights in kokoro_voices(kokoro_blends, seed)}
        voices += [{"engine": "kokoro", "voice": name, "speaker": name, "weights": w} for name, w in blends.items()]
    return voices


def is_held_out(voice: dict, holdout: set[str]) -> bool:
    """A voice is held out when its speaker, its voice name or engine:voice is named; a Kokoro blend is
    held out when any of its packs is ('jf_alpha' or 'alpha' holds out every blend with alpha in it)."""
    names = {voice["speaker"], voice["voice"], f"{voice['engine']}:{voice['voice']}"}
    for pack in voice.get("weights", {}):
        names |= {pack, pack.split("_", 1)[-1], f"kokoro:{pack}"}
    return bool(names & holdout)


def _with_settings(voice: dict, rng: random.Random, neutral: bool = False) -> dict:
    """A voice with its per-utterance settings drawn (rate, pitch, pace, prosody); `neutral` gives the
    engine's defaults, for the held-out voices."""
    engine = voice["engine"]
    if engine == "espeak-ng":
        return {**voice, "pitch": rng.randint(15, 85), "rate": rng.randint(125, 215)}
    if engine == "piper":
        if neutral:
            return {**voice, "noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8}
        return {
            **voice,
            "noise_scale": round(rng.uniform(0.4, 0.9), 2),
            "length_scale": round(rng.uniform(0.85, 1.25), 2),
            "noise_w": round(rng.uniform(0.5, 1.0), 2),
        }
    if engine == "kokoro":
        return {**voice, "speed": 1.0 if neutral else round(rng.uniform(0.85, 1.2), 2)}
    return {**voice, "stretch": 1.0 if neutral else round(rng.uniform(0.85, 1.2), 2)}


def _voice_group(voice: dict) -> str:
    """The pools that `engine_weights` weighs: flite and festival share one ("recorded")."""
    return "recorded" if voice["engine"] in ("flite", "festival") else voice["engine"]


def random_realism(config: RealismConfig | None, rng: random.Random) -> dict:
    if config is None:
        return {}
    channels, weights = zip(*config.channel_probs)
    return {
        "tempo": round(rng.uniform(*config.tempo), 3),
        "pitch_cents": round(rng.uniform(*config.pitch_cents)),
        "rir": rng.randrange(ROOMS) if rng.random() < config.reverb_prob else None,
        "snr_db": round(rng.uniform(*config.snr_db), 1) if rng.random() < config.noise_prob else None,
        "noise": rng.choice(["white", "pink", "brown", "hum"]),
        "channel": rng.choices(channels, weights)[0],
        "gain_db": round(rng.uniform(*config.gain_db), 1),
        "lead_s": round(rng.uniform(*config.silence_s), 2),
        "trail_s": round(rng.uniform(*config.silence_s), 2),
        "seed": rng.randrange(2**31),
    }


# The splits plan_corpus may make, each written as OUT/SPLIT.jsonl.
SPLITS = ("train", "dev", "heldout")


def plan_corpus(
    sentences: list[str],
    out: Path,
    *,
    hours: float | None = None,
    from_hours: float = 0.0,
    copies: int = 1,
    holdout_voices: set[str] = frozenset(),
    heldout_sentences: int = 0,
    dev_sentences: int = 0,
    engines: list[str] | None = None,
    realism: RealismConfig | None = RealismConfig(),
    engine_weights: dict[str, float] | None = None,
    kokoro_blends: int = KOKORO_BLENDS,
    weak_forms: float = 0.0,
    seed: int = 0,
) -> dict[str, list[dict]]:
    """Jobs per split, deterministic in the seed: "train"; "dev", training voices on sentences kept out of
    training (to choose epochs and LM weights); "heldout", the held-out voices on sentences of their own.

    Training sentences are spoken by `copies` random training voices each, or, with
    `hours`, cycled through with fresh voices until the planned audio reaches that
    many hours; with `from_hours`, the training jobs planned before that many hours are left out (an
    earlier release heard them) and the rest keep the names a whole plan gives them. Each utterance draws a pool, then a voice in it: the pools are "recorded" (flite and
    festival, five recorded speakers), "espeak-ng" (its many synthetic voices), "piper" and "kokoro"
    (neural voices trained on real people), drawn with `engine_weights` (default: equal). `weak_forms`: the
    share of unstressed function words that the training voices' neural engines say in their weak forms
    ("yer" for "your": neural_voices.weaken); recorded in each voice.
    """
    rng = random.Random(seed)
    engines = engines or default_engines()
    catalog = voice_catalog(engines, kokoro_blends, seed)
    train_voices = [v for v in catalog if not is_held_out(v, holdout_voices)]
    held_voices = [v for v in catalog if is_held_out(v, holdout_voices)]
    if holdout_voices and not held_voices:
        raise SynthesisError(f"no installed voice matches --holdout-voices {', '.join(sorted(holdout_voices))}")
    if not train_voices:
        raise SynthesisError("no training voice left: install espeak-ng, flite or festival, or hold out fewer voices")
    pools = defaultdict(list)
    for voice in train_voices:
        pools[_voice_group(voice)].append(voice)
    weights = engine_weights or {}
    unknown = set(weights) - {"recorded", "espeak-ng", *NEURAL_ENGINES}
    if unknown:
        raise SynthesisError(f"engine weights: no voice pool named {', '.join(sorted(unknown))}")
    pool_names = [name for name in pools if weights.get(name, 1.0) > 0]
    if not pool_names:
        raise SynthesisError("engine weights: every installed voice pool has weight 0")
    pool_weights = [weights.get(name, 1.0) for name in pool_names]
    sentences = list(dict.fromkeys(sentences))
    rng.shuffle(sentences)
    n_held = min(heldout_sentences, len(sentences) // 2) if held_voices else 0
    n_dev = min(dev_sentences, (len(sentences) - n_held) // 2)
    held_text, dev_text = sentences[:n_held], sentences[n_held : n_held + n_dev]
    train_text = sentences[n_held + n_dev :]
    if not train_text:
        raise SynthesisError("no sentences to synthesize")

    def train_voice() -> dict:
        pool = pools[rng.choices(pool_names, pool_weights)[0]]
        voice = _with_settings(rng.choice(pool), rng)
        return {**voice, "weak_forms": weak_forms} if weak_forms > 0 and voice["engine"] in NEURAL_ENGINES else voice

    # Dev and held-out jobs are drawn first, so that a plan for more hours only adds training jobs:
    # a corpus grows by running the same command with a larger --hours, keeping every file made.
    dev = [{"text": text, "voice": train_voice(), "realism": random_realism(realism, rng)} for text in dev_text]
    held = [
        {"text": text, "voice": _with_settings(rng.choice(held_voices), rng, neutral=True), "realism": {}}
        for text in held_text
    ]
    train, starts_s = [], []
    if hours is not None:
        planned_s, position = 0.0, 0
        while planned_s < hours * 3600:
            text = train_text[position % len(train_text)]
            position += 1
            train.append({"text": text, "voice": train_voice(), "realism": random_realism(realism, rng)})
            starts_s.append(planned_s)
            planned_s += SECONDS_PER_CHAR * len(text) + (REALISM_PAD_S if realism else 0.0)
    else:
        for text in train_text:
            for _ in range(copies):
                train.append({"text": text, "voice": train_voice(), "realism": random_realism(realism, rng)})
    splits = {"train": train, **({"dev": dev} if dev else {}), **({"heldout": held} if held else {})}
    for name, jobs in splits.items():
        for i, job in enumerate(jobs):
            job["audio"] = str(out / "audio" / name / f"{i // 1000:03d}" / f"{name}-{i:06d}.flac")
    if from_hours > 0:
        splits["train"] = [job for job, start_s in zip(train, starts_s) if start_s >= from_hours * 3600]
    return splits


# --- speaking ------------------------------------------------------------------------------------


def _engine_command(job: dict, raw: Path) -> list[str]:
    voice = job["voice"]
    if voice["engine"] == "espeak-ng":
        return [
            "espeak-ng",
            "-v",
            voice["voice"],
            "-p",
            str(voice["pitch"]),
            "-s",
            str(voice["rate"]),
            "-w",
            str(raw),
            job["text"],
        ]
    return [
        "flite",
        "-voice",
        voice["voice"],
        "--setf",
        f"duration_stretch={voice['stretch']}",
        "-t",
        job["text"],
        "-o",
        str(raw),
    ]


def _festival_batch(jobs: list[dict], tmp: Path) -> list[Path]:
    """One festival process speaks many jobs; returns the raw WAV path of each (missing where it failed).

    Festival stops a script at its first error, so the jobs after a failed one go to a new process.
    """
    raws = [tmp / f"raw{i}.wav" for i in range(len(jobs))]
    start = 0
    while start < len(jobs):
        lines = []
        for job, raw in zip(jobs[start:], raws[start:]):
            text = job["text"].replace("\\", " ").replace('"', " ")
            lines.append(f"(voice_{job['voice']['voice']})")
            lines.append(f"(Parameter.set 'Duration_Stretch {job['voice']['stretch']})")
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{text}")) "{raw}" \'riff)')
        script = tmp / "script.scm"
        script.write_text("\n".join(lines) + "\n")
        try:
            subprocess.run(["festival", "--batch", str(script)], capture_output=True, timeout=60 + 20 * len(lines))
        except subprocess.TimeoutExpired:
            pass
        failed = next((i for i in range(start, len(jobs)) if not raws[i].exists()), None)
        if failed is None:
            break
        start = failed + 1
    return raws


def _to_16k(raw: Path, realism: dict, tmp: Path) -> np.ndarray:
    """sox: any engine's WAV -> 16 kHz mono float, with tempo and pitch changed. -G guards against clipping."""
    out = tmp / "clean.wav"
    effects = []
    if realism.get("tempo", 1.0) != 1.0:
        effects += ["tempo", "-s", str(realism["tempo"])]
    if realism.get("pitch_cents"):
        effects += ["pitch", str(realism["pitch_cents"])]
    subprocess.run(
        ["sox", "-G", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(out), *effects],
        check=True,
        capture_output=True,
    )
    samples, _ = soundfile.read(out, dtype="float32")
    return samples


@functools.cache
def room_impulse_response(index: int) -> np.ndarray:
    """Room `index` of a fixed bank: a random shoebox room, source and microphone (pyroomacoustics)."""
    import pyroomacoustics

    rng = np.random.default_rng(index)
    dims = rng.uniform([3.0, 3.0, 2.4], [9.0, 7.0, 3.5])
    rt60 = rng.uniform(*RealismConfig.rt60_s)
    absorption, max_order = pyroomacoustics.inverse_sabine(rt60, dims)
    # A capped reflection order keeps a room under 0.1 s to build; the late tail it drops is quiet.
    room = pyroomacoustics.ShoeBox(
        dims, fs=SAMPLE_RATE, materials=pyroomacoustics.Material(absorption), max_order=min(max_order, 12)
    )
    margin = 0.5
    room.add_source(rng.uniform(margin, dims - margin))
    room.add_microphone(rng.uniform(margin, dims - margin))
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float32)
    return rir / np.abs(rir).max()


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "hum":
        t = np.arange(n) / SAMPLE_RATE
        base = rng.choice([50.0, 60.0])
        return sum(
            np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 6)
        ) + 0.1 * rng.standard_normal(n)
    white = rng.standard_normal(n)
    if kind == "white":
        return white
    # Colored noise by shaping the white spectrum: 1/f power (pink) or 1/f^2 (brown).
    spectrum = np.fft.rfft(white)
    f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 20.0)
    return np.fft.irfft(spectrum / (f ** (0.5 if kind == "pink" else 1.0)), n)


def _channel(samples: np.ndarray, channel: str) -> np.ndarray:
    if channel == "telephone":
        import scipy.signal

        band = scipy.signal.butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
        narrow = scipy.signal.resample_poly(scipy.signal.sosfilt(band, samples), 1, 2)  # 8 kHz line
        return scipy.signal.resample_poly(narrow, 2, 1)[: len(samples)].astype(np.float32)
    if channel in ("mp3", "ogg"):
        buffer = io.BytesIO()
        fmt, subtype = ("MP3", "MPEG_LAYER_III") if channel == "mp3" else ("OGG", "VORBIS")
        soundfile.write(buffer, samples, SAMPLE_RATE, format=fmt, subtype=subtype)
        buffer.seek(0)
        decoded, _ = soundfile.read(buffer, dtype="float32")
        return np.pad(decoded, (0, max(0, len(samples) - len(decoded))))[: len(samples)]
    return samples


def apply_realism(clean: np.ndarray, realism: dict) -> np.ndarray:
    """Room, silence, noise, channel and gain, in the order sound meets them."""
    rng = np.random.default_rng(realism["seed"])
    x = clean.astype(np.float64)
    if realism["rir"] is not None:
        import scipy.signal

        x = scipy.signal.fftconvolve(x, room_impulse_response(realism["rir"]))[: len(x) + SAMPLE_RATE // 4]
    x = np.pad(x, (int(realism["lead_s"] * SAMPLE_RATE), int(realism["trail_s"] * SAMPLE_RATE)))
    speech_power = np.mean(clean.astype(np.float64) ** 2) + 1e-12
    if realism["snr_db"] is not None:
        noise = _noise(realism["noise"], len(x), rng)
        x = x + noise * np.sqrt(speech_power / (np.mean(noise**2) + 1e-12) / 10 ** (realism["snr_db"] / 10))
    else:  # a real microphone is never digitally silent
        x = x + rng.standard_normal(len(x)) * np.sqrt(speech_power) * 10 ** (-60 / 20)
    x = _channel(x.astype(np.float32), realism["channel"])
    peak = np.abs(x).max() + 1e-9
    return (x / peak * 0.95 * 10 ** (realism["gain_db"] / 20)).astype(np.float32)


def _finish(job: dict, raw: Path, tmp: Path) -> dict:
    """Convert, check and write one utterance; returns its manifest row or {"failed": reason}."""
    if not raw.exists() or raw.stat().st_size < 100:
        return {"failed": "no audio"}
    try:
        clean = _to_16k(raw, job["realism"], tmp)
    except (subprocess.CalledProcessError, RuntimeError) as error:
        return {"failed": f"conversion: {error}"}
    clean_s = len(clean) / SAMPLE_RATE
    if clean.size == 0 or np.abs(clean).max() < 1e-4:
        return {"failed": "silent"}
    low, high = PLAUSIBLE_S_PER_CHAR
    if not low * len(job["text"]) <= clean_s <= high * len(job["text"]) + 0.5:
        return {"failed": "implausible duration"}
    audio = apply_realism(clean, job["realism"]) if job["realism"] else clean
    out = Path(job["audio"])
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.flac")
    with soundfile.SoundFile(partial, "w", SAMPLE_RATE, 1, subtype="PCM_16") as f:
        f.comment = job["text"]  # what it says, so that a later run with other text never keeps it (_is_done)
        f.write(audio)
    partial.rename(out)  # atomic: a killed run never leaves a half-written file behind
    return _row(job)


def _row(job: dict) -> dict:
    info = soundfile.info(job["audio"])
    return {
        "audio": job["audio"],
        "text": job["text"],
        "duration": round(info.frames / info.samplerate, 3),
        "voice": job["voice"],
        "realism": job["realism"],
    }


def _neural_speak(job: dict) -> tuple[np.ndarray, int]:
    from . import neural_voices

    voice = job["voice"]
    weak = {"weak_forms": voice.get("weak_forms", 0.0), "seed": f"{job['text']}|{voice['voice']}"}
    if voice["engine"] == "piper":
        audio, rate = neural_voices.piper_speak(
            job["text"], voice["noise_scale"], voice["length_scale"], voice["noise_w"], **weak
        )
    else:
        audio, rate = neural_voices.kokoro_speak(job["text"], voice["weights"], voice["speed"], **weak)
    return np.clip(audio, -1.0, 1.0), rate


def _is_done(job: dict) -> bool:
    """A file from an earlier run counts only if it says the job's text: a grammar or text corpus that
    changed since gives some file names other sentences, and their old audio would be mislabelled.
    Files written before texts were recorded in them (no comment) are kept as they are."""
    path = Path(job["audio"])
    if not path.exists():
        return False
    with soundfile.SoundFile(path) as f:
        said = f.comment
    return not said or said == job["text"]


def synthesize_unit(jobs: list[dict]) -> list[dict]:
    """Speak a unit of work: one espeak-ng/flite job, or a batch of festival jobs."""
    done = [_is_done(job) for job in jobs]
    todo = [job for job, ok in zip(jobs, done) if not ok]
    rows = [_row(job) for job, ok in zip(jobs, done) if ok]
    if not todo:
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if todo[0]["voice"]["engine"] == "festival":
            raws = _festival_batch(todo, tmp)
        elif todo[0]["voice"]["engine"] in NEURAL_ENGINES:
            raws = [tmp / "raw.wav"]
            try:
                soundfile.write(raws[0], *_neural_speak(todo[0]), subtype="PCM_16")
            except Exception as error:  # noqa: BLE001 - one voice's failure is counted, the corpus goes on
                return rows + [{"failed": f"engine error: {type(error).__name__}: {error}", "job": todo[0]}]
        else:
            raws = [tmp / "raw.wav"]
            try:
                subprocess.run(_engine_command(todo[0], raws[0]), check=True, capture_output=True, timeout=60)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
                return rows + [{"failed": "engine error", "job": todo[0]}]
        for job, raw in zip(todo, raws):
            result = _finish(job, raw, tmp)
            rows.append(result | {"job": job} if "failed" in result else result)
    return rows


def _units(jobs: list[dict]) -> list[list[dict]]:
    festival = [job for job in jobs if job["voice"]["engine"] == "festival"]
    others = [[job] for job in jobs if job["voice"]["engine"] != "festival"]
    by_voice = defaultdict(list)
    for job in festival:
        by_voice[job["voice"]["voice"]].append(job)
    batches = [
        group[i : i + FESTIVAL_BATCH] for group in by_voice.values() for i in range(0, len(group), FESTIVAL_BATCH)
    ]
    # Festival batches first: they are the longest units, so the pool ends evenly.
    return batches + others


def _voice_key(voice: dict) -> str:
    return voice["speaker"] if voice["engine"] == "espeak-ng" else f"{voice['engine']}:{voice['speaker']}"


@dataclass
class SplitReport:
    utterances: int
    hours: float
    failed: Counter
    hours_per_voice: dict[str, float]
    wall_s: float


def synthesize_corpus(
    splits: dict[str, list[dict]], out: Path, workers: int = 2, progress: bool = True
) -> dict[str, SplitReport]:
    """Speak every planned job in parallel; write OUT/SPLIT.jsonl, OUT/summary.json and OUT/vocabulary.txt.

    vocabulary.txt lists every word of the corpus, one per line: for a command set it is the
    closed vocabulary that `speech2text transcribe --words` takes.
    """
    from tqdm import tqdm

    reports = {}
    for name, jobs in splits.items():
        started = time.perf_counter()
        units = _units(jobs)
        rows, failed = [], Counter()
        with (
            Pool(workers) as pool,
            tqdm(total=len(jobs), desc=f"synthesize {name}", unit="utt", disable=not progress) as bar,
        ):
            for results in pool.imap_unordered(synthesize_unit, units):
                for result in results:
                    if "failed" in result:
                        failed[result["failed"].split(":")[0]] += 1
                    else:
                        rows.append(result)
                bar.update(len(results))
        rows.sort(key=lambda row: row["audio"])
        if not rows:
            raise SynthesisError(f"{name}: every synthesis failed ({dict(failed)})")
        write_manifest(out / f"{name}.jsonl", rows)
        per_voice = defaultdict(float)
        for row in rows:
            per_voice[_voice_key(row["voice"])] += row["duration"] / 3600
        reports[name] = SplitReport(
            len(rows),
            sum(r["duration"] for r in rows) / 3600,
            failed,
            dict(sorted(per_voice.items())),
            time.perf_counter() - started,
        )
    words = sorted({word for jobs in splits.values() for job in jobs for word in job["text"].split()})
    (out / "vocabulary.txt").write_text("\n".join(words) + "\n")
    summary = {name: {**vars(r), "failed": dict(r.failed)} for name, r in reports.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return reports
