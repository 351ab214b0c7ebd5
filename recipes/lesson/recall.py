"""The lesson's recall task and the small recurrent model that learns it (stages 2 and 3 of run.sh).

Sequential memory, made measurable. Frame 0 of a sequence holds a token (one of `tokens`) and a
"remember this" marker, the next `lag - 1` frames hold random distractor tokens, and frame `lag`
asks "which token was marked?". The answer is exactly `lag` frames back, so accuracy per lag says
how far back a cell type can remember, and the gradient of the loss at the last frame with respect
to each input frame says how much the training signal still reaches `lag` frames back.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from speech2text.model import RNN_TYPES


@dataclass(frozen=True)
class RecallTask:
    tokens: int
    lag: int

    @property
    def input_size(self) -> int:
        """The token one-hot, the "remember this" marker (frame 0) and the "answer now" cue (last frame)."""
        return self.tokens + 2

    def batch(self, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (size, lag + 1, input_size), targets (size,)): the token of frame 0 is the answer."""
        ids = torch.randint(self.tokens, (size, self.lag + 1), generator=generator)
        inputs = torch.zeros(size, self.lag + 1, self.input_size)
        inputs[:, :, : self.tokens] = nn.functional.one_hot(ids, self.tokens).float()
        inputs[:, -1, : self.tokens] = 0.0  # the question frame carries no token
        inputs[:, 0, self.tokens] = 1.0
        inputs[:, -1, self.tokens + 1] = 1.0
        return inputs, ids[:, 0]


class Recaller(nn.Module):
    """One unidirectional layer of a library cell type (speech2text.model.RNN_TYPES) and a readout of its last frame.

    Not the AcousticModel: the lesson needs one direction (the backward half of a BiLSTM reads the
    token just before it answers, so nothing would need remembering), no convolution in front (the
    gradient must reach the input frame by frame) and one answer per sequence instead of CTC.

    remember_bias is added to the bias of the gate that keeps the memory: LSTM's forget gate, GRU's
    update gate (PyTorch orders the gates i, f, g, o and r, z, n: the second block in both), so that
    a fresh gated cell starts out keeping most of its state (Gers et al. 2000, Jozefowicz et al.
    2015). A plain RNN has no such gate. recurrent_gain scales the recurrent weights at init.
    """

    def __init__(self, rnn_type: str, input_size: int, hidden_size: int, classes: int, remember_bias: float = 0.0,
                 recurrent_gain: float = 1.0):
        super().__init__()
        self.rnn = RNN_TYPES[rnn_type](input_size, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, classes)
        with torch.no_grad():
            if rnn_type != "rnn":
                self.rnn.bias_hh_l0[hidden_size : 2 * hidden_size] += remember_bias
            self.rnn.weight_hh_l0 *= recurrent_gain

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(batch, frames, input_size) -> logits (batch, classes) read at the last frame."""
        outputs, _ = self.rnn(inputs)
        return self.readout(outputs[:, -1])


def train_recall(model: Recaller, task: RecallTask, steps: int, batch_size: int, optimizer: torch.optim.Optimizer,
                 clip_norm: float | None, seed: int, desc: str) -> dict[str, list[float]]:
    """Train on fresh batches of `task` (drawn from `seed`, so every cell type sees the same data).

    Returns per step the loss and the gradient norm before clipping (inf or nan when it overflowed).
    A step whose loss is no longer finite is not taken: training without clipping may blow up.
    """
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "grad_norm": []}
    model.train()
    for _ in tqdm(range(steps), desc=desc, leave=False, mininterval=2.0):
        inputs, targets = task.batch(batch_size, generator)
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm if clip_norm else math.inf)
        history["loss"].append(float(loss.detach()))
        history["grad_norm"].append(float(grad_norm))
        if math.isfinite(history["loss"][-1]) and math.isfinite(history["grad_norm"][-1]):
            optimizer.step()
    return history


@torch.no_grad()
def accuracy(model: Recaller, task: RecallTask, sequences: int, seed: int) -> float:
    """The fraction of `sequences` held-out sequences (their own seed) whose token the model recalls."""
    inputs, targets = task.batch(sequences, torch.Generator().manual_seed(seed))
    model.eval()
    return float((model(inputs).argmax(-1) == targets).float().mean())


def gradient_by_distance(model: Recaller, task: RecallTask, sequences: int, seed: int) -> list[float]:
    """Mean over `sequences` of |d loss(last frame) / d input(frame t)|, listed by distance (0 = the last frame).

    Computed in float64: in float32 the plain RNN's gradient underflows to 0 within about 60 frames.
    """
    double = copy.deepcopy(model).double().eval()
    inputs, targets = task.batch(sequences, torch.Generator().manual_seed(seed))
    inputs = inputs.double().requires_grad_(True)
    # Summed, not averaged, over the sequences: each sequence's gradient is that of its own loss.
    loss = nn.functional.cross_entropy(double(inputs), targets, reduction="sum")
    (gradient,) = torch.autograd.grad(loss, inputs)
    return gradient.norm(dim=-1).mean(0).flip(0).tolist()


def decay_per_frame(norms: list[float]) -> float:
    """The factor by which the gradient shrinks (< 1) or grows (> 1) per frame of distance.

    The geometric mean of norm(d + 1) / norm(d) from distance 1 on (distance 0, the question frame
    itself, has no recurrent path), ignoring distances where it underflowed to 0.
    """
    points = [(d, math.log(n)) for d, n in enumerate(norms) if d >= 1 and n > 0]
    if len(points) < 2:
        return 0.0
    (first, log_first), (last, log_last) = points[0], points[-1]
    return math.exp((log_last - log_first) / (last - first))
