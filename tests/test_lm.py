import math

import pytest
import torch

from speech2text.decoding import LanguageModelDecoder, greedy_decode, pause_bounds
from speech2text.lm import (
    LanguageModelError,
    NgramModel,
    arpa_vocabulary,
    discounts,
    estimate,
    sentences_from_text,
    without_held_out,
)
from speech2text.text import Vocabulary

CORPUS = [s.split() for s in ["the red car", "a red car", "the red door", "the car", "a rad idea", "red or rad"]]


def test_discounts_follow_chen_and_goodman():
    counts = {f"g{i}": c for i, c in enumerate([1] * 10 + [2] * 4 + [3] * 2 + [4])}
    y = 10 / (10 + 2 * 4)
    assert discounts(counts) == pytest.approx((1 - 2 * y * 4 / 10, 2 - 3 * y * 2 / 4, 3 - 4 * y * 1 / 2))


def test_bigram_probabilities_by_hand():
    """'a b' and 'b': too few counts for the discount formula, so D = 0.5, 1, 1.5 (KenLM's fallback).

    Unigrams use continuation counts: a 1 (after <s>), b 2 (after a and <s>), </s> 1 (after b);
    total 4, gamma = (0.5*2 + 1*1)/4 = 0.5, spread uniformly over a, b, </s>, <unk>.
    Bigrams after <s>: a once, b once; gamma = 0.5*2/2. After a: b once; gamma = 0.5/1.
    """
    model = estimate([["a", "b"], ["b"]], order=2)
    p = lambda word, context=(): 10 ** model.log10_prob(word, context)  # noqa: E731
    assert p("a") == pytest.approx((1 - 0.5) / 4 + 0.5 / 4)
    assert p("b") == pytest.approx((2 - 1) / 4 + 0.5 / 4)
    assert p("<unk>") == pytest.approx(0.5 / 4)
    assert p("a", ["<s>"]) == pytest.approx((1 - 0.5) / 2 + 0.5 * 0.25)
    assert p("b", ["<s>"]) == pytest.approx((1 - 0.5) / 2 + 0.5 * 0.375)
    assert p("b", ["a"]) == pytest.approx((1 - 0.5) / 1 + 0.5 * 0.375)
    assert p("</s>", ["<s>"]) == pytest.approx(0.5 * 0.25)  # unseen after <s>: backed off
    assert p("zebra", ["<s>"]) == p("<unk>", ["<s>"])


@pytest.mark.parametrize("order, prune", [(2, False), (3, False), (3, True), (4, True)])
def test_every_distribution_sums_to_one(order, prune):
    model = estimate(CORPUS, order=order, prune_singletons=prune)
    words = [w for w in model.vocabulary if w != "<s>"]
    contexts = [(), ("<s>",), ("red",), ("the", "red"), ("<s>", "the"), ("never", "seen"), ("a", "rad", "idea")]
    for context in contexts:
        assert sum(10 ** model.log10_prob(w, context) for w in words) == pytest.approx(1.0, abs=1e-9), context


def test_pruning_drops_singletons_and_keeps_the_rest():
    full, pruned = estimate(CORPUS, 3), estimate(CORPUS, 3, prune_singletons=True)
    assert ("the", "red", "car") in full.log_probs[2] and ("the", "red", "car") not in pruned.log_probs[2]
    assert len(pruned.log_probs[2]) < len(full.log_probs[2]) and pruned.log_probs[1] == full.log_probs[1]


def test_arpa_round_trip(tmp_path):
    model = estimate(CORPUS, 3)
    model.write_arpa(tmp_path / "lm.arpa")
    again = NgramModel.read_arpa(tmp_path / "lm.arpa")
    for context, word in [((), "red"), (("the",), "red"), (("the", "red"), "car"), (("a", "rad"), "zebra")]:
        assert again.log10_prob(word, context) == pytest.approx(model.log10_prob(word, context), abs=1e-6)
    assert sorted(arpa_vocabulary(tmp_path / "lm.arpa")) == sorted(model.vocabulary - {"<s>", "</s>", "<unk>"})
    (tmp_path / "bad.arpa").write_text("hello\n")
    with pytest.raises(LanguageModelError):
        arpa_vocabulary(tmp_path / "bad.arpa")


def test_perplexity_prefers_text_like_the_training_text():
    model = estimate(CORPUS, 3)
    assert model.perplexity([["the", "red", "car"]]) < model.perplexity([["car", "red", "the"]])


def test_sentences_are_normalized_and_held_out_ones_dropped():
    text = "The 2 red cars. A rad idea!\nThe red door; then more"
    sentences = list(sentences_from_text(text))
    assert sentences[0] == ["the", "two", "red", "cars"]
    kept, dropped = without_held_out(sentences, {"a rad idea", "the red door then more words"})
    assert dropped == 2 and kept == [["the", "two", "red", "cars"]]


