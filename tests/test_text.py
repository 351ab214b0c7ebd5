import pytest

from speech2text.text import Vocabulary, normalize_text


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("What is your name?", "what is your name"),
        ("Set a timer for 10 minutes!", "set a timer for ten minutes"),
        ("Wake me at 7:30.", "wake me at seven thirty"),
        ("It cost $5.50 in 1945.", "it cost five dollars fifty cents in nineteen forty five"),
        ("The 21st century & 100% sure", "the twenty first century and one hundred percent sure"),
        ("There were 1,250 men", "there were one thousand two hundred and fifty men"),
        ("Don't 'quote' me", "don't quote me"),
        ("Mr. Smith\u2014the 2nd", "mr smith the second"),
        ("Caf\u00e9  \u2019tis   well-known", "cafe tis well known"),
        ("", ""),
        ("?!...", ""),
    ],
)
def test_normalize_text(written, spoken):
    assert normalize_text(written) == spoken


def test_vocabulary_layout():
    vocabulary = Vocabulary()
    assert len(vocabulary) == 29
    assert vocabulary.blank_id == 0 and vocabulary.symbols[0] == "<blank>"
    assert vocabulary.space_id == 1
    assert vocabulary.symbols[2] == "a" and vocabulary.symbols[27] == "z" and vocabulary.symbols[28] == "'"


def test_vocabulary_round_trip():
    vocabulary = Vocabulary()
    ids = vocabulary.encode("what's up")
    assert ids == [24, 9, 2, 21, 28, 20, 1, 22, 17]
    assert vocabulary.decode(ids) == "what's up"
    assert vocabulary.decode([0, 24, 0, 9]) == "wh"


def test_vocabulary_rejects_unnormalized_text():
    with pytest.raises(ValueError, match="'W'"):
        Vocabulary().encode("What")
