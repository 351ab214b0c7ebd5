"""Turning CTC log-probs into text, with a time and a confidence for every word.

Everything here works on numpy arrays (torch tensors are accepted and read as
numpy), so the torch-free backend (backends.OnnxBackend) decodes with the same code.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .lm import LM_WEIGHT, WORD_SCORE, WORD_SEPARATOR
from .text import Vocabulary

DECODERS = ("greedy", "beam", "lm")
# The LM search's widths: a beam of 128, each hypothesis grown by only its BEAM_SIZE_TOKEN likeliest tokens
# per frame, none kept BEAM_THRESHOLD (natural log) behind the best: flashlight's beam_size, beam_size_token
# and beam_threshold. On the bundled model's dev set of real unseen speakers (benchmarks/lm_search.py,
# 2026-12-08b, 2 threads), beam 128 gives 59.2% WER at 0.29 of beam 1024's search time (58.4%), the
# narrowest beam within a point of it: the whole decoder then runs file by file at RTF 0.016, under a
# fifth of whisper tiny.en's. Beam 256: 58.6%, RTF 0.021; beam 64: 59.6%. RESULTS.md has the sweeps.
DEFAULT_BEAM_SIZE = {"greedy": 1, "beam": 8, "lm": 128}
BEAM_SIZE_TOKEN = 12
BEAM_THRESHOLD = 15.0
# The LM search starts afresh, as at a sentence start, after every pause between words of at least
# PAUSE_S: a run of frames where blank or the word separator is the likeliest token, with a separator
# among them. A search that runs on through a window of several sentences carries one sentence's LM
# context into the next and prunes over the whole window. A pause with no separator is inside a word:
# slow speakers draw a digit out ("o", 0.4 s of blank, "ne"), and a cut there split it in two.
# Chosen on the dev sets joined into one file each (LJ Speech 25 utterances, 2.7 min; the held-out
# natural voice 50), with the bundled model: no restarts 15.7% / 29.5% WER; 0.2 s 14.7% / 29.2%;
# 0.3 s 14.1% / 28.7%; 0.45 s 13.9% / 28.7%, but 29.7% against 29.0% on the natural voice's
# sentences one at a time, where 0.3 s changes nothing. recipes/default_model/RESULTS.md has the sweep.
PAUSE_S = 0.3


@dataclass(frozen=True)
class DecodingOptions:
    """Every decoding choice, checked once, as whisper's DecodingOptions: the CLI flags of `transcribe`,
    `listen`, `evaluate` and `serve` map onto these fields one to one (cli.common.decoding_options).

    The one rule between them is written here: an LM file, a closed vocabulary or a hotword implies the
    LM decoder. beam_size None is the decoder's default (DEFAULT_BEAM_SIZE); lm None is the bundled LM.
    """

    decoder: str = "lm"
    beam_size: int | None = None
    lm: str | None = None
    lm_weight: float = LM_WEIGHT
    word_score: float = WORD_SCORE
    hotwords: tuple[tuple[str, float], ...] = ()
    words: tuple[str, ...] | None = None
    nbest: int = 5

    def __post_init__(self):
        if self.lm is not None or self.words is not None or self.hotwords:
            object.__setattr__(self, "decoder", "lm")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, not {self.decoder!r}")
        if self.beam_size is not None and self.beam_size < 1:
            raise ValueError(f"beam size must be at least 1, not {self.beam_size}")
        numbers = [self.lm_weight, self.word_score, *(bonus for _, bonus in self.hotwords)]
        if not all(math.isfinite(x) for x in numbers):  # a weight of nan silently empties every transcript
            raise ValueError("LM weight, word score and hotword bonuses must be finite numbers")
        if self.words is not None and not self.words:
            raise ValueError("an empty closed vocabulary would make every transcript empty")

    @property
    def search_beam_size(self) -> int:
        return self.beam_size or DEFAULT_BEAM_SIZE[self.decoder]

    def lm_options(self) -> dict:
        """Transcriber.load_language_model's arguments for decoder "lm"."""
        return {"path": self.lm, "words": list(self.words) if self.words is not None else None,
                "beam_size": self.search_beam_size, "lm_weight": self.lm_weight, "word_score": self.word_score,
                "nbest": self.nbest, "hotwords": list(self.hotwords) or None}


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """The one result type: of a decoder, a file, a stream's utterance (stream.StreamEvent adds its kind).

    Times are seconds from the start of what was given: a decoder's window, a file, a stream. The
    Transcriber moves each window's result to the file's clock with `shifted`, the streamer each
    utterance's to the stream's. `alternatives`: the beam's n-best list as (text, log-probability).
    """

    text: str
    words: list[Word] = field(default_factory=list)
    start_s: float = 0.0
    end_s: float = 0.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return round(self.end_s - self.start_s, 3)

    @property
    def confidence(self) -> float:
        """The geometric mean of the words' confidences; 0 without words."""
        if not self.words:
            return 0.0
        return round(float(np.exp(np.mean(np.log([max(w.confidence, 1e-12) for w in self.words])))), 4)

    def shifted(self, offset_s: float, end_s: float | None = None) -> Transcript:
        """The same result on a clock that started `offset_s` earlier; words end by `end_s` where given
        (a window's last output frame may reach past its audio by up to a frame of subsampling)."""
        end_s = round(self.end_s + offset_s if end_s is None else end_s, 3)
        words = [Word(w.text, round(w.start_s + offset_s, 3), min(round(w.end_s + offset_s, 3), end_s), w.confidence)
                 for w in self.words]
        return Transcript(self.text, words, round(self.start_s + offset_s, 3), end_s, self.alternatives)

    def to_dict(self) -> dict:
        return {"text": self.text, "words": [asdict(w) for w in self.words], "start_s": self.start_s,
                "end_s": self.end_s, "duration_s": self.duration_s, "confidence": self.confidence,
                "alternatives": [list(a) for a in self.alternatives]}


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


