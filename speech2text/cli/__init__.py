"""The `speech2text` command: each subcommand is a thin shell over a Python function.

Heavy modules (torch, the model) are imported inside the subcommands, so
`speech2text --help` answers at once. Each module here adds its subcommands'
parsers with `add_parsers`.
"""

from __future__ import annotations

import argparse
import sys

from . import listen, lm, synthesize, training, transcribe
from .common import error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speech2text", description="Offline BiLSTM-CTC speech recognition.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (transcribe, training, synthesize, listen, lm):
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
