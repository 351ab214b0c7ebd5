import dataclasses
import json
import re

import pytest

from speech2text.audio import load_audio
from speech2text.augment import AugmentConfig
from speech2text.checkpoint import load_checkpoint
from speech2text.manifest import read_manifest
from speech2text.model import ModelConfig
from speech2text.train import TrainConfig, train
from speech2text.transcribe import Transcriber

TINY = ModelConfig(hidden_size=64, num_layers=2, conv_channels=64, dropout=0.0)


def tiny_config(manifest, out, **overrides):
    settings = dict(
        train_manifests=(str(manifest),), out_dir=str(out), model=TINY, augment=None, epochs=1000, max_steps=500,
        lr=5e-3, warmup_steps=10, max_batch_s=100.0, log_every_steps=10, checkpoint_every_steps=100, progress=False,
        threads=1, num_workers=0,
    )
    return TrainConfig(**{**settings, **overrides})


@pytest.mark.slow
def test_tiny_model_overfits_real_digits_exactly(fsdd_manifest, tmp_path):
    best = train(tiny_config(fsdd_manifest, tmp_path / "run"))
    transcriber = Transcriber.from_pretrained(best)
    for row in read_manifest(fsdd_manifest):
        # The samples as training read them: these are 8 kHz files, and transcribe(path) resamples
        # with soxr's streaming filter instead, which a model fitted to four utterances can notice.
        samples = load_audio(row["audio"])
        assert transcriber.transcribe(samples, decoder="greedy").text == row["text"]
    records = map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines())
    losses = [r["loss"] for r in records if r["kind"] == "train"]
    assert losses[-1] < 0.05 * losses[0]
    assert (tmp_path / "run" / "metrics.png").stat().st_size > 1000
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["hidden_size"] == 64


def test_running_again_resumes_where_it_stopped(fsdd_manifest, tmp_path):
    out = tmp_path / "run"
    train(tiny_config(fsdd_manifest, out, max_steps=6, checkpoint_every_steps=3))
    first = load_checkpoint(out / "last.pt")
    assert first.trainer_state["progress"]["step"] == 6
    train(tiny_config(fsdd_manifest, out, max_steps=10, checkpoint_every_steps=3))
    second = load_checkpoint(out / "last.pt")
    assert second.trainer_state["progress"]["step"] == 10
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "train"]
    assert steps == sorted(set(steps))


