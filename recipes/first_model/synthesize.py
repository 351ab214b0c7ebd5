"""Synthesize multi-voice training speech offline with espeak-ng, flite and festival.

Writes 16 kHz mono FLAC files and a JSON-lines manifest per split. Resumable: a
file that already exists is not synthesized again. The voice "slt" (flite slt and
festival's slt HTS voice, the same recorded speaker) is kept out of training and
speaks only held-out sentences, so the test split measures an unseen voice on
unseen text.

    python recipes/first_model/synthesize.py --out work/first_model/synth
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from multiprocessing import Pool
from pathlib import Path

import soundfile
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from queries import expand  # noqa: E402
from speech2text.data import write_manifest  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402

SHARED_TEXT = Path(__file__).resolve().parents[3] / "shared" / "data" / "text"
SHARED_LJ = Path(__file__).resolve().parents[3] / "shared" / "data" / "ljspeech-part" / "metadata.csv"

ESPEAK_ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan"]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "Andy", "Alicia", "Annie", "david", "edward"]
TRAIN_NATURAL = [("flite", "kal16"), ("flite", "awb"), ("flite", "rms"),
                 ("festival", "kal_diphone"), ("festival", "ked_diphone")]
HELDOUT_VOICES = [("flite", "slt"), ("festival", "cmu_us_slt_arctic_hts")]


def random_train_voice(rng: random.Random) -> dict:
    if rng.random() < 0.5:
        engine, voice = rng.choice(TRAIN_NATURAL)
        return {"engine": engine, "voice": voice, "stretch": round(rng.uniform(0.85, 1.2), 2)}
    return {
        "engine": "espeak-ng",
        "voice": f"{rng.choice(ESPEAK_ACCENTS)}+{rng.choice(ESPEAK_VARIANTS)}",
        "pitch": rng.randint(20, 80),
        "rate": rng.randint(130, 210),
    }


def corpus_sentences(exclude: set[str]) -> list[str]:
    """Normalized sentences of 4-20 words from the public-domain text, minus the excluded ones."""
    sentences = []
    for path in sorted(SHARED_TEXT.glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
            for piece in line.replace("?", ".").replace("!", ".").split(". "):
                text = normalize_text(piece)
                if 4 <= len(text.split()) <= 20 and text not in exclude:
                    sentences.append(text)
    return sorted(set(sentences))


def synthesize_one(job: dict) -> None:
    """Run one engine on one sentence and convert its output to 16 kHz mono FLAC."""
    out = Path(job["audio"])
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        if job["engine"] == "espeak-ng":
            cmd = ["espeak-ng", "-v", job["voice"], "-p", str(job["pitch"]), "-s", str(job["rate"]), "-w", str(raw), job["text"]]
            subprocess.run(cmd, check=True, capture_output=True)
        elif job["engine"] == "flite":
            cmd = ["flite", "-voice", job["voice"], "--setf", f"duration_stretch={job['stretch']}", "-t", job["text"], "-o", str(raw)]
            subprocess.run(cmd, check=True, capture_output=True)
        else:
            script = Path(tmp) / "script.scm"
            script.write_text(
                f"(voice_{job['voice']})\n(Parameter.set 'Duration_Stretch {job['stretch']})\n"
                f'(utt.save.wave (utt.synth (Utterance Text "{job["text"]}")) "{raw}" \'riff)\n'
            )
            subprocess.run(["festival", "--batch", str(script)], check=True, capture_output=True)
        tmp_out = out.with_suffix(".tmp.flac")
        subprocess.run(["sox", "-G", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(tmp_out)], check=True, capture_output=True)
        tmp_out.rename(out)


def safe_synthesize(job: dict) -> dict | None:
    if not Path(job["audio"]).exists():
        try:
            synthesize_one(job)
        except (subprocess.CalledProcessError, OSError) as error:
            print(f"skipped {job['audio']}: {error}", file=sys.stderr)
            return None
    info = soundfile.info(job["audio"])
    return {**job, "duration": round(info.frames / info.samplerate, 3)}


def plan(args) -> dict[str, list[dict]]:
    rng = random.Random(args.seed)
    queries = expand()
    rng.shuffle(queries)
    keep = {"what is your name", "what time is it", "set a timer for ten minutes"}
    test_queries = [q for q in queries if q not in keep][: args.test_queries]
    train_queries = [q for q in queries if q not in test_queries]

    lj_texts = {normalize_text(line.split("|")[2]) for line in SHARED_LJ.read_text().splitlines()}
    sentences = corpus_sentences(exclude=lj_texts | set(queries))
    rng.shuffle(sentences)
    test_sentences = sentences[: args.test_sentences]
    train_sentences = sentences[args.test_sentences : args.test_sentences + args.train_sentences]

    splits: dict[str, list[dict]] = {"train": [], "test_heldout_voice": []}
    for text in train_queries:
        for _ in range(args.voices_per_query):
            splits["train"].append({"text": text, **random_train_voice(rng)})
    for text in train_sentences:
        splits["train"].append({"text": text, **random_train_voice(rng)})
    for text in test_queries + test_sentences:
        engine, voice = rng.choice(HELDOUT_VOICES)
        splits["test_heldout_voice"].append({"text": text, "engine": engine, "voice": voice, "stretch": 1.0})
    for name, jobs in splits.items():
        for i, job in enumerate(jobs):
            job["audio"] = str(args.out / "audio" / f"{name}-{i:05d}.flac")
    return splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--voices-per-query", type=int, default=10)
    parser.add_argument("--train-sentences", type=int, default=3000)
    parser.add_argument("--test-queries", type=int, default=25)
    parser.add_argument("--test-sentences", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out = args.out.resolve()
    (args.out / "audio").mkdir(parents=True, exist_ok=True)
    for name, jobs in plan(args).items():
        with Pool(args.workers) as pool:
            done = list(tqdm(pool.imap(safe_synthesize, jobs, chunksize=8), total=len(jobs), desc=name))
        rows = [row for row in done if row is not None]
        write_manifest(args.out / f"{name}.jsonl", rows)
        hours = sum(row["duration"] for row in rows) / 3600
        print(f"{name}: {len(rows)} utterances, {hours:.2f} h, {len(jobs) - len(rows)} failed")


if __name__ == "__main__":
    main()
