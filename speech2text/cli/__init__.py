"""The `speech2text` command: each subcommand is a thin shell over a Python function.

Heavy modules (torch, the model) are imported inside the subcommands, so
`speech2text --help` answers at once. Each module here adds its subcommands'
parsers with `add_parsers`.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import Speech2TextError, missing_package
from . import listen, lm, serve, synthesize, training, transcribe
from .common import EXIT_FAILED, error, os_error


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line, as every other user error: argparse's own error() prints the whole
    usage block first, which buries the line that says what was wrong."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class VersionAction(argparse.Action):
    """--version: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version of speech2text and exit", **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import package_version

        print(f"speech2text {package_version()}")  # on stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="speech2text", description="Offline BiLSTM-CTC speech recognition.")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for module in (transcribe, training, synthesize, listen, lm, serve):
        module.add_parsers(sub)
    return parser


# Flags whose value is a comma-separated list of numbers that may start with a minus: argparse would take
# "--word-scores -1,0" for two flags, so such a pair is joined into "--word-scores=-1,0" before parsing.
NUMBER_LIST_FLAGS = ("--lm-weights", "--word-scores")


def _join_number_lists(argv: list[str]) -> list[str]:
    joined, pending = [], None
    for arg in argv:
        if pending is not None and arg[:1] == "-" and (arg[1:2].isdigit() or arg[1:2] == "."):
            joined[-1] = f"{pending}={arg}"
        else:
            joined.append(arg)
        pending = arg if arg in NUMBER_LIST_FLAGS else None
    return joined


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_join_number_lists(sys.argv[1:] if argv is None else list(argv)))
    # The one place a user error becomes its line and exit code; each subcommand handles only what it must
    # (a bad file among several, which the others outlive).
    try:
        return args.run(args)
    except Speech2TextError as e:
        error(str(e))
        return e.exit_code
    except ModuleNotFoundError as e:  # an optional package (torch on a light install): what to install, one line
        missing = missing_package(e, args.command)
        if missing is None:
            raise
        error(str(missing))
        return missing.exit_code
    except OSError as e:
        os_error(e)
        return EXIT_FAILED
    except KeyboardInterrupt:
        error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
