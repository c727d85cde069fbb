"""Synthetic support tickets for benchmarks: varied, realistic-looking, and the same for a seed.

The texts are for timing, not for training or measuring accuracy: their labels
are not known. They mix soreness and pain complaints, account questions,
durations, negations, a few red flags, greetings, signatures and typos, so the
classifier's matchers see the same kind of work as on real tickets.
"""

from __future__ import annotations

import random

GREETINGS = (
    "Hi,",
    "Hi team,",
    "Hello,",
    "hey",
    "Hey there,",
    "Good morning,",
    "Dear support,",
    "Hiya!",
    "Hello again,",
)
SITES = (
    "lower back",
    "upper back",
    "back",
    "neck",
    "shoulders",
    "glutes",
    "hamstrings",
    "quads",
    "calves",
    "hips",
    "right hip",
    "traps",
    "abs",
    "tailbone",
    "left side of my lower back",
    "mid back",
)
ACTIVITIES = (
    "deadlifts",
    "squats",
    "leg day",
    "the day {day} workout",
    "yoga",
    "a long run",
    "gardening all weekend",
    "moving house",
    "the core routine",
    "pilates",
    "a hike",
    "carrying the kids around",
    "the stretching video",
    "my first spin class",
    "shoveling snow",
    "the week {week} program",
)
SORENESS_WORDS = (
    "sore",
    "stiff",
    "achy",
    "tight",
    "tender",
    "a bit sore",
    "really sore",
    "super stiff",
    "worked",
    "sore and heavy",
)
PAIN_WORDS = (
    "a sharp pain",
    "a shooting pain",
    "a stabbing pain",
    "a burning pain",
    "a pain that won't go away",
    "a deep ache that wakes me up at night",
    "a pinching pain",
    "pain",
)
RADIATION = (
    "down my left leg",
    "into my buttock",
    "into my right arm",
    "down to my knee",
    "round to my front",
    "into my foot",
)
MOVES = (
    "bend forward",
    "sit for long",
    "get out of bed",
    "turn my head",
    "cough or sneeze",
    "lift anything",
    "stand up from a chair",
)
DURATIONS = (
    "since yesterday",
    "for 2 days",
    "for three weeks",
    "since Monday",
    "for about a month",
    "for a couple of days",
    "since last night",
    "for over a year",
    "on and off for 6 months",
    "since this morning",
    "for 10 days",
    "for a week or so",
)
NEGATIONS = (
    "No numbness or tingling.",
    "Nothing sharp.",
    "No fever.",
    "It's not really pain, more like stiffness.",
    "I don't have any weakness in my legs.",
    "No injury that I know of.",
    "I didn't fall or anything.",
)
ADMIN = (
    "How do I cancel my subscription?",
    "The video for day {day} won't load.",
    "I was charged twice this month.",
    "Can I change the email on my account?",
    "Is there a way to download the workouts?",
    "The app logs me out every time I open it.",
    "Can I pause my plan while I travel?",
    "Where do I find the beginner program?",
    "My password reset email never arrives.",
    "Can I get an invoice for my company?",
    "Do you have a version of week {week} without jumping?",
)
QUESTIONS = (
    "Is this normal?",
    "Should I keep doing the exercises?",
    "Should I skip tomorrow's session?",
    "Normal DOMS right?",
    "What do you recommend?",
    "Should I see a doctor?",
    "Is it ok to train through it?",
    "Any tips?",
)
RED_FLAGS = (
    "Since this morning I can't control my bladder.",
    "There's numbness in my groin area too.",
    "I've had a fever and night sweats along with it.",
    "Both legs feel weak and I keep tripping.",
    "I lost control of my bowels last night.",
    "I've also been losing weight without trying.",
    "It came with chest pain and I'm short of breath.",
)
SIGNOFFS = ("Thanks,", "Thank you!", "Cheers,", "Best,", "Kind regards,", "thx")
BACKGROUND = (
    "I'm on week {week} of the program.",
    "I'm 52 and new to exercise.",
    "I work at a desk all day.",
    "I started the plan on Monday.",
    "I had a baby {week} months ago.",
    "I run three times a week.",
)
NAMES = ("Priya", "Tom", "Karen", "J.", "Miguel", "Sam", "Aisha", "Dave", "Lena", "Chris")

RED_FLAG_RATE = 0.02
TYPO_TICKET_RATE = 0.3
TYPO_WORD_RATE = 0.04
CASUAL_RATE = 0.2


def _fill(template: str, rng: random.Random) -> str:
    return template.format(day=rng.randint(1, 30), week=rng.randint(1, 12))


