"""Manifests, datasets and length-bucketed batches for training and evaluation.

A manifest is JSON lines: {"audio": path, "text": transcript, "duration": seconds}.
Relative audio paths are resolved against the manifest's folder.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch
from torch.utils.data import Dataset, Sampler

from .audio import load_audio
from .text import Vocabulary, normalize_text


class ManifestError(ValueError):
    pass


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a JSON-lines manifest, audio paths made absolute, text normalized."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            audio = Path(row["audio"])
            row["audio"] = str(audio if audio.is_absolute() else path.parent / audio)
            row["text"] = normalize_text(row["text"])
            row["duration"] = float(row["duration"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ManifestError(f"{path}:{number}: bad manifest line ({type(error).__name__}: {error})") from None
        rows.append(row)
    if not rows:
        raise ManifestError(f"{path}: the manifest is empty")
    return rows


def write_manifest(path: str | Path, rows: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


class SpeechDataset(Dataset):
    """Item i -> (samples float32 (n,), token ids int64 (m,))."""

    def __init__(self, rows: list[dict], vocabulary: Vocabulary):
        self.rows = rows
        self.vocabulary = vocabulary

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int):
        row = self.rows[index]
        samples = torch.from_numpy(load_audio(row["audio"]))
        return samples, torch.tensor(self.vocabulary.encode(row["text"]), dtype=torch.long)


def collate(items):
    """Pad a list of (samples, targets) into (samples (batch, n), sample_lengths, targets (batch, m), target_lengths).

    No items (a distributed shard of a batch smaller than the number of processes) give a batch of 0.
    """
    if not items:
        empty = torch.zeros(0, 0)
        return empty, torch.zeros(0, dtype=torch.long), empty.long(), torch.zeros(0, dtype=torch.long)
    samples, targets = zip(*items)
    sample_lengths = torch.tensor([len(s) for s in samples])
    target_lengths = torch.tensor([len(t) for t in targets])
    padded_samples = torch.nn.utils.rnn.pad_sequence(samples, batch_first=True)
    padded_targets = torch.nn.utils.rnn.pad_sequence(targets, batch_first=True)
    return padded_samples, sample_lengths, padded_targets, target_lengths


class BucketBatchSampler(Sampler):
    """Batches of similar duration, each holding at most `max_batch_s` seconds of padded audio.

    Utterances are sorted by duration with a little noise, cut into batches,
    and the batch order is shuffled per epoch; the order depends only on
    (seed, epoch), so a resumed run can skip exactly the batches it has done.
    With `sorta_grad`, the first epoch runs from the shortest batch to the
    longest (SortaGrad, Amodei et al. 2016): short utterances teach CTC its
    alignments quickly and shorten the initial plateau of the loss.

    Distributed (`world_size` processes), every process builds the same batches
    and takes every `world_size`-th utterance of each, from its `rank` on: the
    batches are the global ones, each process trains on its share.
    """

    def __init__(self, durations: list[float], max_batch_s: float, seed: int = 0, shuffle: bool = True,
                 sorta_grad: bool = False, rank: int = 0, world_size: int = 1):
        self.durations = durations
        self.max_batch_s = max_batch_s
        self.seed = seed
        self.shuffle = shuffle
        self.sorta_grad = sorta_grad
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.skip_batches = 0

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.epoch, self.skip_batches = epoch, skip_batches

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 100_003 + self.epoch)
        noisy = [d * (rng.uniform(0.9, 1.1) if self.shuffle else 1.0) for d in self.durations]
        order = sorted(range(len(self.durations)), key=noisy.__getitem__)
        batches, current, longest = [], [], 0.0
        for index in order:
            longest_if_added = max(longest, self.durations[index])
            if current and longest_if_added * (len(current) + 1) > self.max_batch_s:
                batches.append(current)
                current, longest_if_added = [], self.durations[index]
            current.append(index)
            longest = longest_if_added
        if current:
            batches.append(current)
        if self.shuffle and not (self.sorta_grad and self.epoch == 0):
            rng.shuffle(batches)
        return batches

    def __iter__(self):
        for batch in self.batches()[self.skip_batches :]:
            yield batch[self.rank :: self.world_size]

    def __len__(self) -> int:
        return len(self.batches()) - self.skip_batches
