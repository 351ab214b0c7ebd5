"""The lesson's settings: the cell types it compares and the config file every stage reads.

Every stage is `python recipes/lesson/STAGE.py CONFIG --PATH ...`, where CONFIG is quick.toml,
full.toml or a copy of one. It is parsed and checked here, once, for all of them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from speech2text.train import ConfigError, read_config_file

CELLS = ("rnn", "gru", "lstm")  # the library's cell types (speech2text.model.RNN_TYPES), in the figures' order


def stage_command_line(doc: str, paths: dict[str, str]) -> tuple[dict, argparse.Namespace]:
    """`STAGE.py CONFIG --NAME PATH ...`, one required --NAME per entry of `paths` ({name: help}).

    Returns the settings of CONFIG and the parsed arguments (each path a Path).
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="quick.toml, full.toml or a copy of one")
    for name, help_text in paths.items():
        parser.add_argument(f"--{name}", type=Path, required=True, help=help_text)
    args = parser.parse_args()
    return read_settings(args.config), args


def read_settings(path: Path) -> dict:
    """The settings of a lesson config; a file that cannot be read or does not fit is one line and exit 1."""
    try:
        settings = read_config_file(path)  # the library's reader of .toml (Python 3.11 on) and .json configs
    except (ConfigError, OSError) as error:
        raise SystemExit(str(error)) from None
    missing = [table for table in ("memory", "gradients", "speech") if table not in settings]
    if missing:
        raise SystemExit(f"{path}: no [{missing[0]}] table")
    lags, trained_lag = settings["memory"]["lags"], settings["gradients"]["trained_lag"]
    if trained_lag not in lags:  # "after training" is stage 2's model at that lag
        raise SystemExit(f"{path}: gradients.trained_lag {trained_lag} is not one of memory.lags {lags}")
    return settings
