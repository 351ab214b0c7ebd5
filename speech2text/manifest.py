"""Manifests: JSON lines {"audio": path, "text": transcript, "duration": seconds}, without torch.

Relative audio paths are resolved against the manifest's folder. Training, evaluate and lm tune read them
here, and skip a bad row the same way (SkippedRows).
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path

from .audio import AudioError, audio_duration_s
from .errors import Speech2TextError
from .text import normalize_text


class ManifestError(Speech2TextError, ValueError):
    pass


class SkippedRows:
    """Rows a run leaves out, counted by reason; the first few of each reason are named on stderr.

    Training, evaluate and lm tune share it: a bad row never stops a run, and it is never silent.
    Each row counts once, however often a sampler brings it back.
    """

    NAMED_PER_REASON = 5

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self._seen: set[str] = set()

    def add(self, where: str, reason: str, detail: str = "") -> None:
        """Count `where` under `reason`; `detail` (what exactly was wrong) is shown on its line, not counted."""
        if where in self._seen:
            return
        self._seen.add(where)
        self.counts[reason] += 1
        if self.counts[reason] <= self.NAMED_PER_REASON:
            print(f"speech2text: skipped {where}: {reason}{f' ({detail})' if detail else ''}", file=sys.stderr)
        elif self.counts[reason] == self.NAMED_PER_REASON + 1:
            print(f"speech2text: skipping more rows ({reason}); the summary counts them", file=sys.stderr)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """'skipped 3 rows: 2 no such file, 1 empty text' ('skipped no rows' when none)."""
        if not self.counts:
            return "skipped no rows"
        reasons = ", ".join(f"{n} {reason}" for reason, n in self.counts.most_common())
        return f"skipped {self.total} row{'s' if self.total != 1 else ''}: {reasons}"


def _what_is_wrong(error: Exception) -> str:
    """A bad line's reason in words: 'no "duration" field', not "KeyError: 'duration'"."""
    if isinstance(error, KeyError):
        return f"no {json.dumps(error.args[0])} field"
    if isinstance(error, TypeError) and "indices" in str(error):  # a JSON list or string where an object belongs
        return "not a JSON object"
    return f"{type(error).__name__}: {error}"


def read_manifest(path: str | Path, skipped: SkippedRows | None = None) -> list[dict]:
    """Rows of a JSON-lines manifest, audio paths made absolute, text normalized.

    A bad line raises ManifestError, or, given `skipped`, is counted there and left out. A manifest
    with no usable row raises ManifestError either way.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest")
    data = path.read_bytes()
    if b"\0" in data:
        raise ManifestError(f"{path}: not a JSON-lines manifest (binary data)")
    rows = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            row = json.loads(line)
            audio = Path(row["audio"])
            row["audio"] = str(audio if audio.is_absolute() else path.parent / audio)
            row["text"] = normalize_text(row["text"])
            # Most hand-written manifests give no duration: it is the audio file's own.
            row["duration"] = float(row["duration"]) if "duration" in row else audio_duration_s(row["audio"])
            if not math.isfinite(row["duration"]) or row["duration"] < 0:
                raise ValueError(f"duration {row['duration']}")
        except AudioError as error:  # no duration, and its audio cannot tell one: the file's own reason
            if skipped is None:
                raise ManifestError(f"{path}:{number}: {row['audio']}: {error}") from None
            skipped.add(row["audio"], str(error))
            continue
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            detail = _what_is_wrong(error)
            if skipped is None:
                raise ManifestError(f"{path}:{number}: bad manifest line ({detail})") from None
            skipped.add(f"{path}:{number}", "bad manifest line", detail)
            continue
        rows.append(row)
    if not rows:
        raise ManifestError(f"{path}: the manifest {'has no usable row' if data.strip() else 'is empty'}")
    return rows


def write_manifest(path: str | Path, rows: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
