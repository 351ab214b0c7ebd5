"""Scoring a model on a manifest: WER/CER, real-time factor and the hypotheses."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from tqdm import tqdm

from .audio import AudioError, load_audio
from .decoding import DEFAULT_BEAM_SIZE
from .manifest import SkippedRows
from .metrics import error_rates
from .transcribe import Transcriber


@dataclass(frozen=True)
class Evaluation:
    """Scores of the rows that could be read (`rows`, in manifest order; `references` and `hypotheses` match them)."""

    wer: float
    cer: float
    rtf: float
    audio_s: float
    references: list[str]
    hypotheses: list[str]
    rows: list[dict]

    @property
    def exact(self) -> float:
        """Fraction of utterances whose hypothesis is exactly the reference (digit accuracy on FSDD)."""
        return sum(r == h for r, h in zip(self.references, self.hypotheses)) / max(1, len(self.references))

    def by_subset(self, subsets: list[str]) -> dict[str, dict]:
        """{subset: {"utterances", "wer", "cer", "exact"}}, `subsets` naming each utterance's; first-seen order."""
        groups: dict[str, list[int]] = {}
        for index, subset in enumerate(subsets):
            groups.setdefault(subset, []).append(index)
        scores = {}
        for subset, indices in groups.items():
            references = [self.references[i] for i in indices]
            hypotheses = [self.hypotheses[i] for i in indices]
            exact = sum(r == h for r, h in zip(references, hypotheses)) / len(indices)
            scores[subset] = {"utterances": len(indices), **error_rates(references, hypotheses), "exact": exact}
        return scores

    def worst(self, count: int = 5) -> list[tuple[float, dict, str]]:
        """The `count` utterances with the highest WER: (wer, row, hypothesis)."""
        scored = [(error_rates([r], [h])["wer"], row, h)
                  for row, r, h in zip(self.rows, self.references, self.hypotheses)]
        return sorted(scored, key=lambda item: -item[0])[:count]


def _readable_batches(rows: list[dict], batch_size: int, skipped: SkippedRows | None):
    """(row indices, samples) in batches of similar duration; unreadable rows are counted in `skipped` and left out
    (with no `skipped`, the first one raises AudioError naming its file)."""
    order = sorted(range(len(rows)), key=lambda i: rows[i]["duration"])
    for first in range(0, len(order), batch_size):
        indices, samples = [], []
        for i in order[first : first + batch_size]:
            try:
                samples.append(load_audio(rows[i]["audio"]))
            except (AudioError, OSError) as error:
                reason = getattr(error, "strerror", None) or str(error)
                if skipped is None:
                    raise AudioError(f"{rows[i]['audio']}: {reason}") from None
                skipped.add(rows[i]["audio"], reason)
                continue
            indices.append(i)
        if indices:
            yield indices, samples


def evaluate(
    transcriber: Transcriber, rows: list[dict], batch_size: int = 16, progress: bool = True, decoder: str = "greedy",
    beam_size: int = 8, skipped: SkippedRows | None = None,
) -> Evaluation:
    """Decode every row of a manifest in batches of similar length and score it.

    Rows whose audio cannot be read are counted in `skipped` and not scored (AudioError without it)."""
    hypotheses: dict[int, str] = {}
    audio_s = compute_s = 0.0
    total = math.ceil(len(rows) / batch_size)
    for batch, samples in tqdm(_readable_batches(rows, batch_size, skipped), desc="evaluate", total=total,
                               disable=not progress, leave=False):
        started = time.perf_counter()
        transcripts = transcriber.transcribe_samples(samples, decoder=decoder, beam_size=beam_size)
        compute_s += time.perf_counter() - started
        for i, transcript in zip(batch, transcripts):
            hypotheses[i] = transcript.text
            audio_s += transcript.duration_s
    if not hypotheses:
        raise AudioError("no row's audio could be read")
    scored = sorted(hypotheses)
    references = [rows[i]["text"] for i in scored]
    ordered = [hypotheses[i] for i in scored]
    rates = error_rates(references, ordered)
    return Evaluation(rates["wer"], rates["cer"], compute_s / max(audio_s, 1e-9), audio_s, references, ordered,
                      [rows[i] for i in scored])


def tune_language_model(
    transcriber: Transcriber, rows: list[dict], lm_path: str, lm_weights: list[float], word_scores: list[float],
    beam_size: int = DEFAULT_BEAM_SIZE["lm"], skipped: SkippedRows | None = None,
) -> list[dict]:
    """WER and CER of LM beam search for every (lm_weight, word_score) pair on a dev manifest.

    The acoustic model runs once; each grid point only re-runs the search. Returns one
    dict per pair, best WER first.
    """
    from .decoding import LanguageModelDecoder

    emissions, references = [], []
    for batch, samples in tqdm(_readable_batches(rows, 16, skipped), desc="acoustic model",
                               total=math.ceil(len(rows) / 16), leave=False):
        emissions.append(transcriber.log_probs(samples))
        references += [rows[i]["text"] for i in batch]
    if not references:
        raise AudioError("no row's audio could be read")
    results = []
    for lm_weight in tqdm(lm_weights, desc="grid", leave=False):
        for word_score in word_scores:
            decoder = LanguageModelDecoder(
                transcriber.vocabulary, lm_path, beam_size=beam_size, lm_weight=lm_weight, word_score=word_score
            )
            started = time.perf_counter()
            hypotheses = [h.text for log_probs, lengths in emissions for h in decoder(log_probs, lengths, transcriber.frame_shift_s)]
            seconds = time.perf_counter() - started
            results.append({"lm_weight": lm_weight, "word_score": word_score, **error_rates(references, hypotheses), "search_s": seconds})
    return sorted(results, key=lambda r: (r["wer"], r["cer"]))