VOCAB = Vocabulary()


def emissions(frames: list[dict[str, float]]) -> torch.Tensor:
    """Log-probs (1, frames, vocab) with the given probabilities, the rest spread evenly."""
    rows = []
    for frame in frames:
        rest = (1 - sum(frame.values())) / (len(VOCAB.symbols) - len(frame))
        rows.append([frame.get(symbol, rest) for symbol in VOCAB.symbols])
    return torch.tensor(rows).log()[None]


def spell(text: str, ambiguous: dict[int, dict[str, float]]) -> list[dict[str, float]]:
    """A frame per character, each followed by a blank frame; position i can be made ambiguous."""
    frames = []
    for i, char in enumerate(text):
        frames += [ambiguous.get(i, {char: 0.9}), {"<blank>": 0.9}]
    return frames


def test_the_language_model_turns_an_unlikely_word_into_a_likely_one(tmp_path):
    estimate(CORPUS * 5 + [["a", "rad", "car"]], 3).write_arpa(tmp_path / "lm.arpa")
    # "the r?d car": the acoustics lean to "rad" (0.55 against 0.35).
    log_probs = emissions(spell("the rad car", {5: {"a": 0.55, "e": 0.35}}))
    lengths = torch.tensor([log_probs.shape[1]])
    assert greedy_decode(log_probs, lengths, VOCAB, 0.03)[0].text == "the rad car"
    with_lm = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), lm_weight=1.0, word_score=0.0, nbest=3)
    hypothesis = with_lm(log_probs, lengths, 0.03)[0]
    assert hypothesis.text == "the red car"
    assert [w.text for w in hypothesis.words] == ["the", "red", "car"]
    assert hypothesis.alternatives[0][0] == "the red car" and "the rad car" in [t for t, _ in hypothesis.alternatives]
    acoustic_only = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), lm_weight=0.0, word_score=0.0)
    assert acoustic_only(log_probs, lengths, 0.03)[0].text == "the rad car"


def test_pauses_are_cut_in_their_middle_and_only_between_words():
    blank, space, x = {"<blank>": 0.9}, {" ": 0.9}, {"x": 0.9}
    # Letters at 1, 6, 8 and 13: a pause with a separator (2-5), a lone blank (7), a pause inside a word (9-12).
    frames = [blank, x, blank, blank, space, blank, x, blank, x, blank, blank, blank, blank, x, space, blank]
    log_probs = emissions(frames)[0].numpy()
    separator = VOCAB.symbols.index(" ")
    assert pause_bounds(log_probs, VOCAB.blank_id, separator, 3) == [0, 4, 16]  # the ends are no pause either
    assert pause_bounds(log_probs, VOCAB.blank_id, separator, 5) == [0, 16]
    assert pause_bounds(log_probs, VOCAB.blank_id, separator, 0) == [0, 16]
    assert pause_bounds(log_probs[:0], VOCAB.blank_id, separator, 3) == [0, 0]


def test_the_search_starts_afresh_after_a_pause_between_words(tmp_path):
    estimate(CORPUS * 5 + [["a", "rad", "car"]], 3).write_arpa(tmp_path / "lm.arpa")
    first = spell("the rad car", {5: {"a": 0.55, "e": 0.35}})
    second = spell("a rad idea", {})
    pause = [{"<blank>": 0.9}] * 4 + [{" ": 0.9}] + [{"<blank>": 0.9}] * 5  # 0.3 s at 30 ms a frame, PAUSE_S
    decoder = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), lm_weight=1.0, word_score=0.0, nbest=3)

    def decode(frames):
        log_probs = emissions(frames)
        return decoder(log_probs, torch.tensor([log_probs.shape[1]]), 0.03)[0]

    apart = decode(first + pause + second)
    assert apart.text == f"{decode(first).text} {decode(second).text}" == "the red car a rad idea"
    assert apart.words[3].start_s > 0.03 * (len(first) + len(pause) - 1)  # times stay those of the whole input
    # One alternative: the stretches' best texts, joined, with their summed score (the cut is mid-pause).
    stretches = (first + pause[:5], pause[5:] + second)
    assert apart.alternatives == [(apart.text, pytest.approx(sum(decode(f).alternatives[0][1] for f in stretches), abs=1e-3))]
    # A shorter pause, or one with no separator in it (inside a word), is one search, with its n-best list.
    assert len(decode(first + pause[:5] + second).alternatives) == 3
    assert len(decode(first + [{"<blank>": 0.9}] * 10 + second).alternatives) == 3


def test_a_closed_vocabulary_only_says_its_words(tmp_path):
    estimate(CORPUS, 2).write_arpa(tmp_path / "lm.arpa")
    # "o" then a frame torn between "f" and "n": greedy says "of", which is not a command word,
    # and "off" needs two f frames with a blank between them.
    log_probs = emissions([{"o": 0.9}, {"<blank>": 0.9}, {"f": 0.5, "n": 0.4}, {"<blank>": 0.9}])
    lengths = torch.tensor([4])
    assert greedy_decode(log_probs, lengths, VOCAB, 0.03)[0].text == "of"
    decoder = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), words=["on", "off"], lm_weight=0.0, word_score=0.0)
    assert decoder(log_probs, lengths, 0.03)[0].text == "on"


