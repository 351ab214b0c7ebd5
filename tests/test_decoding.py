import math

import pytest
import torch

from speech2text.decoding import beam_decode, greedy_decode
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


def frames_from(table: list[dict[str, float]]) -> torch.Tensor:
    """(frames, vocab) log-probs from per-frame {symbol: prob}; '_' is blank, the rest share 1e-6."""
    rows = []
    for probs in table:
        row = torch.full((len(VOCAB),), 1e-6, dtype=torch.float64)
        for symbol, p in probs.items():
            row[0 if symbol == "_" else VOCAB.symbols.index(symbol)] = p
        rows.append(row / row.sum())
    return torch.stack(rows).log().float()


def beam_texts(frames, beam_size=8):
    """The n-best list of the beam search without an LM: (text, log-probability), best first."""
    (transcript,) = beam_decode(frames[None], torch.tensor([len(frames)]), VOCAB, 0.03, beam_size)
    return transcript.alternatives


def test_beam_sums_paths_that_greedy_misses():
    # Best single path is blank-blank (0.36), but "a" collects aa + a_ + _a = 0.16 + 0.24 + 0.24 = 0.64.
    frames = frames_from([{"_": 0.6, "a": 0.4}] * 2)
    assert greedy_decode(frames[None], torch.tensor([2]), VOCAB, 0.03)[0].text == ""
    (best, best_score), (second, second_score) = beam_texts(frames)[:2]
    assert (best, second) == ("a", "")
    assert best_score == pytest.approx(math.log(0.64), abs=1e-4)
    assert second_score == pytest.approx(math.log(0.36), abs=1e-4)


def test_beam_merges_repeats_and_keeps_blank_separated_doubles():
    assert beam_texts(frames_from([{"a": 0.99}, {"a": 0.99}]))[0][0] == "a"
    assert beam_texts(frames_from([{"a": 0.99}, {"_": 0.99}, {"a": 0.99}]))[0][0] == "aa"
    assert beam_texts(frames_from([{"h": 0.9}, {"i": 0.9}, {" ": 0.9}, {"y": 0.9}, {"o": 0.9}]))[0][0] == "hi yo"


def test_beam_ties_go_to_the_alphabetically_first_text():
    (first, first_score), (second, second_score) = beam_texts(frames_from([{"b": 0.5, "a": 0.5}]))[:2]
    assert (first, second) == ("a", "b") and first_score == pytest.approx(second_score)


def test_beam_n_best_is_sorted_and_a_distribution():
    frames = frames_from([{"_": 0.5, "a": 0.3, "b": 0.2}, {"_": 0.4, "a": 0.1, "b": 0.5}])
    nbest = beam_texts(frames, beam_size=29)
    assert len({text for text, _ in nbest}) == len(nbest)  # one entry per text
    scores = [score for _, score in nbest]
    assert scores == sorted(scores, reverse=True)
    assert sum(math.exp(s) for s in scores) == pytest.approx(1.0, abs=1e-4)
    # By hand: "b" = b_ + bb + _b = .2*.4 + .2*.5 + .5*.5 = 0.43
    assert dict(nbest)["b"] == pytest.approx(math.log(0.43), abs=1e-4)


def test_beam_decode_times_words_by_forced_alignment():
    path = "_hh_i__ __yo_"
    frames = log_probs_for(path)
    (hypothesis,) = beam_decode(frames[None], torch.tensor([len(path)]), VOCAB, 0.1, beam_size=4)
    assert hypothesis.text == "hi yo"
    assert [(w.text, w.start_s, w.end_s) for w in hypothesis.words] == [("hi", 0.1, 0.5), ("yo", 1.0, 1.2)]
    assert hypothesis.alternatives[0][0] == "hi yo"
    assert greedy_decode(frames[None], torch.tensor([len(path)]), VOCAB, 0.1)[0].words == hypothesis.words


@pytest.mark.parametrize("seed", range(5))
def test_forced_alignment_equals_torchaudios(seed):
    import torchaudio.functional

    from speech2text.decoding import forced_align

    generator = torch.Generator().manual_seed(seed)
    # Peaked random log-probs, like a trained model's, and a target with a doubled letter.
    log_probs = (4 * torch.randn(60, len(VOCAB), generator=generator)).log_softmax(-1)
    targets = VOCAB.encode("hello yo")
    expected, _ = torchaudio.functional.forced_align(log_probs[None], torch.tensor([targets], dtype=torch.int32), blank=0)
    assert forced_align(log_probs.numpy(), tuple(targets)).tolist() == expected[0].tolist()


def test_forced_alignment_needs_a_blank_between_doubles():
    from speech2text.decoding import forced_align

    frames = log_probs_for("l_l").numpy()
    assert forced_align(frames, tuple(VOCAB.encode("ll"))).tolist() == VOCAB.encode("l") + [0] + VOCAB.encode("l")


def untied(frames: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """`frames` with a little noise: no two candidates score exactly alike. Among exact ties the beam
    search may keep any (a trained model's outputs never tie), so comparisons of n-best lists use these."""
    noise = 0.01 * torch.randn(frames.shape, generator=torch.Generator().manual_seed(seed))
    return (frames + noise).log_softmax(-1)


def test_numpy_and_torch_inputs_decode_alike():
    frames = untied(log_probs_for("_hh_i__ __yo_"))
    lengths = torch.tensor([frames.shape[0]])
    for decoder in (greedy_decode, beam_decode):
        assert decoder(frames[None], lengths, VOCAB, 0.1) == decoder(frames[None].numpy(), lengths.numpy(), VOCAB, 0.1)


def test_decoding_options_state_the_lm_rule_once_and_refuse_what_cannot_work():
    from speech2text.decoding import DecodingOptions

    assert DecodingOptions(decoder="greedy").decoder == "greedy"
    for implied in (dict(lm="x.arpa"), dict(words=("yes", "no")), dict(hotwords=(("paris", 5.0),))):
        assert DecodingOptions(decoder="greedy", **implied).decoder == "lm"
    assert DecodingOptions(decoder="beam").search_beam_size == 8
    assert DecodingOptions().search_beam_size == 128
    assert DecodingOptions(beam_size=4).lm_options()["beam_size"] == 4  # the LM decoder honours --beam-size
    for bad in (dict(decoder="viterbi"), dict(beam_size=0), dict(lm_weight=float("nan")), dict(words=()),
                dict(hotwords=(("paris", float("inf")),))):
        with pytest.raises(ValueError):
            DecodingOptions(**bad)
