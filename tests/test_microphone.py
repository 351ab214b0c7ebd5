"""Microphone capture logic against a stand-in PortAudio device (no sound hardware, no server)."""

import threading
import time
import types

import numpy as np
import pytest

from speech2text import microphone
from speech2text.microphone import Microphone, MicrophoneError


class PortAudioError(Exception):
    pass


def fake_sounddevice(rate: int, blocks: int, supports_16k: bool, block_pause_s: float = 0.0):
    """A module with sounddevice's interface whose one input device plays a 440 Hz tone at `rate`."""
    module = types.SimpleNamespace(PortAudioError=PortAudioError)
    module.default = types.SimpleNamespace(device=(0, 1))
    device = {"index": 0, "name": "Fake USB Mic", "max_input_channels": 2, "default_samplerate": float(rate)}
    module.query_devices = lambda device_=None, kind=None: device if device_ is not None or kind else [device]

    def check_input_settings(device=None, channels=None, samplerate=None, dtype=None):
        if samplerate == 16000 and not supports_16k:
            raise PortAudioError("Invalid sample rate")

    class InputStream:
        def __init__(self, device, channels, samplerate, dtype, blocksize, callback):
            self.rate, self.blocksize, self.callback = samplerate, blocksize, callback
            self.thread = threading.Thread(target=self.run, daemon=True)

        def run(self):
            status = types.SimpleNamespace(input_overflow=False)
            for index in range(blocks):
                t = (index * self.blocksize + np.arange(self.blocksize)) / self.rate
                block = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]
                self.callback(block, self.blocksize, None, status)
                time.sleep(block_pause_s)

        def __enter__(self):
            self.thread.start()
            return self

        def __exit__(self, *exc):
            return False

    module.check_input_settings = check_input_settings
    module.InputStream = InputStream
    return module


@pytest.fixture
def use_fake(monkeypatch):
    def install(**kwargs):
        module = fake_sounddevice(**kwargs)
        monkeypatch.setattr(microphone, "import_sounddevice", lambda: module)
        return module

    return install


def take(mic, seconds):
    chunks, total = [], 0
    for chunk in mic:
        chunks.append(chunk)
        total += len(chunk)
        if total >= seconds * 16000:
            return np.concatenate(chunks)
    raise AssertionError("stream ended early")


def test_a_48k_device_is_resampled_to_16k(use_fake):
    use_fake(rate=48000, blocks=200, supports_16k=False)
    ready = []
    mic = Microphone(on_ready=ready.append, stall_timeout_s=1.0)
    assert mic.rate == 48000
    samples = take(mic, 2.0)
    assert ready == ["Fake USB Mic at 48000 Hz"]
    spectrum = np.abs(np.fft.rfft(samples[:16000]))
    assert np.argmax(spectrum) == 440  # one second at 16 kHz: bin k is k Hz
    assert np.abs(samples[4000:16000]).max() == pytest.approx(0.5, abs=0.02)


def test_a_device_that_does_16k_is_used_as_is(use_fake):
    use_fake(rate=44100, blocks=100, supports_16k=True)
    mic = Microphone(stall_timeout_s=1.0)
    assert mic.rate == 16000
    assert len(take(mic, 1.0)) >= 16000


def test_a_device_that_stops_delivering_is_an_error(use_fake):
    use_fake(rate=16000, blocks=10, supports_16k=True)
    mic = Microphone(stall_timeout_s=0.3)
    with pytest.raises(MicrophoneError, match="stopped delivering audio"):
        take(mic, 60)


def test_a_full_queue_drops_and_counts_blocks(use_fake):
    use_fake(rate=16000, blocks=50, supports_16k=True)
    mic = Microphone(queue_blocks=5, stall_timeout_s=0.5)
    iterator = iter(mic)
    next(iterator)
    time.sleep(0.5)  # the consumer stalls while the device keeps delivering
    with pytest.raises(MicrophoneError):
        while True:
            next(iterator)
    assert mic.dropped_blocks >= 40
    assert mic.report() == f"audio lost: 0 input overflows, {mic.dropped_blocks} blocks dropped (decoding too slow?)"


def test_device_by_name_or_index(use_fake):
    use_fake(rate=16000, blocks=1, supports_16k=True)
    assert microphone.resolve_device("usb mic") == 0
    assert microphone.resolve_device("0") == 0
    with pytest.raises(MicrophoneError, match="no input device matches 'bluetooth'"):
        microphone.resolve_device("bluetooth")
    with pytest.raises(MicrophoneError, match="no input device with index 3"):
        microphone.resolve_device("3")
