import math

import pytest
import torch

from speech2text.decoding import greedy_decode
from speech2text.text import Vocabulary

VOCAB = Vocabulary()


def log_probs_for(path: str, confidence: float = 0.9) -> torch.Tensor:
    """One frame per symbol of `path` ('_' is blank); the named symbol gets `confidence`."""
    frames = torch.full((len(path), len(VOCAB)), (1 - confidence) / (len(VOCAB) - 1))
    for t, symbol in enumerate(path):
        frames[t, 0 if symbol == "_" else VOCAB.symbols.index(symbol)] = confidence
    return frames.log()


def decode(path: str, frame_shift_s: float = 0.03, **kwargs):
    log_probs = log_probs_for(path, **kwargs)[None]
    return greedy_decode(log_probs, torch.tensor([log_probs.shape[1]]), VOCAB, frame_shift_s)[0]


def test_repeats_merge_and_blanks_separate():
    assert decode("hh_e_ll_ll_oo").text == "hello"
    assert decode("__a__").text == "a"
    assert decode("aaaa").text == "a"
    assert decode("a_a").text == "aa"
    assert decode("____").text == ""


def test_spaces_split_words_and_are_trimmed():
    hypothesis = decode("_ _hi__  _yo_ ")
    assert hypothesis.text == "hi yo"
    assert [w.text for w in hypothesis.words] == ["hi", "yo"]


def test_word_times():
    # frames:            0123456789
    hypothesis = decode("_ab__ _c_d", frame_shift_s=0.1)
    first, second = hypothesis.words
    assert (first.text, first.start_s, first.end_s) == ("ab", 0.1, 0.3)
    assert (second.text, second.start_s, second.end_s) == ("cd", 0.7, 1.0)


def test_a_repeated_character_spans_all_its_frames():
    (word,) = decode("__aaa__", frame_shift_s=0.1).words
    assert (word.start_s, word.end_s) == (0.2, 0.5)


def test_confidence_is_geometric_mean_of_character_posteriors():
    log_probs = log_probs_for("ab")
    log_probs[1] = log_probs_for("b", confidence=0.4)[0]
    hypothesis = greedy_decode(log_probs[None], torch.tensor([2]), VOCAB, 0.03)[0]
    assert hypothesis.words[0].confidence == pytest.approx(math.sqrt(0.9 * 0.4), abs=1e-4)


def test_lengths_cut_padding_in_a_batch():
    a, b = log_probs_for("_c_a_t_"), log_probs_for("dog____")
    batch = torch.stack([a, b])
    hypotheses = greedy_decode(batch, torch.tensor([7, 3]), VOCAB, 0.03)
    assert [h.text for h in hypotheses] == ["cat", "dog"]
    assert greedy_decode(batch, torch.tensor([7, 2]), VOCAB, 0.03)[1].text == "do"