def as_numpy(array, dtype=np.float32) -> np.ndarray:
    """A numpy array, C-contiguous, of `dtype`, from a numpy array or a CPU torch tensor."""
    if hasattr(array, "detach"):  # a torch tensor; torch itself is not imported here
        array = array.detach().numpy()
    return np.ascontiguousarray(array, dtype=dtype)


def _transcript(words: list[Word], frames: int, frame_shift_s: float, alternatives=()) -> Transcript:
    """A decoder's result for one window of `frames` output frames."""
    return Transcript(" ".join(w.text for w in words), words, 0.0, round(frames * frame_shift_s, 3), list(alternatives))


def greedy_decode(log_probs, lengths, vocabulary: Vocabulary, frame_shift_s: float) -> list[Transcript]:
    """Best-path CTC decoding of a batch: log_probs (batch, frames, vocab), lengths (batch,)."""
    log_probs = as_numpy(log_probs)
    best_ids = log_probs.argmax(axis=-1)
    best_log_probs = np.take_along_axis(log_probs, best_ids[..., None], axis=-1)[..., 0]
    transcripts = []
    for ids, scores, length in zip(best_ids, best_log_probs, as_numpy(lengths, np.int64).tolist()):
        chars = _chars_from_path(ids[:length], scores[:length], vocabulary)
        transcripts.append(_transcript(words_from_chars(chars, frame_shift_s), length, frame_shift_s))
    return transcripts


def forced_align(log_probs: np.ndarray, targets: tuple[int, ...], blank_id: int = 0) -> np.ndarray:
    """The most likely frame path (frames,) of token ids that collapses to `targets` (CTC Viterbi).

    log_probs: (frames, vocab). The same search as torchaudio.functional.forced_align,
    ties broken the same way (stay, then step, then skip), written here in numpy so
    that word times need no torch (tests/test_decoding.py checks the two agree).
    """
    labels = np.full(2 * len(targets) + 1, blank_id)
    labels[1::2] = targets
    states = len(labels)
    emit = log_probs[:, labels]  # (frames, states)
    # A label may be entered straight from the previous label, skipping the blank between, unless it repeats it.
    can_skip = np.zeros(states, bool)
    can_skip[3::2] = labels[3::2] != labels[1:-2:2]
    score = np.full(states, -np.inf)
    score[:2] = emit[0, :2]
    came_by = np.zeros((len(log_probs), states), np.int8)  # 0 stayed, 1 stepped one state, 2 skipped a blank
    none = np.full(2, -np.inf)
    for t in range(1, len(log_probs)):
        skip = np.where(can_skip, np.concatenate([none, score[:-2]]), -np.inf)
        choices = np.stack([score, np.concatenate([none[:1], score[:-1]]), skip])
        came_by[t] = choices.argmax(axis=0)
        score = np.take_along_axis(choices, came_by[t][None].astype(np.int64), axis=0)[0] + emit[t]
    state = states - 1 if states == 1 or score[-1] > score[-2] else states - 2
    path = np.empty(len(log_probs), np.int64)
    for t in range(len(log_probs) - 1, -1, -1):
        path[t] = labels[state]
        state -= int(came_by[t, state])
    return path


