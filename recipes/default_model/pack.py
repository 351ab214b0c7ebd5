"""A training config's speech in Ogg Opus, small enough to carry to a lent GPU machine, and back out there.

    python recipes/default_model/pack.py pack recipes/default_model/config.toml --out work/pack
    python recipes/default_model/pack.py unpack work/pack --workers 16          (on the GPU machine)
    python -m speech2text train work/pack/config.json device=cuda out_dir=/tmp/run

The device tool carries at most 64 MiB a call (the tracked tree, about 22 MiB, included) and the GPU
machine reaches no network, so the corpus travels compressed: every manifest the config names (its
training sources and its dev set) is encoded at 16 kHz in Ogg Opus (--kbps, 12 by default: wideband
speech, about 5.5 MiB an hour of long utterances, twice that for one-word ones). Rows that
augment_real.py made from another packed row (they keep their `source` and `realism`) are not encoded
at all: `unpack` makes them again from the packed source with the same room, noise and channel, on
all cores. Packed manifests hold relative paths and only what training reads of a row; config.json
is the config with its paths pointing into the pack (init_from is copied in). Both steps resume:
finished files are kept. A row whose audio cannot be read is left out, with one line saying so;
nothing outside --out is written. --share F packs that share of each training source's rows, evenly
spaced, when the whole does not fit (the dev set stays whole).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from multiprocessing import Pool
from pathlib import Path

import soundfile
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from speech2text.audio import SAMPLE_RATE, load_audio  # noqa: E402
from speech2text.errors import Speech2TextError  # noqa: E402
from speech2text.manifest import SkippedRows, read_manifest, write_manifest  # noqa: E402
from speech2text.synthesis import apply_realism  # noqa: E402
from speech2text.train import read_config_file  # noqa: E402

INDEX = "pack.json"


def opus_level(kbps: float) -> float:
    """libsndfile's Opus compression level for a bitrate: it maps level 0..1 linearly onto 256..6 kbps."""
    if not 6 <= kbps <= 256:
        raise SystemExit(f"pack.py: --kbps {kbps}: Opus in libsndfile takes 6 to 256 kbps")
    return (256 - kbps) / 250


