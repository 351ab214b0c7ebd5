"""A picture of how the network reads an utterance: waveform, log-mel features,
CTC character posteriors over time and the word boundaries, on one time axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE
from .transcribe import Transcriber, Transcript

MAX_PLOT_S = 60.0


def plot_alignment(transcriber: Transcriber, samples: np.ndarray, transcript: Transcript, path: str | Path) -> None:
    """Draw the four panels for `samples` (float32, 16 kHz) and its transcript into a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    features = transcriber.features(samples)  # (frames, n_mels), from either backend
    log_probs, _ = transcriber.log_probs([samples])
    posteriors = np.exp(np.asarray(log_probs[0], np.float32))  # (frames, symbols); a torch tensor or numpy
    duration_s = len(samples) / SAMPLE_RATE
    frame_s = transcriber.frame_shift_s
    labels = ["∅" if i == transcriber.vocabulary.blank_id else ("␣" if s == " " else s) for i, s in enumerate(transcriber.labels)]

    figure, axes = plt.subplots(4, 1, figsize=(max(8.0, duration_s * 2.5), 9), sharex=True,
                                gridspec_kw={"height_ratios": [1, 1.5, 1.5, 0.6]})
    waveform, mel, posterior_image, word_axis = axes
    waveform.plot(np.arange(len(samples)) / SAMPLE_RATE, samples, linewidth=0.4, color="tab:blue")
    waveform.set_ylabel("waveform")
    mel.imshow(features.T, origin="lower", aspect="auto", cmap="magma",
               extent=(0, features.shape[0] * transcriber.backend.hop_s, 0, features.shape[1]))
    mel.set_ylabel("log-mel bin")
    posterior_image.imshow(posteriors.T, origin="lower", aspect="auto", cmap="Greys", vmin=0, vmax=1,
                           extent=(0, len(posteriors) * frame_s, -0.5, len(labels) - 0.5), interpolation="nearest")
    posterior_image.set_yticks(range(len(labels)), labels, fontsize=6)
    posterior_image.set_ylabel("CTC posterior")
    # The winning non-blank character of each frame, written where it fires.
    for frame, row in enumerate(posteriors):
        best = int(row.argmax())
        if best != transcriber.vocabulary.blank_id and row[best] > 0.5:
            posterior_image.text((frame + 0.5) * frame_s, best, labels[best], color="tab:red", fontsize=7,
                                 ha="center", va="center")
    for word in transcript.words:
        for axis in axes:
            axis.axvspan(word.start_s, word.end_s, color="tab:green", alpha=0.08)
        word_axis.text((word.start_s + word.end_s) / 2, 0.5, f"{word.text}\n{word.confidence:.2f}",
                       ha="center", va="center", fontsize=9)
    word_axis.set_yticks([])
    word_axis.set_ylabel("words")
    word_axis.set_xlabel("seconds")
    word_axis.set_xlim(0, duration_s)
    figure.suptitle(f'"{transcript.text}"')
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