def _soreness(rng: random.Random) -> list[str]:
    site, word = rng.choice(SITES), rng.choice(SORENESS_WORDS)
    activity = _fill(rng.choice(ACTIVITIES), rng)
    templates = (
        f"My {site} feels {word} after {activity}.",
        f"Did {activity} {rng.choice(('yesterday', 'on Monday', 'at the weekend'))} "
        f"and now my {site} is {word}.",
        f"{site.capitalize()} {word} {rng.choice(DURATIONS)} after {activity}.",
        f"Started {activity} and my {site} has been {word} {rng.choice(DURATIONS)}.",
    )
    sentences = [rng.choice(templates)]
    if rng.random() < 0.4:
        sentences.append(rng.choice(NEGATIONS))
    return sentences


def _pain(rng: random.Random) -> list[str]:
    site, pain = rng.choice(SITES), rng.choice(PAIN_WORDS)
    templates = (
        f"I have {pain} in my {site} {rng.choice(DURATIONS)}.",
        f"{pain.capitalize()} going {rng.choice(RADIATION)} {rng.choice(DURATIONS)}.",
        f"My {site} hurts whenever I {rng.choice(MOVES)}.",
        f"Felt something pop in my {site} during {_fill(rng.choice(ACTIVITIES), rng)}, "
        f"it has hurt {rng.choice(DURATIONS)}.",
        f"{pain.capitalize()} in my {site} that gets worse when I {rng.choice(MOVES)}.",
    )
    sentences = [rng.choice(templates)]
    if rng.random() < 0.3:
        sentences.append(f"Also {rng.choice(PAIN_WORDS)} {rng.choice(RADIATION)}.")
    if rng.random() < 0.2:
        sentences.append(rng.choice(NEGATIONS))
    return sentences


def _admin(rng: random.Random) -> list[str]:
    count = 2 if rng.random() < 0.3 else 1
    return [_fill(template, rng) for template in rng.sample(ADMIN, count)]


def _typos(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for index, word in enumerate(words):
        if len(word) < 4 or rng.random() >= TYPO_WORD_RATE:
            continue
        at = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(3)
        if kind == 0:  # swap two letters
            word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
        elif kind == 1:  # drop a letter
            word = word[:at] + word[at + 1 :]
        else:  # double a letter
            word = word[:at] + word[at] + word[at:]
        words[index] = word
    return " ".join(words)


def _ticket(rng: random.Random) -> str:
    kind = rng.choices(("soreness", "pain", "admin", "mixed"), weights=(35, 30, 25, 10))[0]
    if kind == "soreness":
        body = _soreness(rng)
    elif kind == "pain":
        body = _pain(rng)
    elif kind == "admin":
        body = _admin(rng)
    else:
        body = [*rng.choice((_soreness, _pain))(rng), *_admin(rng)]
    if kind != "admin" and rng.random() < 0.4:
        body.insert(0, _fill(rng.choice(BACKGROUND), rng))
    if kind != "admin" and rng.random() < 0.5:
        body.append(rng.choice(QUESTIONS))
    if rng.random() < RED_FLAG_RATE:
        body.insert(rng.randint(1, len(body)), rng.choice(RED_FLAGS))
    text = " ".join(body)
    if rng.random() < TYPO_TICKET_RATE:
        text = _typos(text, rng)
    if rng.random() < CASUAL_RATE:
        # Chat-style tickets: no capitals, no full stops.
        return text.lower().replace(".", "")
    parts = [text]
    if rng.random() < 0.5:
        parts.insert(0, rng.choice(GREETINGS))
    if rng.random() < 0.4:
        parts.append(f"{rng.choice(SIGNOFFS)}\n{rng.choice(NAMES)}")
    separator = "\n\n" if rng.random() < 0.5 else " "
    return separator.join(parts)


def generate_tickets(n: int, seed: int = 0) -> list[str]:
    """Generate ``n`` short ticket texts; the same ``n`` and ``seed`` give the same texts.

    Parameters
    ----------
    n : int
        Number of tickets.
    seed : int
        Seed of the generator.

    Returns
    -------
    list of str
        The tickets, about 40 to 400 characters each.

    Examples
    --------
    >>> tickets = generate_tickets(1000, seed=1)
    >>> len(tickets), tickets == generate_tickets(1000, seed=1)
    (1000, True)
    >>> len(set(tickets)) > 900
    True
    """
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    rng = random.Random(seed)
    return [_ticket(rng) for _ in range(n)]