@pytest.mark.slow
def test_training_killed_with_sigkill_resumes_from_its_last_checkpoint(fsdd_manifest, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "speech2text", "train", "--train", str(fsdd_manifest), "--out", str(out),
               "--epochs", "1000", "--max-steps", "400", "--checkpoint-every", "5", "--hidden-size", "32",
               "--num-layers", "1", "--conv-channels", "32", "--no-augment", "--workers", "0", "--threads", "1"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = load_checkpoint(out / "last.pt").trainer_state["progress"]["step"]
    assert 5 <= killed_at < 400  # and last.pt loaded: the kill never leaves a half-written checkpoint
    second = subprocess.run(command, capture_output=True, timeout=600)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert re.search(rf"resuming from {re.escape(str(out / 'last.pt'))}: epoch \d+, step {killed_at}\n", second.stdout.decode())
    assert load_checkpoint(out / "last.pt").trainer_state["progress"]["step"] == 400
    steps = [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "train"]
    assert sorted(set(steps)) == list(range(20, 401, 20))


def test_init_from_starts_fine_tuning_at_the_given_weights(fsdd_manifest, tmp_path):
    import torch

    base = train(tiny_config(fsdd_manifest, tmp_path / "base", max_steps=3))
    tuned = train(tiny_config(fsdd_manifest, tmp_path / "tuned", max_steps=1, lr=1e-12, init_from=str(base),
                              model=ModelConfig(hidden_size=8)))
    before, after = load_checkpoint(base).model, load_checkpoint(tuned).model
    assert after.config == TINY  # the checkpoint's sizes win over the config's
    assert torch.equal(before.normalizer.mean, after.normalizer.mean)
    for (name, a), b in zip(before.state_dict().items(), after.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=name)


def test_fine_tuning_may_change_the_feature_normalization_and_nothing_else(fsdd_manifest, tmp_path):
    base = train(tiny_config(fsdd_manifest, tmp_path / "base", max_steps=1))
    tuned = train(tiny_config(fsdd_manifest, tmp_path / "tuned", max_steps=1, init_from=str(base),
                              normalization="utterance"))
    assert load_checkpoint(tuned).model.config == dataclasses.replace(TINY, normalization="utterance")
    assert load_checkpoint(tuned).model.normalizer.mode == "utterance"


def test_early_stopping_after_patience_dev_evaluations_without_improvement(fsdd_manifest, tmp_path):
    out = tmp_path / "run"
    # lr 1e-12: the dev WER/CER can never improve on the first evaluation's.
    config = tiny_config(fsdd_manifest, out, dev_manifest=str(fsdd_manifest), lr=1e-12, max_steps=None, epochs=10,
                         patience=2, log_every_steps=1)
    train(config)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    dev = [r for r in records if r["kind"] == "dev"]
    assert [r["evals_without_improvement"] for r in dev] == [0, 1, 2]
    assert records[-2] == {"kind": "early_stop", "step": 3, "epoch": 3, "best_wer": dev[0]["wer"], "patience": 2}
    assert records[-1] == {"kind": "summary", "step": 3, "epoch": 3, "skipped_rows": {}, "skipped_losses": 0}
    progress = load_checkpoint(out / "last.pt").trainer_state["progress"]
    assert (progress["stopped_early"], progress["epoch"], progress["step"]) == (True, 3, 3)
    train(config)  # running the command again does not train past the stop
    assert len((out / "metrics.jsonl").read_text().splitlines()) == len(records)


def test_config_round_trips_through_its_dict_and_rejects_unknown_keys(tmp_path):
    from speech2text.train import ConfigError, apply_overrides

    config = tiny_config("a.jsonl", tmp_path, patience=3, augment=AugmentConfig(speeds=(1.0, 1.1)))
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    values = apply_overrides(config.to_dict(), ["model.hidden_size=256", "epochs=3", "out_dir=runs/x", "augment=null"])
    assert TrainConfig.from_dict(values) == dataclasses.replace(
        config, model=dataclasses.replace(TINY, hidden_size=256), epochs=3, out_dir="runs/x", augment=None)
    with pytest.raises(ConfigError, match=r"^unknown config key 'model.hiden_size' \(known: vocab_size, "):
        TrainConfig.from_dict(apply_overrides(config.to_dict(), ["model.hiden_size=256"]))
    with pytest.raises(ConfigError, match=r"^epochs: expected int, not 'three'$"):
        TrainConfig.from_dict(apply_overrides(config.to_dict(), ["epochs=three"]))


def test_train_config_file_with_overrides_through_the_cli(fsdd_manifest, tmp_path):
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(f'train_manifests = ["{fsdd_manifest}"]\nout_dir = "{tmp_path / "run"}"\nmax_steps = 2\n'
                      "augment = false\nprogress = false\n[model]\nhidden_size = 24\nnum_layers = 1\n")
    done = subprocess.run([sys.executable, "-m", "speech2text", "train", str(config), "model.conv_channels=16",
                           "lr=0.001", "--threads", "1", "--workers", "0"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["model"]["hidden_size"], saved["model"]["num_layers"], saved["model"]["conv_channels"]) == (24, 1, 16)
    assert (saved["lr"], saved["max_steps"], saved["augment"]) == (0.001, 2, None)
    assert (saved["threads"], saved["num_workers"]) == (1, 0)
    # The run folder's config.json is itself a config; an unknown key is one line and exit status 1.
    bad = subprocess.run([sys.executable, "-m", "speech2text", "train", str(tmp_path / "run" / "config.json"),
                          "model.hiden_size=8"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stderr.startswith("speech2text: error: unknown config key 'model.hiden_size' (known: ")
    assert len(bad.stderr.splitlines()) == 1


def test_the_flag_form_of_train_still_describes_the_same_config():
    from speech2text.cli import build_parser
    from speech2text.cli.common import DEFAULT_THREADS
    from speech2text.cli.training import train_config_values

    args = build_parser().parse_args(["train", "--init-from", "run/best.pt", "--train", "a.jsonl", "--train", "b.jsonl",
                                      "--dev", "dev.jsonl", "--out", "run2", "--epochs", "13", "--lr", "1.2e-3",
                                      "--warmup-steps", "100", "--no-augment", "--hidden-size", "96", "max_steps=7"])
    config = TrainConfig.from_dict(train_config_values(args))
    assert config == TrainConfig(train_manifests=("a.jsonl", "b.jsonl"), dev_manifest="dev.jsonl", out_dir="run2",
                                 init_from="run/best.pt", epochs=13, lr=1.2e-3, warmup_steps=100, augment=None,
                                 model=ModelConfig(hidden_size=96), max_steps=7, threads=DEFAULT_THREADS)


def test_telephone_band_and_reverberation_augmentation():
    import random

    import torch

    from speech2text.augment import WaveAugment

    t = torch.arange(32_000) / 16_000
    tones = 0.3 * torch.sin(2 * torch.pi * 1_000 * t) + 0.3 * torch.sin(2 * torch.pi * 6_000 * t)
    samples = torch.stack([tones, tones * (t < 1.5)])  # the second utterance is shorter: its padding stays silent
    lengths = torch.tensor([32_000, 24_000])
    plain = dict(speeds=(1.0,), gain_db=0.0, noise_prob=0.0)

    phone, phone_lengths = WaveAugment(AugmentConfig(**plain, telephone_prob=1.0), random.Random(0))(samples, lengths)
    spectrum_in, spectrum_out = (torch.fft.rfft(x[0]).abs() ** 2 for x in (samples, phone))
    bins = {hz: slice(2 * hz - 20, 2 * hz + 20) for hz in (1_000, 6_000)}  # rfft bin = hz * 32,000 / 16,000
    kept, removed = (float(spectrum_out[bins[hz]].sum() / spectrum_in[bins[hz]].sum()) for hz in (1_000, 6_000))
    assert kept == pytest.approx(1.0, abs=0.02)  # 1 kHz passes the telephone band
    assert removed < 1e-6  # 6 kHz is above its 4 kHz edge: at least 60 dB down
    assert torch.equal(phone_lengths, lengths) and not phone[1, 24_000:].any()

    click = torch.zeros(1, 16_000)
    click[0, 0] = 1.0
    room = WaveAugment(AugmentConfig(**plain, reverb_prob=1.0, rt60_s=(0.3, 0.3)), random.Random(0))
    tail, _ = room(click, torch.tensor([16_000]))
    energy_db = 10 * torch.log10(torch.stack([(tail[0, i : i + 1600] ** 2).sum() for i in range(0, 16_000, 1600)]))
    # The energy falls 60 dB per 0.3 s: 20 dB per 100 ms window, within the noise of one draw.
    assert 16 < float(energy_db[1] - energy_db[2]) < 24
    assert float((tail**2).sum()) == pytest.approx(1.0, rel=1e-5)


def test_vocal_tract_warp_moves_a_tone_as_a_higher_tone_sounds():
    import torch

    from speech2text.augment import warp_vocal_tract
    from speech2text.features import LogMel

    t = torch.arange(16_000) / 16_000
    tones = torch.stack([torch.sin(2 * torch.pi * hz * t) for hz in (1_000, 1_200, 800)])
    features, _ = LogMel()(tones, torch.tensor([16_000, 16_000, 8_000]))
    peak = features[:, :50].mean(1).argmax(1).tolist()  # the mel bin of each tone

    warped = warp_vocal_tract(features[:1].expand(3, -1, -1).clone(), [1.2, 0.8, 1.0])
    assert warped[:, :50].mean(1).argmax(1).tolist() == [peak[1], peak[2], peak[0]]  # 1 kHz * 1.2, * 0.8, * 1
    assert torch.equal(warped[2], features[0])  # 1.0 is no warp
    short = warp_vocal_tract(features[2:], [1.2])
    assert not short[0, 51:].any()  # padding past an utterance's end stays zero


@pytest.mark.parametrize("argv, message", [
    (["train"], "no train_manifests: give a CONFIG file that sets it, train_manifests=..., or --train"),
    (["train", "missing.toml"], "missing.toml: no such config file"),
    (["train", "--train", "a.jsonl", "--out", "run", "--device", "cuda"],
     "device cuda: no CUDA device is available here"),
    (["train", "--train", "a.jsonl", "--out", "run", "lr=1", "epochs"], "expected KEY=VALUE, not 'epochs'"),
    (["train", "--train", "a.jsonl", "--out", "run", "patience=0"], "patience must be at least 1, not 0"),
])
def test_train_user_errors_are_one_line(argv, message, capsys, monkeypatch):
    import torch

    from speech2text.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(argv) == 1
    assert capsys.readouterr().err == f"speech2text: error: {message}\n"


def test_microphone_colouring_is_one_smooth_curve_per_utterance_within_its_limit():
    import torch

    from speech2text.augment import AugmentConfig, SpecAugment

    features = torch.randn(3, 50, 80)
    lengths = torch.tensor([50, 30, 10])
    features[1, 30:] = features[2, 10:] = 0  # padding, as LogMel leaves it
    config = AugmentConfig(eq_db=12.0, freq_masks=0, time_masks=0)
    coloured = SpecAugment(config)(features, torch.zeros(80), lengths)

    change = coloured - features
    for utterance, length in enumerate(lengths.tolist()):
        curve = change[utterance, 0]
        assert torch.allclose(change[utterance, :length], curve.expand(length, 80), atol=1e-5)  # fixed per utterance
        assert not change[utterance, length:].any()  # padding stays zero
        assert 0 < curve.abs().max() * 10 / torch.log(torch.tensor(10.0)) <= 12.0 + 1e-4  # within 12 dB
        assert curve.diff().abs().max() < curve.abs().max() / 4  # smooth: no jumps between neighbouring bins
    assert not torch.allclose(change[0, 0], change[1, 0])  # each utterance its own microphone
    assert torch.equal(SpecAugment(AugmentConfig(freq_masks=0, time_masks=0))(features, torch.zeros(80), lengths),
                       features)  # off by default
