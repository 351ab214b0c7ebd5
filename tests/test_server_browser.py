"""The page of `speech2text serve` in a real browser: Debian's headless Chromium, driven by Selenium through
Debian's chromium-driver, with a fake microphone that plays a known recording (.ci/apt-packages.sh installs both).

The page captures the fake microphone with getUserMedia and its AudioWorklet, streams it over WS /v1/listen
with the API key, and the test reads the final line off the page; then it hands the page a file, as a drop
would, and reads that transcript too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from test_server import ASSETS, KEY, Server, run_cli

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SPOKEN = ASSETS / "weather_in_paris.flac"
DROPPED = ASSETS / "set_a_timer.wav"


@pytest.fixture(scope="module")
def server():
    running = Server("--api-key", KEY, "--workers", "1").wait_until_serving()
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def expected_texts() -> dict[str, str]:
    output = run_cli("transcribe", "--threads", "1", "--jobs", "1", str(SPOKEN), str(DROPPED))
    return dict(line.split("\t") for line in output.splitlines())


def fake_microphone(path: Path) -> Path:
    """The recording with half a second of silence before and two after, as 16-bit WAV (what Chromium plays)."""
    samples, rate = soundfile.read(str(SPOKEN), dtype="float32")
    silence_s = np.zeros(rate // 2, np.float32)
    soundfile.write(str(path), np.concatenate([silence_s, samples, np.tile(silence_s, 4)]), rate, subtype="PCM_16")
    return path


@pytest.fixture
def browser(tmp_path):
    assert CHROMIUM and CHROMEDRIVER, "needs Debian's chromium and chromium-driver (.ci/apt-packages.sh)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,700",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={fake_microphone(tmp_path / 'microphone.wav')}%noloop",
                 "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def lines(driver) -> list[tuple[str, str]]:
    return [(item.find_element(By.CLASS_NAME, "label").text, item.find_element(By.CLASS_NAME, "text").text)
            for item in driver.find_elements(By.CSS_SELECTOR, "#lines li")]


def test_the_page_transcribes_the_microphone_and_a_dropped_file(server, expected_texts, browser, tmp_path):
    browser.get(server.url)
    wait = WebDriverWait(browser, 60)
    key = wait.until(expected_conditions.visibility_of_element_located((By.ID, "key")))  # the server wants a key
    key.send_keys(KEY)
    browser.find_element(By.ID, "mic").click()
    try:
        wait.until(lambda driver: lines(driver))
    finally:
        console = [entry["message"] for entry in browser.get_log("browser")]
    label, spoken = lines(browser)[0]
    print(f"page, microphone: {spoken!r} at {label}; status {browser.find_element(By.ID, 'status').text!r}")
    assert spoken == expected_texts[str(SPOKEN)], console
    browser.find_element(By.ID, "mic").click()  # stop: the server closes the stream
    wait.until(lambda driver: driver.find_element(By.ID, "status").text.startswith("stopped"))

    file_input = browser.find_element(By.ID, "file")
    browser.execute_script("arguments[0].hidden = false", file_input)
    file_input.send_keys(str(DROPPED))
    wait.until(lambda driver: len(lines(driver)) == 2)
    assert lines(browser)[1] == (DROPPED.name, expected_texts[str(DROPPED)])
    print(f"page, file: {lines(browser)[1]}")

    browser.execute_script("arguments[0].hidden = true", file_input)  # as a person sees the page
    # S2T_SCREENSHOT=assets/serve_page.png makes the README's picture of the page
    screenshot = Path(os.environ.get("S2T_SCREENSHOT") or tmp_path / "page.png")
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
