"""Make higher-pitched copies of part of the synthetic training speech.

The offline voices we train on are mostly male (flite awb/rms/kal16, festival kal/ked), and the
female voice (slt) is held out for testing. Raising the pitch of some male utterances by 3-6
semitones, tempo unchanged, gives the model female-range voices to learn from. sox does the shift
(its `pitch` effect is a well-kept WSOLA implementation; torchaudio no longer ships sox effects).

    python recipes/first_model/pitch_shift.py work/first_model/synth/train_only.jsonl \
        --out work/first_model/synth_pitch --fraction 0.4
"""

import argparse
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.data import read_manifest, write_manifest  # noqa: E402


def shift(job: tuple[dict, Path, int]) -> dict | str:
    """The pitch-shifted row, or sox's error message."""
    row, target, cents = job
    if not target.exists():
        tmp = target.with_suffix(".tmp.flac")
        done = subprocess.run(
            ["sox", row["audio"], "-r", "16000", str(tmp), "pitch", str(cents)],
            capture_output=True,
        )
        if done.returncode != 0:
            return done.stderr.decode(errors="replace").strip() or f"sox exited with {done.returncode}"
        tmp.rename(target)  # atomic, so an interrupted run resumes cleanly
    return {**row, "audio": str(target.resolve()), "pitch_cents": cents}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--fraction", type=float, default=0.4, help="share of utterances to copy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = read_manifest(args.manifest)
    # espeak-ng voices already span female variants; copy the recorded-voice engines only.
    # first_model's manifests name the engine at the top level, `speech2text synthesize`'s under "voice".
    rows = [row for row in rows if (row.get("engine") or row.get("voice", {}).get("engine")) in ("flite", "festival")]
    rng = random.Random(args.seed)
    chosen = rng.sample(rows, int(len(rows) * args.fraction))
    audio_dir = args.out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(row, audio_dir / f"pitch-{i:05d}.flac", rng.randint(300, 600)) for i, row in enumerate(chosen)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(tqdm(pool.map(shift, jobs), total=len(jobs), desc="pitch shift", unit="utt"))
    kept = [row for row in results if isinstance(row, dict)]
    errors = [row for row in results if isinstance(row, str)]
    if jobs and not kept:
        # A sox without FLAC support fails on every file; an empty manifest would only fail later, in training.
        sys.exit(f"pitch_shift.py: sox failed on all {len(jobs)} utterances; the first error: {errors[0]}")
    write_manifest(args.out / "train.jsonl", kept)
    hours = sum(row["duration"] for row in kept) / 3600
    print(f"{len(kept)} pitch-shifted utterances ({hours:.2f} h), {len(errors)} failed")


if __name__ == "__main__":
    main()
