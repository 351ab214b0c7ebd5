"""Average the weights of training runs that started from one checkpoint (a "model soup").

    python recipes/default_model/average.py work/default_model/run/best.pt \
        work/default_model/without_neural/best.pt -o work/default_model/average.pt

The runs must share the starting point's architecture, frontend, alphabet and normalization
statistics (speech2text.checkpoint.average_checkpoints checks). The output is float32, like a
training checkpoint: evaluate it, then export it with export.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.checkpoint import average_checkpoints, load_checkpoint, save_checkpoint  # noqa: E402
from speech2text.cli.common import refuse_overwriting_input  # noqa: E402
from speech2text.errors import Speech2TextError  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    try:
        refuse_overwriting_input(args.output, args.checkpoints)
        soup = average_checkpoints([load_checkpoint(p) for p in args.checkpoints], [str(p) for p in args.checkpoints])
    except Speech2TextError as error:
        sys.exit(f"average.py: error: {error}")
    save_checkpoint(args.output, soup)
    print(f"{args.output}: the mean of {len(args.checkpoints)} runs")


if __name__ == "__main__":
    main()