def test_an_unreadable_language_model_is_a_clear_error(tmp_path):
    (tmp_path / "lm.arpa").write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\tword\n\\end\\\n")
    estimate(CORPUS, 2).write_arpa(tmp_path / "good.arpa")
    (tmp_path / "broken.arpa").write_text((tmp_path / "good.arpa").read_text()[:200])
    with pytest.raises(LanguageModelError):
        LanguageModelDecoder(VOCAB, str(tmp_path / "broken.arpa"))
    assert math.isfinite(NgramModel.read_arpa(tmp_path / "lm.arpa").log10_prob("word"))


def test_a_hotword_phrase_wins_over_the_acoustics(tmp_path):
    estimate(CORPUS * 5, 3).write_arpa(tmp_path / "lm.arpa")
    # "the r?d car", leaning to "red" (0.55 against 0.35); the user boosts "the rad car".
    log_probs = emissions(spell("the red car", {5: {"e": 0.55, "a": 0.35}}))
    lengths = torch.tensor([log_probs.shape[1]])
    plain = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), lm_weight=0.5, word_score=0.0)
    assert plain(log_probs, lengths, 0.03)[0].text == "the red car"
    boosted = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), lm_weight=0.5, word_score=0.0,
                                   hotwords=[("the rad car", 8.0)])
    assert boosted(log_probs, lengths, 0.03)[0].text == "the rad car"
    # A boosted phrase that the audio does not contain changes nothing.
    elsewhere = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), lm_weight=0.5, word_score=0.0,
                                     hotwords=[("a rad idea", 8.0)])
    assert elsewhere(log_probs, lengths, 0.03)[0].text == "the red car"


def test_a_hotword_brings_in_a_word_the_lm_never_saw(tmp_path):
    estimate(CORPUS, 2).write_arpa(tmp_path / "lm.arpa")
    log_probs = emissions(spell("zorg", {}))
    lengths = torch.tensor([log_probs.shape[1]])
    assert LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"))(log_probs, lengths, 0.03)[0].text != "zorg"
    boosted = LanguageModelDecoder(VOCAB, str(tmp_path / "lm.arpa"), hotwords=[("zorg", 2.0)])
    assert boosted(log_probs, lengths, 0.03)[0].text == "zorg"


def test_character_units_put_a_separator_between_words():
    from speech2text.lm import as_characters

    assert list(as_characters([["the", "car"], ["a"]])) == [list("the|car"), ["a"]]


def test_a_character_lm_decodes_without_a_lexicon(tmp_path):
    from speech2text.decoding import is_character_lm
    from speech2text.lm import as_characters

    estimate(list(as_characters(CORPUS * 5)), 5).write_arpa(tmp_path / "chars.arpa")
    estimate(CORPUS, 2).write_arpa(tmp_path / "words.arpa")
    assert is_character_lm(tmp_path / "chars.arpa") and not is_character_lm(tmp_path / "words.arpa")
    # "the r?d car", leaning to "rad": the character LM knows "the red car" far better.
    log_probs = emissions(spell("the rad car", {5: {"a": 0.55, "e": 0.35}}))
    lengths = torch.tensor([log_probs.shape[1]])
    decoder = LanguageModelDecoder(VOCAB, str(tmp_path / "chars.arpa"), lm_weight=1.0, word_score=0.0, nbest=3)
    assert decoder.character_lm
    hypothesis = decoder(log_probs, lengths, 0.03)[0]
    assert hypothesis.text == "the red car"
    assert [w.text for w in hypothesis.words] == ["the", "red", "car"]
    assert [t for t, _ in hypothesis.alternatives][:2] == ["the red car", "the rad car"]
    # Without a lexicon, a word the LM never saw comes out as spelled, where the word LM cannot say it.
    log_probs = emissions(spell("the zorg", {}))
    lengths = torch.tensor([log_probs.shape[1]])
    assert decoder(log_probs, lengths, 0.03)[0].text == "the zorg"
    assert LanguageModelDecoder(VOCAB, str(tmp_path / "words.arpa"))(log_probs, lengths, 0.03)[0].text != "the zorg"


def test_a_character_lm_refuses_a_closed_vocabulary(tmp_path):
    from speech2text.lm import as_characters

    estimate(list(as_characters(CORPUS)), 3).write_arpa(tmp_path / "chars.arpa")
    with pytest.raises(LanguageModelError, match="character LM"):
        LanguageModelDecoder(VOCAB, str(tmp_path / "chars.arpa"), words=["on", "off"])
