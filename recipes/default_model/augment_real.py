"""Heavy augmentation for the scarce real speech: each utterance again in new rooms, noise and channels.

Every copy goes through the synthesis engine's realism pass (speech2text.synthesis.apply_realism:
pyroomacoustics room, noise at a random SNR, telephone band or MP3/Ogg round trip, gain,
silence), with its settings drawn from the seed and kept in the manifest. The trainer adds its
own speed perturbation and SpecAugment on top. Resumable: finished files are kept.

    python recipes/default_model/augment_real.py work/default_model/ljspeech_train.jsonl \
        --out work/default_model/real_aug --copies 3
"""

from __future__ import annotations

import argparse
import random
import sys
from multiprocessing import Pool
from pathlib import Path

import soundfile
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.audio import load_audio  # noqa: E402
from speech2text.manifest import read_manifest, write_manifest  # noqa: E402
from speech2text.synthesis import SAMPLE_RATE, RealismConfig, apply_realism, random_realism  # noqa: E402


def augment(job: tuple[dict, str, dict]) -> dict:
    row, audio, realism = job
    out = Path(audio)
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial.flac")
        soundfile.write(partial, apply_realism(load_audio(row["audio"]), realism), SAMPLE_RATE, subtype="PCM_16")
        partial.rename(out)
    info = soundfile.info(audio)
    return {
        **row,
        "audio": audio,
        "duration": round(info.frames / info.samplerate, 3),
        "realism": realism,
        "source": row["audio"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out = args.out.resolve()  # manifests hold absolute paths
    rng = random.Random(args.seed)
    # Tempo and pitch are sox effects of the synthesis step; here the trainer's speed perturbation does that.
    config = RealismConfig(tempo=(1.0, 1.0), pitch_cents=(0.0, 0.0))
    for manifest in args.manifests:
        rows = read_manifest(manifest)
        jobs = [
            (row, str(args.out / manifest.stem / f"{Path(row['audio']).stem}-{copy}.flac"), random_realism(config, rng))
            for row in rows
            for copy in range(args.copies)
        ]
        with Pool(args.workers) as pool:
            done = list(tqdm(pool.imap(augment, jobs, chunksize=8), total=len(jobs), desc=manifest.stem))
        write_manifest(args.out / f"{manifest.stem}.jsonl", done)
        print(f"{manifest.stem}: {len(done)} augmented copies, {sum(r['duration'] for r in done) / 3600:.2f} h")


if __name__ == "__main__":
    main()
