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
