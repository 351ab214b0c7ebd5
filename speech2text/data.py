"""Datasets and length-bucketed batches for training (manifests themselves: speech2text.manifest)."""

from __future__ import annotations

import random

import torch
from torch.utils.data import Dataset, Sampler

from .audio import AudioError, load_audio
from .text import Vocabulary


class SpeechDataset(Dataset):
    """Item i -> (samples float32 (n,), token ids int64 (m,)), or (None, reason) for audio that cannot be read."""

    def __init__(self, rows: list[dict], vocabulary: Vocabulary):
        self.rows = rows
        self.vocabulary = vocabulary

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int):
        row = self.rows[index]
        try:
            samples = torch.from_numpy(load_audio(row["audio"]))
        except (AudioError, OSError) as error:  # a missing or corrupt file skips its row, not the run
            return None, (row["audio"], str(getattr(error, "strerror", None) or error))
        return samples, torch.tensor(self.vocabulary.encode(row["text"]), dtype=torch.long)


def collate(items):
    """Pad a list of (samples, targets) into (samples (batch, n), sample_lengths, targets (batch, m), target_lengths,
    unreadable), `unreadable` listing (audio path, reason) of the items that could not be read (left out).

    No items (a distributed shard of a batch smaller than the number of processes) give a batch of 0.
    """
    unreadable = [reason for samples, reason in items if samples is None]
    items = [item for item in items if item[0] is not None]
    if not items:
        empty = torch.zeros(0, 0)
        return empty, torch.zeros(0, dtype=torch.long), empty.long(), torch.zeros(0, dtype=torch.long), unreadable
    samples, targets = zip(*items)
    sample_lengths = torch.tensor([len(s) for s in samples])
    target_lengths = torch.tensor([len(t) for t in targets])
    padded_samples = torch.nn.utils.rnn.pad_sequence(samples, batch_first=True)
    padded_targets = torch.nn.utils.rnn.pad_sequence(targets, batch_first=True)
    return padded_samples, sample_lengths, padded_targets, target_lengths, unreadable


def ctc_frames_needed(token_ids: list[int]) -> int:
    """The fewest output frames CTC needs to emit `token_ids`: one per symbol, plus a blank between repeats."""
    return len(token_ids) + sum(a == b for a, b in zip(token_ids, token_ids[1:]))


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

    def epoch_indices(self, rng: random.Random) -> list[int]:
        """The utterances of this epoch: every one once (a mixture sampler draws them instead)."""
        return list(range(len(self.durations)))

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 100_003 + self.epoch)
        indices = self.epoch_indices(rng)
        noisy = [self.durations[i] * (rng.uniform(0.9, 1.1) if self.shuffle else 1.0) for i in indices]
        order = [indices[k] for k in sorted(range(len(indices)), key=noisy.__getitem__)]
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


class MixtureBatchSampler(BucketBatchSampler):
    """Length-bucketed batches drawn from several sources in declared proportions.

    Each epoch holds `epoch_hours` of audio; source i contributes weights[i] / sum(weights) of it,
    drawn without replacement from a fresh shuffle of that source and cycled when the source is
    smaller than its share (a small real corpus is then seen several times an epoch, a large
    synthetic one in part: the weight, not the corpus size, decides how much each teaches).
    The draw depends only on (seed, epoch), so a resumed run skips exactly the batches it has done.
    """

    def __init__(self, durations: list[float], sources: list[int], weights: list[float], epoch_hours: float,
                 max_batch_s: float, **kwargs):
        super().__init__(durations, max_batch_s, **kwargs)
        self.members = [[i for i, s in enumerate(sources) if s == source] for source in range(len(weights))]
        empty = [source for source, members in enumerate(self.members) if not members and weights[source] > 0]
        if empty:
            raise ValueError(f"source {empty[0]} has a sampling weight but no utterances")
        total = sum(weights)
        self.target_s = [3600 * epoch_hours * w / total for w in weights]

    def epoch_indices(self, rng: random.Random) -> list[int]:
        chosen = []
        for members, target_s in zip(self.members, self.target_s):
            taken_s, order = 0.0, []
            while taken_s < target_s and members:
                if not order:
                    order = members[:]
                    rng.shuffle(order)
                index = order.pop()
                chosen.append(index)
                taken_s += self.durations[index]
        return chosen
