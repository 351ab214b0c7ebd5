"""A PulseAudio virtual sound card: what is played to its sink comes back through its monitor source.

PortAudio (and so sounddevice) sees the monitor as the default input, so a test
can speak into the "microphone" with no sound hardware. Recipe and pitfalls:
../shared/notes/virtual-microphone.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=vsink rate=16000 channels=1
load-module module-null-source source_name=silence rate=16000 channels=1
load-module module-loopback source=silence sink=vsink latency_msec=20 source_dont_move=true sink_dont_move=true
set-default-sink vsink
set-default-source vsink.monitor
"""


@contextlib.contextmanager
def virtual_microphone():
    """Start a private PulseAudio server; yields the environment that points clients at it."""
    if shutil.which("pulseaudio") is None:
        raise RuntimeError("pulseaudio is not installed (apt-get install pulseaudio pulseaudio-utils)")
    folder = Path(tempfile.mkdtemp(prefix="vmic-"))
    folder.chmod(0o700)
    socket = folder / "native"
    (folder / "vmic.pa").write_text(CONFIG.format(socket=socket))
    env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder), "PULSE_SERVER": f"unix:{socket}"}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "-F", str(folder / "vmic.pa"), "--daemonize=no", "--exit-idle-time=-1",
         "--use-pid-file=no", "--disallow-exit", "--enable-memfd=no", f"--log-target=file:{folder / 'pa.log'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"PulseAudio did not start; see {folder / 'pa.log'}")
            time.sleep(0.05)
        yield env
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)
