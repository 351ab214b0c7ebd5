"""Turning CTC log-probs into text, with a time and a confidence for every word."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .lm import LM_WEIGHT, WORD_SCORE
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


@functools.cache
def _phrase_boost_lm_class():
    """PhraseBoostLM is defined on first use: its base class lives in torchaudio's decoder module."""
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import create_word_dict, load_words
    from torchaudio.models.decoder import CTCDecoderLM, CTCDecoderLMState

    class PhraseBoostLM(CTCDecoderLM):
        """KenLM plus contextual biasing: words that continue a user phrase earn its bonus.

        Each word of a phrase earns bonus / len(phrase) as it is said; a partial phrase
        that breaks off gives its earnings back, so only whole phrases gain. States form
        a tree of word histories (state.child), and each state's KenLM state and phrase
        progress are kept in a dict, since flashlight's state objects take no attributes.
        """

        def __init__(self, lm_path: str, lexicon: str, hotwords: list[tuple[list[str], float]]):
            super().__init__()
            word_dict = create_word_dict(load_words(lexicon))
            self.kenlm = KenLM(str(lm_path), word_dict)
            self.phrases = [([word_dict.get_index(w) for w in words], bonus / len(words)) for words, bonus in hotwords]
            self.info: dict = {}

        def start(self, start_with_nothing: bool):
            state = CTCDecoderLMState()
            # (KenLM state, (phrase index, words matched) or None, bonus earned by the open phrase)
            self.info = {state: (self.kenlm.start(start_with_nothing), None, 0.0, 0.0)}
            return state

        def _advance(self, match, earned: float, word: int) -> tuple[object, float, float]:
            """(new match, new earned, bonus for this word) after `word`."""
            if match is not None:
                phrase, matched = match
                words, per_word = self.phrases[phrase]
                if words[matched] == word:
                    if matched + 1 == len(words):
                        return None, 0.0, per_word
                    return (phrase, matched + 1), earned + per_word, per_word
            refund = -earned  # a phrase broken off gives its partial bonus back
            starts = [(per_word, i) for i, (words, per_word) in enumerate(self.phrases) if words[0] == word]
            if not starts:
                return None, 0.0, refund
            per_word, phrase = max(starts)
            if len(self.phrases[phrase][0]) == 1:
                return None, 0.0, refund + per_word
            return (phrase, 1), per_word, refund + per_word

        def score(self, state, word: int):
            child = state.child(word)
            if child not in self.info:
                kenlm_state, match, earned, _ = self.info[state]
                kenlm_next, lm_score = self.kenlm.score(kenlm_state, word)
                match, earned, bonus = self._advance(match, earned, word)
                self.info[child] = (kenlm_next, match, earned, lm_score + bonus)
            return child, self.info[child][3]

        def finish(self, state):
            kenlm_state, _, earned, _ = self.info[state]
            _, lm_score = self.kenlm.finish(kenlm_state)
            return state, lm_score - earned

    return PhraseBoostLM


@contextlib.contextmanager
def _quiet_stderr():
    """Silence output that C++ code writes to file descriptor 2, which Python cannot redirect otherwise."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LanguageModelDecoder:
    """CTC beam search with a word n-gram language model.

    torchaudio's ctc_decoder (flashlight-text's KenLM reads the ARPA file) with a
    lexicon: the search spells words letter by letter and scores each finished
    word with the LM. The lexicon is the LM's own vocabulary, or `words` for a
    closed command set; only those words can come out. (Lexicon-free search in
    flashlight queries the LM per character, which needs a character LM.) Word
    times and confidences come from forced alignment of the chosen text, as in
    beam_decode; `alternatives` holds the n-best texts with their scores.

    hotwords: (phrase, bonus) pairs. Each phrase's words join the lexicon, so even
    words the LM never saw can come out, and a hypothesis that says the whole
    phrase gains `bonus` (log10 units, scaled by lm_weight like the LM).
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        lm_path: str,
        beam_size: int = 32,
        lm_weight: float = LM_WEIGHT,
        word_score: float = WORD_SCORE,
        words: list[str] | None = None,
        nbest: int = 1,
        hotwords: list[tuple[str, float]] | None = None,
    ):
        import tempfile

        from torchaudio.models.decoder import ctc_decoder

        from .lm import LanguageModelError, arpa_vocabulary

        self.vocabulary = vocabulary
        # flashlight marks word boundaries with a separator token; ours is the space symbol.
        self.tokens = ["|" if symbol == " " else symbol for symbol in vocabulary.symbols]
        spellable = set(vocabulary.symbols[1:])
        hotwords = [(phrase.split(), bonus) for phrase, bonus in hotwords or []]
        words = [*(words if words is not None else arpa_vocabulary(lm_path)), *(w for phrase, _ in hotwords for w in phrase)]
        words = sorted({w for w in words if set(w) <= spellable})
        # The lexicon spells each word in tokens. No separator at the end, as in torchaudio's
        # examples: our model emits a space only between words, so the last word would never end.
        with tempfile.NamedTemporaryFile("w", suffix=".lexicon", delete=False) as f:
            f.writelines(f"{word}\t{' '.join(word)}\n" for word in words)
            lexicon = f.name
        try:
            with _quiet_stderr():  # KenLM prints loading progress bars on stderr
                lm = _phrase_boost_lm_class()(lm_path, lexicon, hotwords) if hotwords else str(lm_path)
                self.decoder = ctc_decoder(
                    lexicon=lexicon,
                    tokens=self.tokens,
                    lm=lm,
                    nbest=nbest,
                    beam_size=beam_size,
                    lm_weight=lm_weight,
                    word_score=word_score,
                    sil_score=0.0,
                    blank_token=self.tokens[vocabulary.blank_id],
                    sil_token="|",
                    unk_word="<unk>",
                )
        except RuntimeError as error:  # flashlight's loaders raise this for unreadable files
            raise LanguageModelError(f"{lm_path}: cannot load the language model ({error})") from None
        finally:
            Path(lexicon).unlink()

    def __call__(self, log_probs: torch.Tensor, lengths: torch.Tensor, frame_shift_s: float) -> list[Hypothesis]:
        results = self.decoder(log_probs.float().contiguous(), lengths.to(torch.int32))
        hypotheses = []
        for nbest, frames, length in zip(results, log_probs, lengths.tolist()):
            # The words, not the tokens: a path may end inside a word that the lexicon never finished.
            texts = [(" ".join(w for w in h.words if w != "<unk>"), round(h.score, 4)) for h in nbest]
            best = texts[0][0] if texts else ""
            words = align_words(frames[:length], tuple(self.vocabulary.encode(best)), self.vocabulary, frame_shift_s)
            hypotheses.append(Hypothesis(" ".join(w.text for w in words), words, texts))
        return hypotheses
