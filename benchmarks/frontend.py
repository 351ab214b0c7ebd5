"""Log-mel frontend speed: ours against librosa's and torchaudio's, on the same 60 s signal.

All three compute the same 80-bin Slaney log-mel (25 ms window, 10 ms hop, n_fft 512).
"× real time" is audio seconds per compute second, best of 5 runs. The last column is
the largest difference from librosa's log-mel over the whole signal.

    .venv/bin/python benchmarks/frontend.py [--threads N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import torch
import torchaudio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402
from speech2text.features import FeatureConfig, LogMel  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "ljspeech-part" / "wavs"
DURATION_S = 60
REPEATS = 5


def sixty_seconds() -> np.ndarray:
    pieces = []
    for path in sorted(LJ.glob("*.flac")):
        pieces.append(load_audio(path))
        if sum(map(len, pieces)) >= DURATION_S * SAMPLE_RATE:
            break
    return np.concatenate(pieces)[: DURATION_S * SAMPLE_RATE]


def best_seconds(fn) -> tuple[float, np.ndarray]:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "frontend.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = FeatureConfig()
    samples = sixty_seconds()
    tensor = torch.from_numpy(samples)[None]
    ours = LogMel(config)
    # torchaudio's defaults (HTK mel scale, no area normalization): the plain transform, for speed only.
    plain = torchaudio.transforms.MelSpectrogram(
        SAMPLE_RATE, n_fft=config.n_fft, win_length=config.win_length, hop_length=config.hop_length, n_mels=config.n_mels
    )

    def librosa_log_mel() -> np.ndarray:
        mel = librosa.feature.melspectrogram(
            y=samples, sr=SAMPLE_RATE, n_fft=config.n_fft, win_length=config.win_length,
            hop_length=config.hop_length, n_mels=config.n_mels, power=2.0, center=True, pad_mode="constant",
        )
        return np.log(np.maximum(mel, config.log_floor)).T

    with torch.inference_mode():
        librosa_s, reference = best_seconds(librosa_log_mel)
        ours_s, features = best_seconds(lambda: ours(tensor)[0][0].numpy())
        plain_s, _ = best_seconds(lambda: plain(tensor).clamp_min(config.log_floor).log()[0].T.numpy())
    rows = [
        ("speech2text LogMel", ours_s, float(np.abs(features - reference).max())),
        ("torchaudio MelSpectrogram (HTK)", plain_s, None),
        ("librosa melspectrogram", librosa_s, 0.0),
    ]
    print(f"{DURATION_S} s of LJ Speech, {args.threads} torch thread(s)\n")
    print("| frontend | ms per 60 s | × real time | max abs diff to librosa |")
    print("|---|---:|---:|---:|")
    for name, seconds, diff in rows:
        diff_text = "-" if diff is None else f"{diff:.1e}"
        print(f"| {name} | {seconds * 1000:.1f} | {DURATION_S / seconds:,.0f} | {diff_text} |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(
        {"threads": args.threads, "rows": [{"name": n, "seconds": s, "x_realtime": DURATION_S / s, "max_abs_diff": d} for n, s, d in rows]},
        indent=2,
    ))


if __name__ == "__main__":
    main()
