"""Word n-gram language models: modified Kneser-Ney estimation and ARPA files.

Written here because nothing on PyPI estimates one: KenLM's estimator (lmplz) is a
C++ program that the `kenlm` package does not ship, and NLTK's models cannot be
written as ARPA. The estimate follows Chen & Goodman (1998) as KenLM does:
interpolated modified Kneser-Ney with three discounts per order, continuation
counts for lower orders (except n-grams that start with <s>), the unigram
interpolated with a uniform distribution that gives <unk> its mass. The ARPA file
is what torchaudio's ctc_decoder (flashlight-text's KenLM) reads.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import Speech2TextError
from .files import atomic_path
from .text import normalize_text

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
WORD_SEPARATOR = "|"  # a character LM's unit between words; flashlight's word-boundary token too
UNITS = ("words", "chars")
DEFAULT_ORDER = {"words": 3, "chars": 6}
KENLM_MAX_ORDER = 6  # the KenLM inside flashlight-text (PyPI wheels) reads no longer n-grams
NEVER = -99.0  # ARPA's log10 probability of <s>, which is never predicted
# Beam search weights for the bundled model and LM at the default beam (decoding.DEFAULT_BEAM_SIZE),
# tuned with `speech2text lm tune` on the recipe's dev set of real unseen speakers (recipes/default_model,
# stage 6; RESULTS.md, 2026-12-08, stage 5b): 58.7% WER there, against 59.4% at 1.2 / -1, the weights of
# release 0.2.0, and 59.9% at 2.0 / 0, those of 0.1.0.
LM_WEIGHT, WORD_SCORE = 1.6, -1.0


class LanguageModelError(Speech2TextError, ValueError):
    """A language model that cannot be built or read; the message is one line for the user."""


def sentences_from_text(text: str) -> Iterator[list[str]]:
    """Normalized word lists, one per sentence or line of raw text."""
    for piece in re.split(r"(?<=[.!?])\s+|\n+", text):
        words = normalize_text(piece).split()
        if words:
            yield words


def as_characters(sentences: Iterable[list[str]]) -> Iterator[list[str]]:
    """Word lists -> character lists with WORD_SEPARATOR between words: the units of a character LM.

    A character LM lets the beam search spell words no lexicon holds (lexicon-free
    decoding); `estimate` treats the characters as it treats words.
    """
    for words in sentences:
        yield list(WORD_SEPARATOR.join(words))


def without_held_out(sentences: Iterable[list[str]], held_out: set[str]) -> tuple[list[list[str]], int]:
    """Drop every sentence that overlaps a held-out one: equal, part of it, or containing it.

    Text files and manifests split sentences differently, so exact matching alone
    would let pieces of test sentences into the model. Returns (kept, dropped count).
    """
    blob = "\n".join(f" {text} " for text in held_out)
    kept, dropped = [], 0
    for words in sentences:
        padded = f" {' '.join(words)} "
        inside = len(words) >= 3 and padded in blob
        if inside or any(f" {text} " in padded for text in held_out):
            dropped += 1
        else:
            kept.append(words)
    return kept, dropped


@dataclass
class NgramModel:
    """log10 probabilities and backoff weights by n-gram, as an ARPA file holds them."""

    order: int
    log_probs: list[dict[tuple[str, ...], float]]  # [n - 1][n-gram]
    backoffs: list[dict[tuple[str, ...], float]]  # [n - 1][n-gram as a context]; absent means 0

    @property
    def vocabulary(self) -> set[str]:
        return {gram[0] for gram in self.log_probs[0]}

    def log10_prob(self, word: str, context: Iterable[str] = ()) -> float:
        """log10 p(word | context), backing off through shorter contexts."""
        context = tuple(context)[-(self.order - 1) :] if self.order > 1 else ()
        if (word,) not in self.log_probs[0]:
            word = UNK
        penalty = 0.0
        for start in range(len(context) + 1):
            history = context[start:]
            gram = (*history, word)
            if gram in self.log_probs[len(gram) - 1]:
                return penalty + self.log_probs[len(gram) - 1][gram]
            penalty += self.backoffs[len(history) - 1].get(history, 0.0) if history else 0.0
        raise AssertionError("every word has a unigram")  # pragma: no cover

    def perplexity(self, sentences: Iterable[list[str]]) -> float:
        total, count = 0.0, 0
        for words in sentences:
            context = [BOS]
            for word in [*words, EOS]:
                total += self.log10_prob(word, context)
                context.append(word)
                count += 1
        return 10 ** (-total / max(count, 1))

    def write_arpa(self, path: str | Path) -> None:
        """Written to a temporary name and renamed: an interrupted build never leaves half a model."""
        with atomic_path(path) as tmp:
            self._write_arpa(tmp)

    def _write_arpa(self, path: Path) -> None:
        with open(path, "w") as f:
            f.write("\\data\\\n")
            for n, table in enumerate(self.log_probs, 1):
                f.write(f"ngram {n}={len(table)}\n")
            for n, table in enumerate(self.log_probs, 1):
                f.write(f"\n\\{n}-grams:\n")
                backoffs = self.backoffs[n - 1] if n < self.order else {}
                for gram, log_prob in sorted(table.items()):
                    line = f"{log_prob:.6f}\t{' '.join(gram)}"
                    if gram in backoffs:
                        line += f"\t{backoffs[gram]:.6f}"
                    f.write(line + "\n")
            f.write("\n\\end\\\n")

    @classmethod
    def read_arpa(cls, path: str | Path) -> "NgramModel":
        log_probs: list[dict] = []
        backoffs: list[dict] = []
        section = 0
        try:
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    match = re.fullmatch(r"\\(\d+)-grams:", line)
                    if match:
                        section = int(match.group(1))
                        log_probs.append({})
                        backoffs.append({})
                    elif section and line and not line.startswith("\\"):
                        fields = line.split("\t")
                        if len(fields) == 1:
                            fields = line.split()
                            fields = [fields[0], " ".join(fields[1 : 1 + section]), *fields[1 + section :]]
                        gram = tuple(fields[1].split())
                        log_probs[-1][gram] = float(fields[0])
                        if len(fields) > 2:
                            backoffs[-1][gram] = float(fields[2])
        except (OSError, UnicodeDecodeError, ValueError, IndexError) as error:
            raise LanguageModelError(f"{path}: not a readable ARPA language model ({error})") from None
        if not log_probs:
            raise LanguageModelError(f"{path}: not an ARPA language model (no \\1-grams: section)")
        return cls(len(log_probs), log_probs, backoffs)


def arpa_vocabulary(path: str | Path) -> list[str]:
    """The words of an ARPA model (its 1-grams without <s>, </s>, <unk>), read without the rest."""
    words, inside = [], False
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("\\1-grams:"):
                    inside = True
                elif inside and line.startswith("\\"):
                    break
                elif inside and line.strip():
                    word = line.split()[1]
                    if word not in (BOS, EOS, UNK):
                        words.append(word)
    except (OSError, UnicodeDecodeError, IndexError) as error:
        raise LanguageModelError(f"{path}: not a readable ARPA language model ({error})") from None
    if not words:
        raise LanguageModelError(f"{path}: not an ARPA language model (no words in a \\1-grams: section)")
    return words


def count_ngrams(sentences: Iterable[list[str]], order: int) -> list[Counter]:
    """Raw counts of every n-gram up to `order`, each sentence padded with <s> and </s>."""
    counts = [Counter() for _ in range(order)]
    for words in sentences:
        padded = (BOS, *words, EOS)
        for n in range(1, order + 1):
            counts[n - 1].update(zip(*(padded[i:] for i in range(n))))
    return counts


def discounts(adjusted: Counter) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the counts of counts (Chen & Goodman eq. 26)."""
    t = Counter(min(count, 4) for count in adjusted.values())
    try:
        y = t[1] / (t[1] + 2 * t[2])
        found = (1 - 2 * y * t[2] / t[1], 2 - 3 * y * t[3] / t[2], 3 - 4 * y * t[4] / t[3])
    except ZeroDivisionError:
        found = (0.0, 0.0, 0.0)
    # Tiny corpora can lack the counts of counts the formula needs; fall back to fixed discounts.
    if not all(0 < d <= k for d, k in zip(found, (1, 2, 3))):
        return (0.5, 1.0, 1.5)
    return found


