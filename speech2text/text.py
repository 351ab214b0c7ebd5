"""Text side of the pipeline: a normalizer and the character vocabulary.

The normalizer turns written English ("Set a timer for 10 minutes!") into the
spoken form the acoustic model emits ("set a timer for ten minutes"). Numbers
are spelled out by num2words, a maintained library, rather than by our own
rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from num2words import num2words

BLANK = "<blank>"
SPACE = " "
LETTERS = "abcdefghijklmnopqrstuvwxyz'"

_SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_CURRENCY = re.compile(r"([$£€])\s*(\d[\d,]*(?:\.\d+)?)")
_CURRENCY_NAMES = {"$": ("dollar", "dollars"), "£": ("pound", "pounds"), "€": ("euro", "euros")}
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_CHAR_FIXES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u2014": " ", "\u2013": " "})


_DIGIT_NAMES = dict(zip("0123456789.", "zero one two three four five six seven eight nine point".split()))


def _say(number: str, to: str = "cardinal") -> str:
    """num2words of a string of digits (with at most one '.'), or for a number it cannot spell (past 10^300,
    or more digits than Python turns into an int) each digit by name, as such a number is read out."""
    try:
        return num2words(float(number) if "." in number else int(number), to=to)
    except (OverflowError, ValueError):  # num2words: OverflowError past its largest name; int(): too many digits
        return " ".join(_DIGIT_NAMES[char] for char in number)


def _spell_number(token: str) -> str:
    digits = token.replace(",", "")
    # A lone four-digit number between 1100 and 2099 is almost always a year ("in 1945").
    if len(digits) == 4 and "." not in digits and 1100 <= int(digits) <= 2099 and "," not in token:
        return _say(digits, to="year")
    return _say(digits)


def _spell_currency(match: re.Match) -> str:
    singular, plural = _CURRENCY_NAMES[match.group(1)]
    amount = match.group(2).replace(",", "")
    whole, _, cents = amount.partition(".")
    words = f"{_say(whole)} {singular if whole.lstrip('0') == '1' else plural}"
    if cents and int(cents[:2]):
        words += f" {_say(cents[:2].ljust(2, '0'))} cents"
    return f" {words} "


def normalize_text(text: str) -> str:
    """Spoken-form lowercase text: only a-z, apostrophe and single spaces.

    >>> normalize_text("Set a timer for 10 minutes, at 3:30!")
    'set a timer for ten minutes at three thirty'
    """
    text = unicodedata.normalize("NFKD", text.translate(_CHAR_FIXES))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = _CURRENCY.sub(_spell_currency, text)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", lambda m: f"{m.group(1)} {m.group(2) if m.group(2) != '00' else ''}", text)
    text = _ORDINAL.sub(lambda m: f" {_say(m.group(1), to='ordinal')} ", text)
    for symbol, words in _SYMBOL_WORDS.items():
        text = text.replace(symbol, words)
    text = _NUMBER.sub(lambda m: f" {_spell_number(m.group(0))} ", text)
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z' ]+", " ", text)
    # Apostrophes survive only inside words ("don't"), not as quotes.
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Vocabulary:
    """Character vocabulary for CTC: index 0 is the blank, then space, a-z and apostrophe."""

    symbols: tuple[str, ...] = (BLANK, SPACE, *LETTERS)

    @property
    def blank_id(self) -> int:
        return 0

    @property
    def space_id(self) -> int:
        return self.symbols.index(SPACE)

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str) -> list[int]:
        """Ids of already-normalized text; raises ValueError on a character outside the vocabulary."""
        index = {symbol: i for i, symbol in enumerate(self.symbols)}
        try:
            return [index[char] for char in text]
        except KeyError as error:
            raise ValueError(f"character {error.args[0]!r} is not in the vocabulary; normalize the text first") from None

    def decode(self, ids) -> str:
        return "".join(self.symbols[i] for i in ids if i != self.blank_id)