def align_words(log_probs, ids: tuple[int, ...], vocabulary: Vocabulary, frame_shift_s: float) -> list[Word]:
    """Word times and confidences for a chosen transcript by CTC forced alignment; log_probs (frames, vocab)."""
    if not ids:
        return []
    log_probs = as_numpy(log_probs)
    path = forced_align(log_probs, ids, vocabulary.blank_id)
    chars = _chars_from_path(path, log_probs[np.arange(len(path)), path], vocabulary)
    return words_from_chars(chars, frame_shift_s)


def _merge_alternatives(texts: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """n-best (text, log-prob) with the entries of one text summed (hypotheses that differ only in
    spaces read the same), best first; equal scores in alphabetical order, so that results never
    depend on the search's internal order."""
    merged: dict[str, float] = {}
    for text, score in texts:
        merged[text] = float(np.logaddexp(merged[text], score)) if text in merged else score
    return sorted(((t, round(s, 4)) for t, s in merged.items()), key=lambda item: (-item[1], item[0]))


def _beam_search(vocab_size: int, separator: int, blank_id: int, beam_size: int):
    """flashlight-text's lexicon-free CTC beam search with no LM: the engine of the LM decoder, so
    "beam" and "lm" are one search. log_add sums every frame path of a prefix (a prefix beam search).
    Made per call (it costs microseconds): a search holds its beam, so one is never shared by threads."""
    from flashlight.lib.text import decoder as fl

    options = fl.LexiconFreeDecoderOptions(
        beam_size=beam_size, beam_size_token=vocab_size, beam_threshold=50.0, lm_weight=0.0, sil_score=0.0,
        log_add=True, criterion_type=fl.CriterionType.CTC,
    )
    return fl.LexiconFreeDecoder(options, fl.ZeroLM(), separator, blank_id, [])


def _token_text(tokens, vocabulary: Vocabulary) -> str:
    """A search result's frame tokens -> text: repeats merged, blanks and flashlight's -1 padding dropped."""
    ids = [int(t) for t, _ in itertools.groupby(tokens) if t >= 0 and t != vocabulary.blank_id]
    return " ".join(vocabulary.decode(ids).split())


def beam_decode(log_probs, lengths, vocabulary: Vocabulary, frame_shift_s: float, beam_size: int = 8) -> list[Transcript]:
    """CTC beam search without a language model over a batch; words are timed by forced alignment of
    the best text. Each Transcript carries its n-best list in `alternatives` as (text, log-probability)."""
    log_probs = as_numpy(log_probs)
    vocab = log_probs.shape[-1]
    search = _beam_search(vocab, vocabulary.symbols.index(" "), vocabulary.blank_id, beam_size)
    transcripts = []
    for b, length in enumerate(as_numpy(lengths, np.int64).tolist()):
        results = search.decode(log_probs.ctypes.data + b * log_probs.strides[0], length, vocab)
        nbest = _merge_alternatives([(_token_text(r.tokens, vocabulary), r.score) for r in results])[:beam_size]
        best = nbest[0][0] if nbest else ""
        words = align_words(log_probs[b, :length], tuple(vocabulary.encode(best)), vocabulary, frame_shift_s)
        transcripts.append(_transcript(words, length, frame_shift_s, nbest))
    return transcripts


@functools.cache
def _phrase_boost_lm_class():
    """PhraseBoostLM is defined on first use: its base class lives in flashlight-text."""
    from flashlight.lib.text.decoder import LM
    from flashlight.lib.text.decoder.kenlm import KenLM

    class PhraseBoostLM(LM):
        """KenLM plus contextual biasing: words that continue a user phrase earn its bonus.

        Each word of a phrase earns bonus / len(phrase) as it is said; a partial phrase
        that breaks off gives its earnings back, so only whole phrases gain. States form
        a tree of word histories (state.child), and each state's KenLM state and phrase
        progress are kept in a dict, since flashlight's state objects take no attributes.
        """

        def __init__(self, lm_path: str, word_dict, hotwords: list[tuple[list[str], float]]):
            super().__init__()
            self.kenlm = KenLM(str(lm_path), word_dict)
            self.phrases = [([word_dict.get_index(w) for w in words], bonus / len(words)) for words, bonus in hotwords]
            self.info: dict = {}

        def start(self, start_with_nothing: bool):
            from flashlight.lib.text.decoder import LMState

            state = LMState()
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


def is_character_lm(path: str | Path) -> bool:
    """Whether an ARPA model's units are characters (`lm build --units chars`) rather than words."""
    from .lm import arpa_vocabulary

    units = arpa_vocabulary(path)
    return WORD_SEPARATOR in units and all(len(unit) == 1 for unit in units)


def pause_bounds(log_probs: np.ndarray, blank_id: int, separator_id: int, min_frames: int) -> list[int]:
    """Frame indices that cut (frames, vocab) log-probs in the middle of every pause between words.

    A pause is a run of at least min_frames frames whose likeliest token is blank or the word
    separator, with letters on both sides and a separator among them (without one it is a pause
    inside a word). The list starts at 0 and ends at the number of frames; min_frames < 1: no cut.
    """
    bounds = [0]
    if min_frames >= 1 and len(log_probs):
        best = log_probs.argmax(axis=-1)
        letters = np.flatnonzero((best != blank_id) & (best != separator_id))
        gaps = np.diff(letters) - 1  # frames between consecutive letters
        for i in np.flatnonzero(gaps >= min_frames):
            start = letters[i] + 1
            if (best[start:letters[i + 1]] == separator_id).any():
                bounds.append(int(start + gaps[i] // 2))
    return [*bounds, len(log_probs)]


class LanguageModelDecoder:
    """CTC beam search with an n-gram language model, word-level or character-level.

    flashlight-text's beam search and KenLM (the engine behind torchaudio's
    ctc_decoder, used here directly so that decoding needs no torch).

    A word LM (the default) searches with a lexicon: the search spells words letter
    by letter and scores each finished word with the LM. The lexicon is the LM's own
    vocabulary, or `words` for a closed command set; only those words can come out.
    A character LM (`speech2text lm build --units chars`, detected from the file)
    searches without a lexicon: the LM scores every character, with "|" between
    words, so any spelling can come out; word_score is then the bonus per word break.
    Word times and confidences come from forced alignment of the chosen text, as in
    beam_decode; `alternatives` holds the n-best texts with their scores.

    hotwords: (phrase, bonus) pairs. Each phrase's words join the lexicon, so even
    words the LM never saw can come out, and a hypothesis that says the whole
    phrase gains `bonus` (log10 units, scaled by lm_weight like the LM).
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        lm_path: str,
        beam_size: int = DEFAULT_BEAM_SIZE["lm"],
        lm_weight: float = LM_WEIGHT,
        word_score: float = WORD_SCORE,
        words: list[str] | None = None,
        nbest: int = 1,
        hotwords: list[tuple[str, float]] | None = None,
        pause_s: float = PAUSE_S,
    ):
        from flashlight.lib.text import decoder as fl
        from flashlight.lib.text.decoder.kenlm import KenLM
        from flashlight.lib.text.dictionary import Dictionary, create_word_dict

        from .lm import LanguageModelError, arpa_vocabulary

        self.vocabulary = vocabulary
        self.nbest = nbest
        self.pause_s = pause_s  # 0 or less: one search per item
        # flashlight marks word boundaries with a separator token; ours is the space symbol.
        self.tokens = [WORD_SEPARATOR if symbol == " " else symbol for symbol in vocabulary.symbols]
        tokens = Dictionary(self.tokens)
        separator = tokens.get_index(WORD_SEPARATOR)
        token_beam = min(BEAM_SIZE_TOKEN, len(self.tokens))
        self.character_lm = is_character_lm(lm_path)
        if self.character_lm and (words is not None or hotwords):
            raise LanguageModelError(f"{lm_path}: a character LM decodes without a lexicon; closed vocabularies "
                                     "and hotwords need a word LM")
        try:
            with _quiet_stderr():  # KenLM prints loading progress bars on stderr
                if self.character_lm:
                    # Lexicon-free: the LM is asked about token ids, so its dictionary is the token list.
                    self.lm = KenLM(str(lm_path), tokens)
                    options = fl.LexiconFreeDecoderOptions(
                        beam_size=beam_size, beam_size_token=token_beam, beam_threshold=BEAM_THRESHOLD,
                        lm_weight=lm_weight, sil_score=word_score, log_add=False, criterion_type=fl.CriterionType.CTC,
                    )
                    self.decoder = fl.LexiconFreeDecoder(options, self.lm, separator, vocabulary.blank_id, [])
                    return
                spellable = set(vocabulary.symbols[1:])
                phrases = [(phrase.split(), bonus) for phrase, bonus in hotwords or []]
                words = [*(words if words is not None else arpa_vocabulary(lm_path)), *(w for p, _ in phrases for w in p)]
                # Each word is spelled letter by letter. No separator at the end, as in torchaudio's examples:
                # our model emits a space only between words, so the last word would never end.
                lexicon = {"<unk>": [], **{w: [list(w)] for w in sorted({w for w in words if set(w) <= spellable})}}
                self.word_dict = create_word_dict(lexicon)
                self.lm = (_phrase_boost_lm_class()(lm_path, self.word_dict, phrases) if phrases
                           else KenLM(str(lm_path), self.word_dict))
                self.decoder = fl.LexiconDecoder(
                    fl.LexiconDecoderOptions(
                        beam_size=beam_size, beam_size_token=token_beam, beam_threshold=BEAM_THRESHOLD,
                        lm_weight=lm_weight, word_score=word_score, unk_score=float("-inf"), sil_score=0.0, log_add=False,
                        criterion_type=fl.CriterionType.CTC,
                    ),
                    self._trie(lexicon, tokens, separator), self.lm, separator, vocabulary.blank_id,
                    self.word_dict.get_index("<unk>"), [], False,
                )
        except RuntimeError as error:  # flashlight's loaders raise this for unreadable files
            reason = str(error).strip().splitlines()[0]  # KenLM's messages run over several lines
            raise LanguageModelError(f"{lm_path}: cannot load the language model ({reason})") from None

    def _trie(self, lexicon: dict, tokens, separator: int):
        """The lexicon as a prefix tree of token ids, each word weighted by its unigram score (as torchaudio builds it)."""
        from flashlight.lib.text import decoder as fl

        trie = fl.Trie(len(self.tokens), separator)
        start = self.lm.start(False)
        for word, spellings in lexicon.items():
            index = self.word_dict.get_index(word)
            _, score = self.lm.score(start, index)
            for spelling in spellings:
                trie.insert([tokens.get_index(t) for t in spelling], index, score)
        trie.smear(fl.SmearingMode.MAX)
        return trie

    def _text(self, result) -> str:
        if self.character_lm:
            return _token_text(result.tokens, self.vocabulary)
        # The words, not the tokens: a path may end inside a word that the lexicon never finished.
        return " ".join(self.word_dict.get_entry(w) for w in result.words if w >= 0 and self.word_dict.get_entry(w) != "<unk>")

    def _search(self, log_probs: np.ndarray, b: int, start: int, end: int) -> list[tuple[str, float]]:
        """The n-best (text, score) of frames start:end of batch item b."""
        address = log_probs.ctypes.data + b * log_probs.strides[0] + start * log_probs.strides[1]
        results = self.decoder.decode(address, end - start, log_probs.shape[-1])[: self.nbest]
        return [(self._text(r), round(r.score, 4)) for r in results]

    def __call__(self, log_probs, lengths, frame_shift_s: float) -> list[Transcript]:
        """log_probs (batch, frames, vocab) and lengths (batch,), numpy or torch -> one Transcript each.

        Each item is searched in stretches between pauses (PAUSE_S); its n-best list is kept only
        when it is one stretch, and is otherwise the joined best texts with the summed score.
        """
        log_probs = np.ascontiguousarray(as_numpy(log_probs))
        transcripts = []
        for b, length in enumerate(as_numpy(lengths, np.int64).tolist()):
            bounds = pause_bounds(log_probs[b, :length], self.vocabulary.blank_id, self.vocabulary.space_id,
                                  round(self.pause_s / frame_shift_s))
            stretches = [self._search(log_probs, b, start, end) for start, end in zip(bounds, bounds[1:])]
            if len(stretches) == 1:
                texts = stretches[0]
            else:
                bests = [found[0] for found in stretches if found]
                texts = [(" ".join(t for t, _ in bests if t), round(sum(s for _, s in bests), 4))]
            best = texts[0][0] if texts else ""
            words = align_words(log_probs[b, :length], tuple(self.vocabulary.encode(best)), self.vocabulary, frame_shift_s)
            transcripts.append(_transcript(words, length, frame_shift_s, texts))
        return transcripts
