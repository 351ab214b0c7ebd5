"""Sentence grammars: a few lines of templates that expand to many spoken sentences.

The format, one rule or template per line (`#` starts a comment):

    $room = kitchen | living room | bedroom
    $device = lights | fan
    [please] turn (on | off) the $room $device
    set a timer for $minutes minutes

`$name = ...` defines a rule; any other line is a sentence template. `(a | b)`
chooses, `[x]` is optional, `$name` inserts a rule. Sentences pass through the
project's normalizer, so "7:30 am" and "3rd" become spoken words. A template
whose expansions are too many to list is sampled instead (`Grammar.sentences`).

No maintained Python library reads JSGF-like templates and samples from them
without a speech engine around it, so this small recursive-descent parser is
our own.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass

from .errors import Speech2TextError
from .text import normalize_text


class GrammarError(Speech2TextError, ValueError):
    pass


@dataclass(frozen=True)
class Words:
    text: str


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Seq:
    items: tuple


@dataclass(frozen=True)
class Alt:
    options: tuple


_TOKEN = re.compile(r"\s*(\$[A-Za-z_][A-Za-z0-9_]*|[()\[\]|]|[^\s()\[\]|$]+)")


def _tokens(text: str, where: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise GrammarError(f"{where}: cannot read {text[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    """alternatives := sequence ('|' sequence)*;  sequence := (word | $ref | '(' alternatives ')' | '[' alternatives ']')*"""

    def __init__(self, tokens: list[str], where: str):
        self.tokens, self.position, self.where = tokens, 0, where

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            raise GrammarError(f"{self.where}: expected {expected!r}, found {self.peek() or 'the end'!r}")
        self.position += 1

    def alternatives(self):
        options = [self.sequence()]
        while self.peek() == "|":
            self.position += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Seq:
        items = []
        while (token := self.peek()) not in (None, "|", ")", "]"):
            self.position += 1
            if token == "(":
                items.append(self.alternatives())
                self.take(")")
            elif token == "[":
                items.append(Alt((self.alternatives(), Seq(()))))
                self.take("]")
            elif token.startswith("$"):
                items.append(Ref(token[1:]))
            else:
                items.append(Words(token))
        return Seq(tuple(items))

    def parse(self):
        node = self.alternatives()
        if self.peek() is not None:
            raise GrammarError(f"{self.where}: unexpected {self.peek()!r}")
        return node


class Grammar:
    def __init__(self, text: str, source: str = "grammar"):
        self.rules: dict[str, object] = {}
        self.templates: list[object] = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            where = f"{source}:{number}"
            definition = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", line)
            body = definition.group(2) if definition else line
            node = _Parser(_tokens(body, where), where).parse()
            if definition:
                self.rules[definition.group(1)] = node
            else:
                self.templates.append(node)
        for template in self.templates:
            self._check(template, source, ())
        if not self.templates:
            raise GrammarError(f"{source}: no sentence templates (only rules)")

    def _check(self, node, source: str, stack: tuple[str, ...]) -> None:
        if isinstance(node, Ref):
            if node.name not in self.rules:
                raise GrammarError(f"{source}: ${node.name} is used but never defined")
            if node.name in stack:
                raise GrammarError(f"{source}: ${node.name} refers to itself")
            self._check(self.rules[node.name], source, (*stack, node.name))
        elif isinstance(node, (Seq, Alt)):
            for child in node.items if isinstance(node, Seq) else node.options:
                self._check(child, source, stack)

    def count(self, node) -> int:
        """How many word strings a node expands to (duplicates included)."""
        if isinstance(node, Words):
            return 1
        if isinstance(node, Ref):
            return self.count(self.rules[node.name])
        if isinstance(node, Seq):
            return math.prod(self.count(item) for item in node.items)
        return sum(self.count(option) for option in node.options)

    def expand(self, node) -> list[str]:
        if isinstance(node, Words):
            return [node.text]
        if isinstance(node, Ref):
            return self.expand(self.rules[node.name])
        if isinstance(node, Seq):
            parts = [self.expand(item) for item in node.items]
            return [" ".join(p for p in combination if p) for combination in itertools.product(*parts)]
        return [text for option in node.options for text in self.expand(option)]

    def sample(self, node, rng: random.Random) -> str:
        """One expansion; alternatives weighted by their sizes, so every sentence is equally likely."""
        if isinstance(node, Words):
            return node.text
        if isinstance(node, Ref):
            return self.sample(self.rules[node.name], rng)
        if isinstance(node, Seq):
            return " ".join(p for p in (self.sample(item, rng) for item in node.items) if p)
        weights = [self.count(option) for option in node.options]
        return self.sample(rng.choices(node.options, weights)[0], rng)

    def sentences(self, per_template: int = 2000, seed: int = 0) -> list[str]:
        """Normalized distinct sentences: every expansion of small templates, a sample of big ones."""
        rng = random.Random(seed)
        found: dict[str, None] = {}
        for template in self.templates:
            if self.count(template) <= per_template:
                texts = self.expand(template)
            else:
                texts = [self.sample(template, rng) for _ in range(per_template)]
            for text in texts:
                if normalized := normalize_text(text):
                    found[normalized] = None
        return list(found)


def _numbers(low: int, high: int) -> str:
    return " | ".join(str(n) for n in range(low, high + 1))


# The built-in voice-assistant grammar: questions, commands, numbers, times, dates, names.
ASSISTANT = f"""
$n_small = {_numbers(1, 12)}
$n_minutes = {_numbers(1, 59)}
$n_any = {_numbers(0, 100)} | 150 | 200 | 250 | 500 | 1000
$temperature = {_numbers(16, 30)} | {_numbers(60, 80)}
$hour = {_numbers(1, 12)}
$time = $hour [o'clock | am | pm | thirty | fifteen | forty five | oh five | ten | twenty] | noon | midnight
$unit = seconds | minutes | hours
$weekday = monday | tuesday | wednesday | thursday | friday | saturday | sunday
$month = january | february | march | april | may | june | july | august | september | october | november | december
$day_of_month = {" | ".join(f"{n}{'st' if n % 10 == 1 and n != 11 else 'nd' if n % 10 == 2 and n != 12 else 'rd' if n % 10 == 3 and n != 13 else 'th'}" for n in range(1, 32))}
$date = $month $day_of_month | the $day_of_month of $month | $weekday | next $weekday | tomorrow | today | tonight | this weekend
$room = kitchen | living room | bedroom | bathroom | garage | office | hallway | dining room | basement | nursery
$device = lights | lamp | fan | heater | air conditioner | television | radio | speaker | coffee maker | dishwasher
$city = london | paris | new york | tokyo | berlin | chicago | boston | madrid | rome | sydney | toronto | seattle | dublin | mumbai | cairo | denver | miami | vienna | oslo | lisbon
$country = france | germany | japan | spain | italy | canada | brazil | india | mexico | egypt | kenya | norway | china | peru
$name = john | mary | david | sarah | peter | anna | james | linda | michael | emma | robert | olivia | william | sophia | thomas | grace | daniel | chloe | mom | dad
$music = some music | jazz | the news | a podcast | classical music | my playlist | rock music | the radio | something relaxing | the beatles
$thing = restaurant | hospital | pharmacy | gas station | train station | coffee shop | bank | supermarket | library | airport
$please = please | could you | can you
$food = milk | eggs | bread | apples | coffee | rice | cheese | butter | tomatoes | bananas

what is your name
what is my name
who are you | how are you | how old are you | where do you live | what can you do
what time is it [in $city]
what (day | date) is it [today]
what is the weather [like] [in $city] [$date]
will it (rain | snow | be sunny) [in $city] $date
how (hot | cold) is it [in $city]
[$please] set (a timer | an alarm) for $n_minutes $unit
[$please] set an alarm for $time [$date]
[$please] wake me up at $time [$date]
remind me to (call $name | buy $food | water the plants | take out the trash | check the oven) [at $time] [$date]
remind me in $n_minutes $unit
[$please] turn (on | off) the [$room] $device
[$please] switch (on | off) the $room $device
[$please] (dim | brighten) the [$room] lights [to $n_any percent]
set the temperature to $temperature degrees
[$please] (open | close | lock | unlock) the [$room | front | back | garage] door
[$please] play $music [in the $room]
(pause | stop | resume | skip) [the] (music | song | podcast)
(volume | turn it) (up | down)
set the volume to $n_small
[$please] call $name [at (home | work)]
send a message to $name [saying (i am on my way | i will be late | call me back | see you soon)]
what is $n_any (plus | minus | times | divided by) $n_small
how (far | long does it take to get to) $city
what is the capital of $country
how do you spell $name
add $food to my shopping list
what is on my calendar [$date]
schedule a meeting with $name (on | for) $date [at $time]
where is the nearest $thing
(good morning | good night | thank you | never mind | cancel that | stop | yes | no)
tell me a (joke | story)
what is the date $date
how many days until $month $day_of_month
convert $n_any (miles | pounds | dollars | degrees) to (kilometers | kilograms | euros | celsius)
"""


def assistant_sentences(per_template: int = 2000, seed: int = 0) -> list[str]:
    return Grammar(ASSISTANT, "assistant grammar").sentences(per_template, seed)