def _write_new(path: Path, samples, **format) -> None:
    """Write through a partial file, so that a kill never leaves a short file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial{path.suffix}")
    soundfile.write(partial, samples, SAMPLE_RATE, **format)
    partial.rename(path)


def _make(job: tuple[str, str, dict | None, float | None]) -> tuple[str, str] | None:
    """One file of the pack: the source in Opus at `level`, or (unpack) the realism pass again on the
    packed source, as 16-bit FLAC. (source, reason) when the source cannot be read or the file written."""
    source, target, realism, level = job
    if Path(target).exists():
        return None
    try:
        samples = load_audio(source)
        if realism is None:
            _write_new(Path(target), samples, format="OGG", subtype="OPUS", compression_level=level)
        else:
            _write_new(Path(target), apply_realism(samples, realism), subtype="PCM_16")
    except (Speech2TextError, soundfile.LibsndfileError, OSError) as error:
        return source, str(error)
    return None


def _names(manifests: list[str]) -> dict[str, str]:
    """Each manifest's name in the pack: its path under the manifests' common folder, '/' as '_'."""
    root = os.path.commonpath([str(Path(m).resolve().parent) for m in manifests])
    names = {m: str(Path(m).resolve().relative_to(root).with_suffix("")).replace(os.sep, "_") for m in manifests}
    if len(set(names.values())) < len(names):
        raise SystemExit(f"pack.py: two manifests would share a name in the pack: {sorted(names.values())}")
    return names


def _run(jobs: list, work, workers: int, desc: str) -> list[tuple[str, str]]:
    """The (source, reason) of every job that failed."""
    with Pool(workers) as pool:
        return [e for e in tqdm(pool.imap(work, jobs, chunksize=8), total=len(jobs), desc=desc) if e]


def pack(config_path: Path, out: Path, kbps: float, workers: int, share: float = 1.0) -> None:
    config = read_config_file(config_path)
    manifests = list(dict.fromkeys([*config["train_manifests"], *filter(None, [config.get("dev_manifest")])]))
    names = _names(manifests)
    level = opus_level(kbps)
    inputs = {Path(path).resolve() for path in [config_path, *manifests]}
    written = [out / f"{name}.jsonl" for name in names.values()] + [out / "config.json", out / INDEX]
    if clash := [str(path) for path in written if path.resolve() in inputs]:
        raise SystemExit(f"pack.py: {clash[0]} is an input; pack into another folder")
    if not 0 < share <= 1:
        raise SystemExit(f"pack.py: --share {share}: a share of each training source is above 0 and at most 1")
    if (out / INDEX).is_file():
        held = json.loads((out / INDEX).read_text())
        if (held["kbps"], held.get("share", 1.0)) != (kbps, share):
            raise SystemExit(f"pack.py: {out} holds a pack at {held['kbps']:g} kbps, share {held.get('share', 1.0):g}; "
                             "pack into another folder")
    out.mkdir(parents=True, exist_ok=True)
    skipped = SkippedRows()
    rows = {m: read_manifest(m, skipped) for m in manifests}
    # Every encoded row's file by its original path: a row the realism pass made from one is derived.
    # With a share below 1, evenly spaced rows of each training source are packed (the dev set whole),
    # and a derived row goes with its source.
    packed_as: dict[str, str] = {}
    left_out: set[str] = set()
    for manifest in manifests:
        part = share if manifest != config.get("dev_manifest") else 1.0
        for i, row in enumerate(rows[manifest]):
            if not _is_derived(row):
                if int((i + 1) * part) > int(i * part):
                    packed_as.setdefault(_key(row["audio"]), f"audio/{names[manifest]}/{i:06d}.opus")
                else:
                    left_out.add(_key(row["audio"]))
    left_out -= packed_as.keys()
    # Each packed row with the original file it depends on, so that an unreadable one drops its rows.
    packed: dict[str, list[tuple[dict, str]]] = {m: [] for m in manifests}
    encode = []
    for manifest in manifests:
        name = names[manifest]
        for i, row in enumerate(rows[manifest]):
            if _key(row["source"] if _is_derived(row) else row["audio"]) in left_out:
                continue
            if _is_derived(row) and _key(row["source"]) in packed_as:
                origin = _key(row["source"])
                made = {"audio": f"derived/{name}/{i:06d}.flac", "source": packed_as[origin], "realism": row["realism"]}
                packed[manifest].append((_slim(row) | made, origin))
            else:
                audio = f"audio/{name}/{i:06d}.opus"
                encode.append((row["audio"], str(out / audio), None, level))
                packed[manifest].append((_slim(row) | {"audio": audio}, _key(row["audio"])))
    failed = set()
    for source, reason in _run(encode, _make, workers, "encode"):
        print(f"pack.py: {source}: {reason}; left out", file=sys.stderr)
        failed.add(_key(source))
    kept = {m: [row for row, origin in packed[m] if origin not in failed] for m in manifests}
    for manifest in manifests:
        write_manifest(out / f"{names[manifest]}.jsonl", kept[manifest])
    config = json.loads(json.dumps(config))
    config["train_manifests"] = [str(out / f"{names[m]}.jsonl") for m in config["train_manifests"]]
    if config.get("dev_manifest"):
        config["dev_manifest"] = str(out / f"{names[config['dev_manifest']]}.jsonl")
    if config.get("init_from") and Path(config["init_from"]).is_file():
        shutil.copyfile(config["init_from"], out / "init.pt")
        config["init_from"] = str(out / "init.pt")
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    derived = [names[m] for m in manifests if any(row["audio"].startswith("derived/") for row in kept[m])]
    index = {"kbps": kbps, "share": share, "config": str(config_path), "derived": derived}
    (out / INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    if skipped.total:
        print(f"pack.py: {skipped.summary()}", file=sys.stderr)
    report(out, manifests, names, kept)


def _slim(row: dict) -> dict:
    """What training reads of a row: the synthesis details (voice, prosody, realism) stay here, since the
    manifests of the full mixture would otherwise be 4.5 MiB of the 64 (measured)."""
    return {key: row[key] for key in ("text", "duration", "speaker") if key in row}


def _is_derived(row: dict) -> bool:
    return "realism" in row and "source" in row


def _key(audio: str) -> str:
    return str(Path(audio).resolve())


def report(out: Path, manifests: list[str], names: dict[str, str], packed_rows: dict[str, list[dict]]) -> None:
    total = 0
    print(f"{'manifest':<32} {'rows':>6} {'hours':>6} {'derived':>8} {'MiB':>6}")
    for manifest in manifests:
        folder = out / "audio" / names[manifest]
        size = sum(f.stat().st_size for f in folder.glob("*.opus")) if folder.is_dir() else 0
        total += size
        rows = packed_rows[manifest]
        hours = sum(r["duration"] for r in rows) / 3600
        derived = sum(r["audio"].startswith("derived/") for r in rows)
        print(f"{names[manifest]:<32} {len(rows):>6} {hours:>6.2f} {derived:>8} {size / 2**20:>6.1f}")
    extra = sum(f.stat().st_size for f in out.glob("*") if f.is_file())
    print(f"{'pack':<32} {'':>6} {'':>6} {'':>8} {(total + extra) / 2**20:>6.1f}  "
          "(manifests, config and init_from included)")


def unpack(out: Path, workers: int) -> None:
    index_file = out / INDEX
    if not index_file.is_file():
        raise SystemExit(f"pack.py: {out} holds no {INDEX}: not a pack")
    index = json.loads(index_file.read_text())
    jobs = []
    for name in index["derived"]:
        for row in read_manifest(out / f"{name}.jsonl"):
            if "realism" in row and "source" in row:
                jobs.append((str(out / row["source"]), row["audio"], row["realism"], None))
    errors = _run(jobs, _make, workers, "derive")
    for error in errors:
        print(f"pack.py: could not derive from {error}", file=sys.stderr)
    print(f"{len(jobs) - len(errors)} of {len(jobs)} derived rows in place")
    if errors:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    pack_step = steps.add_parser("pack", help="encode a config's manifests into a folder")
    pack_step.add_argument("config", type=Path)
    pack_step.add_argument("--out", type=Path, required=True)
    pack_step.add_argument("--kbps", type=float, default=12.0)
    pack_step.add_argument("--share", type=float, default=1.0,
                           help="pack this share of each training source's rows, evenly spaced (default: all)")
    pack_step.add_argument("--workers", type=int, default=os.cpu_count())
    unpack_step = steps.add_parser("unpack", help="make a pack's derived rows again")
    unpack_step.add_argument("pack", type=Path)
    unpack_step.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    try:
        if args.step == "pack":
            pack(args.config, args.out, args.kbps, args.workers, args.share)
        else:
            unpack(args.pack, args.workers)
    except Speech2TextError as error:
        raise SystemExit(f"pack.py: {error}") from None


if __name__ == "__main__":
    main()
