#!/usr/bin/env bash
# The Debian packages the test suite needs, listed once (.ci/run and `make install` call this).
# As root with apt-get: installs the missing ones. Otherwise: one line naming them, and carries on.
set -euo pipefail
# make for the Makefile itself. libsndfile comes inside the soundfile wheel. PortAudio for sounddevice;
# PulseAudio and its tools for the virtual-microphone test (tests/virtual_microphone.py). The speech
# engines, their voices and sox for `speech2text synthesize` (tests/test_synthesize.py). Chromium and its
# WebDriver for the page of `speech2text serve` (tests/test_server_browser.py).
PACKAGES=(
  make libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins
  espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts sox libsox-fmt-all
  chromium chromium-driver
)
command -v dpkg-query >/dev/null || exit 0  # not Debian or Ubuntu: nothing this script can check
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "speech2text tests: missing Debian packages; install them with: sudo apt-get install ${missing[*]}" >&2
fi
