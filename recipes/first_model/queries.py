"""A small voice-assistant query grammar: questions, commands, numbers and times.

Each template is expanded with every filler, giving a few hundred distinct queries.
"""

from __future__ import annotations

import itertools

NUMBERS = ["one", "two", "three", "five", "ten", "fifteen", "twenty", "thirty", "forty five"]
UNITS = ["seconds", "minutes", "hours"]
PLACES = ["kitchen", "living room", "bedroom", "bathroom", "garage", "office"]
DEVICES = ["lights", "fan", "heater", "television", "radio"]
CITIES = ["london", "paris", "new york", "tokyo", "berlin", "chicago", "boston", "madrid"]
DAYS = ["today", "tomorrow", "tonight", "this weekend", "on monday", "on friday"]
NAMES = ["john", "mary", "david", "sarah", "peter", "anna", "mom", "dad"]
SONGS = ["some music", "jazz", "the news", "a podcast", "classical music", "my playlist"]

TEMPLATES = [
    ("what is your name", {}),
    ("what is my name", {}),
    ("who are you", {}),
    ("how are you", {}),
    ("what time is it", {}),
    ("what day is it today", {}),
    ("tell me a joke", {}),
    ("what can you do", {}),
    ("stop", {}),
    ("cancel that", {}),
    ("what is the weather {day}", {"day": DAYS}),
    ("what is the weather in {city}", {"city": CITIES}),
    ("will it rain {day}", {"day": DAYS}),
    ("what time is it in {city}", {"city": CITIES}),
    ("set a timer for {n} {unit}", {"n": NUMBERS, "unit": UNITS}),
    ("remind me in {n} {unit}", {"n": NUMBERS[:6], "unit": UNITS}),
    ("wake me up at {n} o'clock", {"n": NUMBERS[:5]}),
    ("turn on the {place} {device}", {"place": PLACES, "device": DEVICES[:3]}),
    ("turn off the {place} {device}", {"place": PLACES, "device": DEVICES[:3]}),
    ("dim the {place} lights", {"place": PLACES}),
    ("play {song}", {"song": SONGS}),
    ("play {song} in the {place}", {"song": SONGS[:3], "place": PLACES[:3]}),
    ("call {name}", {"name": NAMES}),
    ("send a message to {name}", {"name": NAMES}),
    ("what is {a} plus {b}", {"a": NUMBERS[:5], "b": NUMBERS[:5]}),
    ("what is {a} times {b}", {"a": NUMBERS[:4], "b": NUMBERS[:4]}),
    ("how far is {city}", {"city": CITIES}),
    ("how do you spell {name}", {"name": NAMES}),
    ("open the {place} door", {"place": PLACES}),
    ("what is on my calendar {day}", {"day": DAYS}),
    ("set the temperature to {n} degrees", {"n": ["sixty", "sixty five", "seventy", "seventy two", "twenty"]}),
    ("where is the nearest {thing}", {"thing": ["restaurant", "hospital", "pharmacy", "gas station", "train station"]}),
    ("how old are you", {}),
    ("where do you live", {}),
    ("what is the capital of {country}", {"country": ["france", "germany", "japan", "spain", "italy", "canada"]}),
    ("volume up", {}),
    ("volume down", {}),
    ("next song", {}),
    ("good morning", {}),
    ("good night", {}),
    ("thank you", {}),
]


def expand() -> list[str]:
    """All distinct queries of the grammar, in a stable order."""
    queries: list[str] = []
    for template, slots in TEMPLATES:
        names = list(slots)
        for values in itertools.product(*(slots[name] for name in names)):
            queries.append(template.format(**dict(zip(names, values))))
    return list(dict.fromkeys(queries))


if __name__ == "__main__":
    for query in expand():
        print(query)