def estimate(sentences: Iterable[list[str]], order: int = 3, prune_singletons: bool = False) -> NgramModel:
    """An interpolated modified Kneser-Ney model of `order`.

    prune_singletons drops highest-order n-grams seen once (most of a model's size) and
    renormalizes each context's backoff weight, so every distribution still sums to one.
    """
    if order < 1:
        raise LanguageModelError("the order must be at least 1")
    counts = count_ngrams(sentences, order)
    if not counts[0]:
        raise LanguageModelError("no words in the text")

    # Adjusted counts: raw counts at the top order and for n-grams starting with <s> (which
    # cannot be extended to the left); continuation counts N1+(. g) everywhere else.
    adjusted = [Counter() for _ in range(order)]
    adjusted[-1] = counts[-1]
    for n in range(order - 1, 0, -1):
        for gram in counts[n]:
            adjusted[n - 1][gram[1:]] += 1
        for gram, count in counts[n - 1].items():
            if gram[0] == BOS:
                adjusted[n - 1][gram] = count
    del adjusted[0][(BOS,)]

    log_probs: list[dict] = [{} for _ in range(order)]
    backoffs: list[dict] = [{} for _ in range(order)]
    probs: dict[tuple[str, ...], float] = {}  # linear probabilities of the order below
    for n in range(1, order + 1):
        d1, d2, d3 = discounts(adjusted[n - 1])
        by_context: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
        for gram, count in adjusted[n - 1].items():
            by_context[gram[:-1]].append((gram[-1], count))
        vocabulary_size = len(adjusted[0]) + 1  # the words and </s>, plus <unk>
        current: dict[tuple[str, ...], float] = {}
        for context, followers in by_context.items():
            total = sum(count for _, count in followers)
            kinds = Counter(min(count, 3) for _, count in followers)
            gamma = (d1 * kinds[1] + d2 * kinds[2] + d3 * kinds[3]) / total
            kept_mass, kept_lower_mass = 0.0, 0.0
            for word, count in followers:
                discount = (0.0, d1, d2, d3)[min(count, 3)]
                lower = 1 / vocabulary_size if n == 1 else probs[(*context[1:], word)]
                prob = (count - discount) / total + gamma * lower
                if prune_singletons and n == order > 1 and count == 1:
                    continue
                current[(*context, word)] = prob
                kept_mass += prob
                kept_lower_mass += lower
            if n == 1:
                current[(UNK,)] = gamma / vocabulary_size
            elif prune_singletons and n == order:
                # Mass of the pruned n-grams goes back to the lower order: renormalize the backoff.
                gamma = (1 - kept_mass) / max(1 - kept_lower_mass, 1e-12)
            if n > 1:
                backoffs[n - 2][context] = math.log10(gamma)
        log_probs[n - 1] = {gram: math.log10(p) for gram, p in current.items()}
        probs = current
        if n == 1:
            log_probs[0][(BOS,)] = NEVER
    # Contexts that never continue have no backoff entry: ARPA reads that as log10(1) = 0.
    return NgramModel(order, log_probs, backoffs)
