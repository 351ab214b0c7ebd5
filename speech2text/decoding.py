"""Turning CTC log-probs into text, with a time and a confidence for every word."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .text import Vocabulary


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    confidence: float


@dataclass(frozen=True)
class Hypothesis:
    text: str
    words: list[Word] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class _Char:
    symbol: str
    first_frame: int
    last_frame: int
    log_prob: float


def _chars_from_path(path: np.ndarray, frame_log_probs: np.ndarray, vocabulary: Vocabulary) -> list[_Char]:
    """Collapse a frame-level best path into characters: repeats merged, blanks dropped.

    A character's log-prob is its best frame's; its span runs over its repeated frames.
    """
    chars: list[_Char] = []
    previous = vocabulary.blank_id
    for t, token in enumerate(path):
        if token == vocabulary.blank_id:
            previous = token
            continue
        if token == previous:
            last = chars[-1]
            chars[-1] = _Char(last.symbol, last.first_frame, t, max(last.log_prob, float(frame_log_probs[t])))
        else:
            chars.append(_Char(vocabulary.symbols[token], t, t, float(frame_log_probs[t])))
        previous = token
    return chars


def words_from_chars(chars: list[_Char], frame_shift_s: float) -> list[Word]:
    """Group characters into words at spaces.

    A word spans from its first character's first frame to the end of its last
    character's last frame. Its confidence is the geometric mean of its
    characters' posteriors (a spelling with one doubtful letter scores low).
    """
    words: list[Word] = []
    current: list[_Char] = []
    for char in [*chars, _Char(" ", 0, 0, 0.0)]:
        if char.symbol != " ":
            current.append(char)
            continue
        if current:
            words.append(
                Word(
                    text="".join(c.symbol for c in current),
                    start_s=round(current[0].first_frame * frame_shift_s, 3),
                    end_s=round((current[-1].last_frame + 1) * frame_shift_s, 3),
                    confidence=round(float(np.exp(np.mean([c.log_prob for c in current]))), 4),
                )
            )
        current = []
    return words


def greedy_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor, vocabulary: Vocabulary, frame_shift_s: float
) -> list[Hypothesis]:
    """Best-path CTC decoding of a batch: log_probs (batch, frames, vocab), lengths (batch,)."""
    best_log_probs, best_ids = log_probs.max(dim=-1)
    hypotheses = []
    for ids, scores, length in zip(best_ids.numpy(), best_log_probs.float().numpy(), lengths.tolist()):
        chars = _chars_from_path(ids[:length], scores[:length], vocabulary)
        words = words_from_chars(chars, frame_shift_s)
        hypotheses.append(Hypothesis(text=" ".join(w.text for w in words), words=words))
    return hypotheses


def prefix_beam_search(log_probs: torch.Tensor, beam_size: int, blank_id: int = 0) -> list[tuple[tuple[int, ...], float]]:
    """CTC prefix beam search without a language model, for one utterance.

    log_probs: (frames, vocab). Each prefix keeps two scores, ending in blank
    and not, so that every frame path that collapses to it is summed (greedy
    decoding follows only the single best path). At each frame only the
    `beam_size` most likely symbols extend prefixes. Returns up to `beam_size`
    (token ids, log-probability) pairs, best first; ties go to the smaller ids.
    Written here because torchaudio's ctc_decoder needs flashlight-text and a
    lexicon or LM; this one has no dependency.
    """
    scores = log_probs.double().numpy()
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -np.inf)}
    for frame in scores:
        candidates = [int(c) for c in np.argsort(-frame, kind="stable")[:beam_size] if c != blank_id]
        extended: dict[tuple[int, ...], list[float]] = {}

        def add(prefix, blank_score, symbol_score):
            entry = extended.setdefault(prefix, [-np.inf, -np.inf])
            entry[0] = np.logaddexp(entry[0], blank_score)
            entry[1] = np.logaddexp(entry[1], symbol_score)

        for prefix, (ends_blank, ends_symbol) in beams.items():
            total = np.logaddexp(ends_blank, ends_symbol)
            add(prefix, total + frame[blank_id], -np.inf)
            for symbol in candidates:
                if prefix and prefix[-1] == symbol:
                    # A repeat either continues the last symbol, or starts a new one after a blank.
                    add(prefix, -np.inf, ends_symbol + frame[symbol])
                    add(prefix + (symbol,), -np.inf, ends_blank + frame[symbol])
                else:
                    add(prefix + (symbol,), -np.inf, total + frame[symbol])
        ranked = sorted(extended.items(), key=lambda item: (-np.logaddexp(*item[1]), item[0]))
        beams = {prefix: (b, s) for prefix, (b, s) in ranked[:beam_size]}
    return [(prefix, float(np.logaddexp(b, s))) for prefix, (b, s) in beams.items()]


def align_words(log_probs: torch.Tensor, ids: tuple[int, ...], vocabulary: Vocabulary, frame_shift_s: float) -> list[Word]:
    """Word times and confidences for a chosen transcript by CTC forced alignment (torchaudio)."""
    if not ids:
        return []
    import torchaudio.functional

    targets = torch.tensor([ids], dtype=torch.int32)
    path, frame_scores = torchaudio.functional.forced_align(log_probs[None].float(), targets, blank=vocabulary.blank_id)
    chars = _chars_from_path(path[0].numpy(), frame_scores[0].numpy(), vocabulary)
    return words_from_chars(chars, frame_shift_s)


def beam_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor, vocabulary: Vocabulary, frame_shift_s: float, beam_size: int = 8
) -> list[Hypothesis]:
    """Prefix beam search over a batch; words are timed by forced alignment of the best prefix.

    Each Hypothesis carries its n-best list in `alternatives` as (text, log-probability).
    """
    hypotheses = []
    for frames, length in zip(log_probs, lengths.tolist()):
        frames = frames[:length]
        nbest = prefix_beam_search(frames, beam_size, vocabulary.blank_id)
        words = align_words(frames, nbest[0][0], vocabulary, frame_shift_s)
        alternatives = [(" ".join(vocabulary.decode(ids).split()), round(score, 4)) for ids, score in nbest]
        hypotheses.append(Hypothesis(" ".join(w.text for w in words), words, alternatives))
    return hypotheses
