"""The light install: `pip install speech2text` without extras transcribes, listens and serves on ONNX Runtime,
without PyTorch; a command that needs PyTorch says in one line what to install.

The fast tests hide torch (and the train extra's other packages) from a child process of this venv; the slow
one installs the package into a fresh venv, as a user would, and runs it there.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

from conftest import ASSETS, ROOT

SPEECH = ASSETS / "what_is_your_name.wav"
SAID = "what is your name"
TRAIN_EXTRA = ("torch", "torchaudio", "onnx", "matplotlib", "scipy", "pyroomacoustics")
INSTALL_LINE = "pip install 'speech2text[train]'"
MAX_LIGHT_INSTALL_MB = 400  # issue 41: faster-whisper, Vosk and PocketSphinx install in a few hundred MB or less


def run_without_train_extra(code: str) -> subprocess.CompletedProcess:
    """Python `code` in a child of this venv in which importing any package of the train extra fails."""
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in TRAIN_EXTRA)
    return subprocess.run([sys.executable, "-c", f"import sys; {hide}; {code}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def speech2text_without_train_extra(*args: str) -> subprocess.CompletedProcess:
    """`speech2text ARGS` in a child of this venv in which importing any package of the train extra fails."""
    return run_without_train_extra(f"from speech2text.cli import main; sys.exit(main({list(args)!r}))")


def assert_names_the_train_extra_for(result: subprocess.CompletedProcess, needed_by: str, what: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"speech2text: error: {needed_by} needs {what}: {INSTALL_LINE}\n"


def assert_names_the_train_extra(result: subprocess.CompletedProcess, needed_by: str) -> None:
    assert_names_the_train_extra_for(result, needed_by, "PyTorch")


def test_transcribe_runs_without_torch():
    result = speech2text_without_train_extra("transcribe", str(SPEECH))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{SAID}\n"


def test_the_python_api_runs_without_torch():
    result = run_without_train_extra(
        "from speech2text import Transcriber; transcriber = Transcriber.from_pretrained(); "
        f"print(transcriber.runtime, transcriber.transcribe({str(SPEECH)!r}).text)")
    assert (result.returncode, result.stdout) == (0, f"onnx {SAID}\n"), result.stderr


@pytest.mark.parametrize(
    ("args", "needed_by"),
    [
        (["train", "--train", "missing.jsonl", "--out", "out"], "train"),
        (["export", "out.onnx", "--format", "onnx"], "export"),
        (["transcribe", str(SPEECH), "--runtime", "torch"], "--runtime torch"),
    ],
)
def test_commands_that_need_torch_say_what_to_install(args, needed_by):
    assert_names_the_train_extra(speech2text_without_train_extra(*args), needed_by)


def test_a_plot_without_matplotlib_names_the_train_extra(tmp_path):
    result = speech2text_without_train_extra("transcribe", str(SPEECH), "--plot", str(tmp_path / "plot.png"))
    assert_names_the_train_extra_for(result, "transcribe", "matplotlib")


def test_synthesize_without_scipy_names_the_train_extra_before_any_work(tmp_path):
    corpus = tmp_path / "corpus"
    result = speech2text_without_train_extra("synthesize", "--queries", "--hours", "0.01", "--out", str(corpus))
    assert_names_the_train_extra_for(result, "synthesize", "SciPy")
    assert not corpus.exists()


def directory_mb(path: Path) -> float:
    """Bytes on disk of the files under `path` (links not followed), in MB."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def install_light(venv_dir: Path) -> Path:
    """A fresh venv with `pip install speech2text` from this checkout, no extras; returns its bin folder.
    The package's own files are copied out first, so that the build writes nothing into the checkout."""
    source = venv_dir.parent / "source"
    shutil.copytree(ROOT / "speech2text", source / "speech2text", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv.create(venv_dir, with_pip=True)
    bin_dir = venv_dir / "bin"
    install = subprocess.run([bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              str(source)], capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stderr[-3000:]
    return bin_dir


def serve_once(bin_dir: Path, path: Path) -> str:
    """The text `speech2text serve` of that venv returns for one upload to /v1/audio/transcriptions."""
    server = subprocess.Popen([bin_dir / "speech2text", "serve", "--port", "0", "--workers", "1", "--threads", "1"],
                              stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:
            if match := re.search(r"serving on (http://\S+)", line):
                break
        else:
            raise AssertionError("the server exited before it served")
        boundary = "light-install-test"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
                "Content-Type: audio/wav\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(f"{match.group(1)}/v1/audio/transcriptions", data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)["text"]
    finally:
        server.terminate()
        server.wait(60)


@pytest.mark.slow
def test_pip_install_without_extras_transcribes_listens_and_serves_without_torch(tmp_path):
    started = time.monotonic()
    bin_dir = install_light(tmp_path / "venv")
    size_mb = directory_mb(tmp_path / "venv")
    print(f"\nlight install: {size_mb:.0f} MB on disk, installed in {time.monotonic() - started:.0f} s")

    assert subprocess.run([bin_dir / "python", "-c", "import torch"], capture_output=True).returncode != 0
    assert size_mb < MAX_LIGHT_INSTALL_MB, f"the light install takes {size_mb:.0f} MB"

    def speech2text(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([bin_dir / "speech2text", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)

    transcribed = speech2text("transcribe", str(SPEECH))
    assert (transcribed.returncode, transcribed.stderr, transcribed.stdout) == (0, "", f"{SAID}\n")
    listened = speech2text("listen", "--input", str(SPEECH), "--fast")
    assert listened.returncode == 0, listened.stderr
    assert listened.stdout == f"{SAID}\n"
    assert serve_once(bin_dir, SPEECH) == SAID
    assert_names_the_train_extra(speech2text("train", "--train", "missing.jsonl", "--out", "out"), "train")
