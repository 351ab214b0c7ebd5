import json

from speech2text.decoding import Word
from speech2text.formats import cues, render, timestamp
from speech2text.transcribe import Transcript

WORDS = [
    Word("what", 0.3, 0.5, 0.9), Word("is", 0.55, 0.7, 0.8), Word("your", 0.75, 0.9, 0.95), Word("name", 0.95, 1.3, 0.9),
    Word("set", 3.0, 3.2, 0.7), Word("a", 3.25, 3.3, 0.6), Word("timer", 3.35, 3.8, 0.9),
]
TRANSCRIPT = Transcript("what is your name set a timer", WORDS, end_s=4.0)


def test_timestamps():
    assert timestamp(3725.0456, ",") == "01:02:05,046"
    assert timestamp(0.0, ".") == "00:00:00.000"


def test_cues_break_at_pauses_and_length():
    assert [[w.text for w in cue] for cue in cues(WORDS)] == [["what", "is", "your", "name"], ["set", "a", "timer"]]
    many = [Word(f"w{i}", i * 0.3, i * 0.3 + 0.2, 1.0) for i in range(30)]
    assert all(len(cue) <= 12 and cue[-1].end_s - cue[0].start_s <= 6.0 for cue in cues(many))


def test_srt_exact():
    assert render("x.wav", TRANSCRIPT, "srt") == (
        "1\n00:00:00,300 --> 00:00:01,300\nwhat is your name\n\n"
        "2\n00:00:03,000 --> 00:00:03,800\nset a timer\n"
    )


def test_vtt_exact():
    assert render("x.wav", TRANSCRIPT, "vtt") == (
        "WEBVTT\n\n"
        "00:00:00.300 --> 00:00:01.300\nwhat is your name\n\n"
        "00:00:03.000 --> 00:00:03.800\nset a timer\n"
    )


def test_txt_and_json():
    assert render("x.wav", TRANSCRIPT, "txt") == "what is your name set a timer\n"
    record = json.loads(render("x.wav", TRANSCRIPT, "jsonl"))
    assert record["audio"] == "x.wav" and record["words"][4] == {"text": "set", "start_s": 3.0, "end_s": 3.2, "confidence": 0.7}
    assert render("x.wav", TRANSCRIPT, "jsonl").count("\n") == 1
