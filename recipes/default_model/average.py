"""Average the weights of training runs that started from one checkpoint (a "model soup").

    python recipes/default_model/average.py work/default_model/run/best.pt \
        work/default_model/without_neural/best.pt -o work/default_model/average.pt

The runs must share the starting point's architecture, frontend, alphabet and normalization
statistics (speech2text.checkpoint.average_checkpoints checks). The output is float32, like a
training checkpoint: evaluate it, then export it with export.py.

--level-db gives the mean a frontend that moves every input's speech level to that many dB
(FeatureConfig.level_db) when its runs were trained before that normalization existed; runs trained
with a level keep theirs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.checkpoint import average_checkpoints, load_checkpoint, save_checkpoint  # noqa: E402
from speech2text.cli.common import refuse_overwriting_input  # noqa: E402
from speech2text.errors import Speech2TextError  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--level-db", type=float, help="the frontend's speech level target, for runs trained without one")
    args = parser.parse_args()
    try:
        refuse_overwriting_input(args.output, args.checkpoints)
        soup = average_checkpoints([load_checkpoint(p) for p in args.checkpoints], [str(p) for p in args.checkpoints])
    except Speech2TextError as error:
        sys.exit(f"average.py: error: {error}")
    if args.level_db is not None and soup.feature_config.level_db not in (None, args.level_db):
        sys.exit(f"average.py: error: the runs were trained at a speech level of {soup.feature_config.level_db} dB, "
                 f"not {args.level_db}: drop --level-db")
    if args.level_db is not None:
        soup = replace(soup, feature_config=replace(soup.feature_config, level_db=args.level_db))
    save_checkpoint(args.output, soup)
    print(f"{args.output}: the mean of {len(args.checkpoints)} runs")


if __name__ == "__main__":
    main()
