"""Microphone capture through sounddevice (PortAudio), resampled to 16 kHz.

sounddevice is imported here and only here, so everything else works on a
machine without PortAudio. Capture runs in PortAudio's callback thread and
hands blocks over through a bounded queue: decoding never blocks capture,
and when the queue is full, blocks are dropped and counted, never silently.
"""

from __future__ import annotations

import queue
import sys
from collections.abc import Callable, Iterator

import numpy as np

from .audio import SAMPLE_RATE
from .errors import Speech2TextError


class MicrophoneError(Speech2TextError, RuntimeError):
    """No usable input device, PortAudio missing, or the device went away."""


def import_sounddevice():
    try:
        import sounddevice
    except OSError:
        raise MicrophoneError(
            "PortAudio is not installed: install the libportaudio2 package (apt-get install libportaudio2)"
        ) from None
    return sounddevice


def input_devices() -> list[dict]:
    """PortAudio's input devices: index, name, max_input_channels, default_samplerate, default."""
    sd = import_sounddevice()
    try:
        default = sd.default.device[0]
        devices = sd.query_devices()
    except sd.PortAudioError as error:
        raise MicrophoneError(f"cannot list sound devices ({error})") from None
    return [
        {"index": d["index"], "name": d["name"], "channels": d["max_input_channels"],
         "default_samplerate": d["default_samplerate"], "default": d["index"] == default}
        for d in devices if d["max_input_channels"] > 0
    ]


def resolve_device(device: str | int | None) -> int | None:
    """An index, or a unique part of a device name, -> PortAudio index (None: the default input)."""
    devices = input_devices()
    if not devices:
        raise MicrophoneError(
            "no input device found: plug in a microphone or start a sound server (PulseAudio or PipeWire); "
            "`speech2text devices` lists what PortAudio sees"
        )
    if device is None:
        return None
    if str(device).isdigit():
        if int(device) not in [d["index"] for d in devices]:
            raise MicrophoneError(f"no input device with index {device}; `speech2text devices` lists them")
        return int(device)
    matches = [d for d in devices if str(device).lower() in d["name"].lower()]
    if len(matches) != 1:
        found = "no" if not matches else "more than one"
        raise MicrophoneError(f"{found} input device matches {device!r}; `speech2text devices` lists them")
    return matches[0]["index"]


class Microphone:
    """Iterate to get float32 mono 16 kHz chunks of `block_ms` from an input device.

    The device's own rate (44.1 or 48 kHz, say) is used when it cannot
    record at 16 kHz, and resampled with soxr's streaming resampler.
    `on_ready` is called once the first audio arrives.
    """

    def __init__(self, device: str | int | None = None, block_ms: int = 30, queue_blocks: int = 500,
                 on_ready: Callable[[str], None] | None = None, stall_timeout_s: float = 3.0):
        self.sd = import_sounddevice()
        self.device = resolve_device(device)
        self.block_ms = block_ms
        self.queue: queue.Queue = queue.Queue(maxsize=queue_blocks)
        self.on_ready = on_ready
        self.stall_timeout_s = stall_timeout_s
        self.overflows = 0
        self.dropped_blocks = 0
        info = self.sd.query_devices(self.device, kind="input")
        self.name = info["name"]
        self.rate = SAMPLE_RATE
        try:
            self.sd.check_input_settings(device=self.device, channels=1, samplerate=SAMPLE_RATE, dtype="float32")
        except self.sd.PortAudioError:
            self.rate = int(info["default_samplerate"])

    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        try:
            self.queue.put_nowait(indata[:, 0].copy())
        except queue.Full:
            self.dropped_blocks += 1

    def __iter__(self) -> Iterator[np.ndarray]:
        resampler = None
        if self.rate != SAMPLE_RATE:
            import soxr

            resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="float32")
        try:
            stream = self.sd.InputStream(
                device=self.device, channels=1, samplerate=self.rate, dtype="float32",
                blocksize=self.rate * self.block_ms // 1000, callback=self._callback,
            )
        except self.sd.PortAudioError as error:
            raise MicrophoneError(f"cannot open input device {self.name!r} ({error})") from None
        with stream:
            ready = False
            while True:
                try:
                    block = self.queue.get(timeout=self.stall_timeout_s)
                except queue.Empty:
                    raise MicrophoneError(
                        f"input device {self.name!r} stopped delivering audio (unplugged, or the sound server stopped?)"
                    ) from None
                if not ready:
                    ready = True
                    if self.on_ready:
                        self.on_ready(f"{self.name} at {self.rate} Hz")
                yield resampler.resample_chunk(block) if resampler else block

    def report(self) -> str | None:
        """A line about lost audio, or None when nothing was lost."""
        if self.overflows or self.dropped_blocks:
            return f"audio lost: {self.overflows} input overflows, {self.dropped_blocks} blocks dropped (decoding too slow?)"
        return None


def print_devices(file=sys.stdout) -> None:
    devices = input_devices()
    if not devices:
        raise MicrophoneError("no input device found: plug in a microphone or start a sound server (PulseAudio or PipeWire)")
    for d in devices:
        mark = "*" if d["default"] else " "
        print(f"{mark} {d['index']:3d}  {d['name']}  ({d['channels']} ch, {d['default_samplerate']:.0f} Hz)", file=file)
