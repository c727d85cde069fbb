"""Tests for the urgent flag: every red flag of the guide, raised when current and only then."""

from __future__ import annotations

from collections import defaultdict

import pytest

from classifier.analysis import analyze
from classifier.rules import RuleSet, load_rules
from classifier.urgent import UrgentFinding, find_red_flags


def flags_of(text: str) -> list[str]:
    return [finding.flag for finding in find_red_flags(analyze(text), load_rules())]


# A current red flag, stated about the writer or the person written about.
RAISED: list[tuple[str, str] | object] = [
    ("bladder_bowel", "My lower back has ached since Friday and today I can't pee at all"),
    ("bladder_bowel", "Since yesterday I keep wetting myself and my back is agony"),
    ("bladder_bowel", "No fever, but since this morning I can't pee"),
    ("saddle_numbness", "My groin and inner thighs have gone numb since I lifted the sofa"),
    ("saddle_numbness", "Numb down there since this morning and my back is killing me"),
    ("limb_weakness", "My left leg keeps giving way when I walk and my foot drags"),
    ("limb_weakness", "Since Tuesday I can't lift the toes of my right foot"),
    ("limb_weakness", "Since this morning I can't move my legs"),
    ("limb_weakness", "My husband's legs have gone weak since last night"),
    ("limb_weakness", "Since this morning my wife can't move her legs"),
    ("major_trauma", "I fell off the roof yesterday and landed on my back"),
    ("major_trauma", "Got rear-ended on the motorway this morning and now my neck hurts"),
    ("fever_infection", "My lower back pain started yesterday with a fever of 39 and chills"),
    ("fever_infection", "My mum has had a fever and chills since yesterday and her back is agony"),
    ("fever_infection", "I was diagnosed with discitis two weeks ago"),
    (
        "cancer_weight_loss",
        "I had breast cancer three years ago and now I have new back pain that started last week",
    ),
    ("cancer_weight_loss", "I've lost a lot of weight without trying and my back hurts every day"),
    ("night_rest_pain", "My back pain is worse at night and no position relieves it"),
    ("night_rest_pain", "The pain in my back wakes me every night and nothing helps"),
    (
        "osteoporosis_steroids",
        "I have osteoporosis and suddenly my mid back started hurting this morning after a sneeze",
    ),
    (
        "osteoporosis_steroids",
        "I've been on prednisone for two years and my lower back suddenly hurts since yesterday",
    ),
    ("chest_pain", "I have crushing chest pain spreading to my left arm"),
    ("chest_pain", "Crushing chest pain and I can't breathe"),
    ("breathing", "I can't breathe properly and my upper back hurts"),
    ("breathing", "Crushing chest pain and I can't breathe"),
    ("suicide_self_harm", "My back pain is so bad I've been thinking about ending my life"),
    ("heavy_bleeding", "I cut my hand on a knife and it won't stop bleeding"),
    ("stroke", "Suddenly my speech is slurred and my left arm feels weak"),
    ("stroke", "My dad's face is drooping on one side and his speech is slurred"),
]

# (flag, form, text): the same red flag negated, hypothetical, past or outside its definition.
NOT_RAISED: list[tuple[str, str, str] | object] = [
    ("bladder_bowel", "negated", "Sore back after moving boxes, but no bladder or bowel problems"),
    (
        "bladder_bowel",
        "hypothetical",
        "What if I ever lose control of my bladder because of my back?",
    ),
    (
        "bladder_bowel",
        "past",
        "I was incontinent for a few weeks after giving birth years ago; now my back is just "
        "stiff from yoga",
    ),
    (
        "bladder_bowel",
        "long-standing",
        "I've had a little stress incontinence for fifteen years, unchanged, and my back is stiff "
        "after yoga",
    ),
    ("bladder_bowel", "constipation alone", "My back hurts and I have been constipated for days"),
    ("bladder_bowel", "needing to pee", "I need to pee a lot since I started drinking more water"),
    ("saddle_numbness", "negated", "Sore back after the gym, no numbness in my groin or bottom"),
    ("saddle_numbness", "hypothetical", "How would I know if I had saddle numbness?"),
    ("saddle_numbness", "hypothetical", "What should I do if I get numbness around my bottom?"),
    (
        "saddle_numbness",
        "past",
        "I had a numb groin after my epidural ten years ago, it went away long ago",
    ),
    (
        "saddle_numbness",
        "long-standing",
        "I've had a numb patch on my inner thigh for twenty years, unchanged, and my calves are "
        "sore after the run",
    ),
    ("limb_weakness", "negated", "My back is sore after squats but my legs are not weak at all"),
    ("limb_weakness", "hypothetical", "Should I worry about foot drop if my sciatica gets worse?"),
    (
        "limb_weakness",
        "long-standing",
        "My right foot drop from an old disc injury has been the same for years, unchanged",
    ),
    (
        "limb_weakness",
        "long-standing",
        "My left leg has been weak since polio as a child, same as always, and my shoulders ache "
        "after swimming",
    ),
    ("limb_weakness", "tiredness", "I feel weak and exhausted after my first day of the program"),
    ("limb_weakness", "tiredness", "My whole body feels weak since I caught the flu"),
    ("limb_weakness", "soreness", "My legs feel like jelly after leg day"),
    ("major_trauma", "negated", "No accident and no fall, my back just started aching after work"),
    ("major_trauma", "hypothetical", "What if I get in a car accident, would my back be ok?"),
    (
        "major_trauma",
        "past",
        "I broke my back in a car crash in 2009 and it healed fine; now my neck is sore after "
        "the gym",
    ),
    ("major_trauma", "not trauma", "I fell asleep on the sofa and woke up with a stiff neck"),
    ("fever_infection", "negated", "My back hurts after deadlifts, no fever or chills"),
    ("fever_infection", "hypothetical", "What if I get a fever with my back pain?"),
    (
        "fever_infection",
        "past",
        "I had a spinal infection ten years ago and fully recovered; my back is sore from "
        "gardening",
    ),
    ("fever_infection", "no back pain", "I have a fever and a sore throat"),
    ("fever_infection", "no back pain", "I have a fever and chills"),
    (
        "cancer_weight_loss",
        "negated",
        "Back pain after a fall, no history of cancer and no weight loss",
    ),
    ("cancer_weight_loss", "hypothetical", "Can people with cancer do the back exercises?"),
    ("cancer_weight_loss", "hypothetical", "What if my back pain is a sign of cancer?"),
    (
        "cancer_weight_loss",
        "long-standing",
        "I had cancer twenty years ago and my back pain has been the same for ten years",
    ),
    ("cancer_weight_loss", "no back pain", "I had cancer years ago and I am doing great"),
    (
        "cancer_weight_loss",
        "another person",
        "my dad had cancer; my lower back is sore after gardening",
    ),
    (
        "night_rest_pain",
        "negated",
        "My back hurts when I bend, but lying down relieves it and it does not keep me up at night",
    ),
    (
        "night_rest_pain",
        "hypothetical",
        "What if my back pain gets worse at night and nothing helps?",
    ),
    (
        "night_rest_pain",
        "past",
        "Years ago I had night pain that nothing relieved, but that cleared up; now I'm just sore "
        "after yoga",
    ),
    ("night_rest_pain", "trouble sleeping", "I have trouble sleeping because of stress at work"),
    ("night_rest_pain", "trouble sleeping", "I can't sleep, I'm worried about my exam"),
    (
        "night_rest_pain",
        "trouble sleeping",
        "My back aches after gardening and I slept badly last night",
    ),
    (
        "osteoporosis_steroids",
        "negated",
        "My back hurts after lifting, I don't have osteoporosis and have never taken steroids",
    ),
    ("osteoporosis_steroids", "hypothetical", "Can I do the exercises if I have osteoporosis?"),
    (
        "osteoporosis_steroids",
        "long-standing",
        "I have osteoporosis and my back ache has been the same for five years",
    ),
    ("chest_pain", "negated", "No chest pain, just a stiff upper back from rowing"),
    ("chest_pain", "hypothetical", "What if I get chest pain during the workout?"),
    (
        "chest_pain",
        "past",
        "I had chest pains years ago that turned out to be reflux, nothing since; my shoulders "
        "are sore from swimming",
    ),
    (
        "chest_pain",
        "past",
        "Last year I had chest pain from a pulled muscle, long gone now; my back is sore after "
        "rowing",
    ),
    ("breathing", "negated", "No shortness of breath, just a sore back after the hike"),
    ("breathing", "hypothetical", "What should I do if I get short of breath while running?"),
    (
        "breathing",
        "past",
        "I was short of breath as a child because of asthma, now my back is sore after the gym",
    ),
    (
        "breathing",
        "long-standing",
        "I have been short of breath for years because of COPD, nothing new, and my back is "
        "stiff after the gym",
    ),
    ("suicide_self_harm", "negated", "I'm not suicidal, I'm just fed up with this back pain"),
    ("suicide_self_harm", "hypothetical", "Does the questionnaire ask about self-harm?"),
    (
        "suicide_self_harm",
        "past",
        "I had suicidal thoughts years ago but I'm in a good place now; my back is sore from "
        "running",
    ),
    ("heavy_bleeding", "negated", "The cut on my knee is not bleeding heavily"),
    ("heavy_bleeding", "hypothetical", "What do I do if a cut won't stop bleeding?"),
    (
        "heavy_bleeding",
        "past",
        "Years ago I had heavy bleeding after an operation; today my neck is stiff from painting",
    ),
    ("heavy_bleeding", "minor", "My gums bleed a little when I brush my teeth"),
    (
        "stroke",
        "negated",
        "No slurred speech or face drooping, just a stiff neck from sleeping wrong",
    ),
    ("stroke", "hypothetical", "What are the warning signs of a stroke?"),
    (
        "stroke",
        "past",
        "I had a mini stroke years ago and fully recovered; my legs are sore after the gym",
    ),
    (
        "stroke",
        "not one-sided weakness",
        "My back is so stiff after the gym I could barely lift my arm to wave at a friend",
    ),
]


def _values(entry: object) -> tuple[object, ...]:
    return tuple(entry.values) if hasattr(entry, "values") else tuple(entry)  # type: ignore[arg-type]


@pytest.mark.parametrize(("flag", "text"), RAISED)
def test_a_current_red_flag_is_raised(flag: str, text: str) -> None:
    assert flag in flags_of(text)


@pytest.mark.parametrize(("flag", "form", "text"), NOT_RAISED)
def test_a_red_flag_that_is_not_current_is_not_raised(flag: str, form: str, text: str) -> None:
    # None of these texts holds any other red flag either: the text is not urgent.
    assert flags_of(text) == [], f"{form} {flag}"


def test_the_table_covers_every_red_flag_in_every_form() -> None:
    flags = set(load_rules().flag_reasons())
    assert len(flags) == 13
    assert {_values(entry)[0] for entry in RAISED} == flags
    forms: dict[str, set[str]] = defaultdict(set)
    for entry in NOT_RAISED:
        flag, form, _ = _values(entry)
        forms[str(flag)].add(str(form).replace("long-standing", "past"))
    for flag in flags:
        assert {"negated", "hypothetical", "past"} <= forms[flag], flag


# --- whose red flag ----------------------------------------------------------------------------


def test_a_relatives_cancer_does_not_make_the_writers_soreness_urgent() -> None:
    assert flags_of("my dad had cancer; my lower back is sore after gardening") == []


def test_a_red_flag_of_the_person_written_about_is_urgent() -> None:
    flags = flags_of("my husband fell off the ladder this morning and can't move his legs")
    assert "major_trauma" in flags


def test_a_relatives_red_flag_is_urgent_when_the_writer_has_no_complaint() -> None:
    assert flags_of("My mum has crushing chest pain and is sweating") == ["chest_pain"]


# --- findings ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def test_a_finding_names_the_reason_and_the_words(rules: RuleSet) -> None:
    (finding,) = find_red_flags(analyze("Since this morning I can't pee at all"), rules)
    assert finding == UrgentFinding(
        "bladder_bowel", rules.flag_reasons()["bladder_bowel"], "can't pee"
    )
    assert finding.describe() == 'loss of bladder or bowel control: "can\'t pee"'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("My back is agony and I have a fever of 39.5 since last night", "fever of 39.5"),
        ("He came off his motorbike an hour ago and his back hurts", "came off his motorbike"),
        ("Out of nowhere my face is drooping on one side", "my face is drooping"),
    ],
)
def test_describe_quotes_the_matched_words(rules: RuleSet, text: str, words: str) -> None:
    described = [finding.describe() for finding in find_red_flags(analyze(text), rules)]
    assert any(f'"{words}"' in line for line in described), described
    assert all(":" in line and "_" not in line.split(":")[0] for line in described)


def test_findings_come_in_rule_file_order_one_per_flag(rules: RuleSet) -> None:
    text = "Crushing chest pain, I can't breathe, and I can't breathe when I lie down"
    assert [f.flag for f in find_red_flags(analyze(text), rules)] == ["chest_pain", "breathing"]


@pytest.mark.parametrize("text", ["", "   ", "thanks for the great videos", "My back is sore"])
def test_a_text_without_red_flags_has_no_findings(rules: RuleSet, text: str) -> None:
    assert find_red_flags(analyze(text), rules) == []


# Red flags as concepts (issue 8): the same flag whatever the phrasing.
@pytest.mark.parametrize(
    ("flag", "text"),
    [
        ("major_trauma", "A van ran into me on my bike this morning, my hip is killing me"),
        ("major_trauma", "My car slammed into a lamp post last night and my neck is stiff"),
        ("major_trauma", "Pretty sure I broke my wrist when I fell at the gym today"),
        ("breathing", "Since an hour ago I can hardly breathe and my back aches"),
        ("breathing", "My breathing is shallow and difficult since lunch"),
        ("limb_weakness", "During the run my feet went numb and they still are"),
        ("limb_weakness", "Halfway through the press my right arm went dead"),
        ("bladder_bowel", "I haven't been able to urinate since yesterday and my back hurts"),
        ("major_trauma", "Yesterday I toppled off the stepladder while painting, my ribs hurt"),
        ("major_trauma", "My daughter tumbled from the top bunk last night and her neck is sore"),
        ("major_trauma", "Came down off the scaffolding badly this morning, my back aches"),
        ("major_trauma", "Crashed my bike on the descent today and my shoulder is agony"),
        ("major_trauma", "Got doored on my bike this morning, my knee is swollen"),
        ("major_trauma", "Went over the handlebars on a trail this afternoon, neck is stiff"),
        # Patient-question wording: a body function and the way it fails, near each other.
        ("bladder_bowel", "Since Friday I strain for ages and only a dribble of pee comes out"),
        ("bladder_bowel", "I keep leaking urine whenever I get up from a chair, back is bad"),
        ("bladder_bowel", "Twice this week I could not hold back my bowels and my back aches"),
        ("limb_weakness", "For a week my right knee has started to buckle when I walk"),
        ("limb_weakness", "My left foot hangs down and scrapes the floor since the weekend"),
        ("limb_weakness", "He keeps dropping his cup since Monday and his neck is sore"),
        (
            "limb_weakness",
            "My back has been bad for years, but since Sunday my leg keeps giving way",
        ),
        ("stroke", "His words came out all garbled at breakfast"),
        ("stroke", "Mum's mouth started to droop on one side an hour ago"),
        (
            "night_rest_pain",
            "The back pain is there every night and nothing, not the sofa or the bed, helps",
        ),
        ("suicide_self_harm", "He told me he would rather be dead than go on like this"),
        ("suicide_self_harm", "I have been looking up ways to end it, the back pain never stops"),
        ("heavy_bleeding", "She is soaking through a pad every hour and feels faint"),
        ("fever_infection", "My lower back aches and I have the shakes, teeth chattering"),
        (
            "fever_infection",
            "Her back hurts and she won't let us touch it, she has a temperature of 39",
        ),
        ("major_trauma", "A lorry shunted us from behind at the lights, my neck hurts"),
        ("major_trauma", "Cracked my head on the cupboard door and felt dizzy and sick after"),
        ("major_trauma", "My horse threw me yesterday and my lower back is swollen"),
        ("saddle_numbness", "Since yesterday my bum cheeks feel like the dentist numbed them"),
        (
            "cancer_weight_loss",
            "I was treated for bowel cancer six years ago. This week a new ache started in my back",
        ),
        ("cancer_weight_loss", "Gone from 80 to 72 kg since summer without dieting, my back aches"),
        ("osteoporosis_steroids", "On cortisone pills for years and now a sudden pain in my back"),
        # Forum wordings (data/rules_dev/forum_pool.csv): a limb out of shape is a suspected
        # fracture; self-harm, bleeding, stroke, chest, breathing and saddle signs in plain words.
        ("major_trauma", "My daughter came off the monkey bars and her wrist is at a funny angle"),
        ("major_trauma", "He caught the ball badly and now his finger is pointing sideways"),
        (
            "major_trauma",
            "Grandma slipped in the garden and her leg looks shorter than the other one",
        ),
        ("suicide_self_harm", "He told me he has been stockpiling his codeine for a bad day"),
        ("suicide_self_harm", "I searched how many of my sleeping pills it would take"),
        ("suicide_self_harm", "My daughter has fresh cuts on her forearms and hides them"),
        ("heavy_bleeding", "The gash on his shin is pumping blood and soaking through the towel"),
        ("heavy_bleeding", "Blood is still coming through the bandage after twenty minutes"),
        ("heavy_bleeding", "The cut on her knee is bleeding and it is not slowing down at all"),
        ("suicide_self_harm", "Honestly if it wasn't for my kids I'd have ended it by now"),
        ("suicide_self_harm", "Lately I think my family would be better off without me"),
        ("suicide_self_harm", "There are new cuts on his arm again and he will not talk to me"),
        ("stroke", "Since lunch my husband keeps mixing up his words and his smile is lopsided"),
        ("chest_pain", "On the climb his chest felt like someone was sitting on it"),
        ("breathing", "She is working hard to get air in and her throat feels like it is closing"),
        ("stroke", "Dad's mouth is hanging lower on one side since lunch"),
        ("saddle_numbness", "Since the crash my lower back aches and my undercarriage is numb"),
    ],
)
def test_a_red_flag_is_found_in_other_words(flag: str, text: str) -> None:
    assert flag in flags_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "Working on my backstroke, my stroke rate drops in the last lap",
        "I can't go running this week, my calves are sore from the hills",
        "That final hill almost gave me a heart attack, legs are toast",
        "Did 10 kms today, quads are sore",
        "Jump off the box, land softly, repeat",
        "Weak hips cause a lot of running injuries, so I do clamshells",
        "I was gasping for air after the intervals, hamstrings are tight",
        "The suicide grip feels weird on bench",
        "Just got back from winter break and my shoulders are stiff from the first session",
        "Down a set, she breaks back twice and takes the match",
        "Taking a break from deadlifts for a week, my lower back feels tired",
        "Ran the trail past a fallen tree, calves are tight today",
        "My stairs workout left my quads sore",
        "New bike day! Legs are sore from the first long ride",
        "What if I crash my bike on the group ride? Any tips for descending?",
        "A taxi nearly hit me on my bike this morning, legs are tired from the commute",
        "I almost fell off the ladder yesterday but caught the gutter, my arms are sore",
        "My feet slap the ground when I run, is my form off?",
        "I feel like I've been hit by a bus after leg day, everything is sore",
        "Still feel full from dinner, skipping the evening run, legs are sore",
        "I strain on the toilet since the new pills, my back is a bit sore from the gym",
        "My grip is going on the last set of pull ups, forearms are sore",
        "Nothing like a long run, it helps me sleep at night, quads are sore",
        "I used to get out of breath after one flight of stairs, now I run 5k",
    ],
)
def test_fitness_talk_is_not_a_red_flag(text: str) -> None:
    assert flags_of(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I broke my back falling from the loft hatch on Sunday",
        "She fell on the ice yesterday and might have broken her wrist",
        "Took a break from riding, then crashed and broke my collarbone last week",
    ],
)
def test_a_broken_bone_is_still_trauma_next_to_an_idiom(text: str) -> None:
    assert "major_trauma" in flags_of(text)


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("My left arm suddenly went dead this morning and I can't lift it", True),
        ("Since yesterday my right leg won't move properly when I walk", True),
        ("Shoulders so sore after the pull-up ladder that I can't raise my arms", False),
        ("Arms are sore and I can barely lift them after yesterday's push-ups", False),
    ],
)
def test_a_limb_too_sore_to_lift_is_not_weakness(text: str, urgent: bool) -> None:
    # The guide: tiredness is not weakness. A limb that will not lift is a red flag, unless
    # its own sentence says the limb is sore (urgent_rules.json: unless_in_sentence).
    assert ("limb_weakness" in flags_of(text)) is urgent


def test_unless_in_sentence_names_known_categories() -> None:
    rules = load_rules()
    known = set(rules.categories)
    for rule in rules.urgent_rules:
        assert set(rule.unless_in_sentence) <= known, rule.flag
        assert set(rule.confirmed_by) <= known, rule.flag


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("My shin hurts along the bone when I hop. Could this be a stress fracture?", True),
        ("I landed badly on the stairs and my wrist is swollen. Is that a fracture?", True),
        ("What are the signs of a stress fracture? Asking for my running club.", False),
        ("Could this be a stress fracture?", False),
        ("My shin hurts. What are the signs of a stress fracture in general?", False),
    ],
)
def test_a_question_about_this_complaint_is_not_impersonal(text: str, urgent: bool) -> None:
    # "Could this be...?" after the writer's own symptom asks about that symptom: the guide
    # counts a suspected fracture. Without an earlier first-person sentence, or with a
    # question that does not point back ("what are the signs of..."), it stays impersonal.
    assert ("major_trauma" in flags_of(text)) is urgent


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        (
            "Took an elbow to the side of the head in the second half and played on. "
            "On the drive home I was sick twice and the headlights hurt my eyes.",
            True,
        ),
        (
            "My son clashed heads with the keeper at training. He seemed fine at first. "
            "Now he is drowsy and keeps asking what happened.",
            True,
        ),
        (
            "Caught an edge and my head bounced off the ice, the helmet has a crack in it. "
            "Later my wife said I asked her the same question three times.",
            True,
        ),
        ("Got a ball to the head at practice today, all fine, just embarrassed.", False),
        (
            "Took a ball to the head at practice. Not a big deal. Went for my run after. "
            "Did my stretches. Two days later I was sick with a cold.",
            False,
        ),
    ],
)
def test_a_sign_after_a_blow_to_the_head_is_a_head_injury(text: str, urgent: bool) -> None:
    # The guide lists a head injury. A blow to the head counts when a sign that it did harm
    # follows in its own sentence or the next two (urgent_rules.json: confirmed_by).
    assert ("major_trauma" in flags_of(text)) is urgent


def test_in_spurts_of_time_is_not_bleeding() -> None:
    assert "heavy_bleeding" not in flags_of("I have trained in spurts for five years, back is sore")


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("All of a sudden my left leg has become weak and I trip on the kerb", True),
        ("My right arm has felt weak. It keeps getting weaker and I drop my mug", True),
        (
            "My physio says I have weak hips. I do clamshells every day. "
            "The knee has been getting worse on long runs.",
            False,
        ),
    ],
)
def test_weakness_is_new_when_its_sentence_or_the_next_says_so(text: str, urgent: bool) -> None:
    # 'weak hips' is a lack of strength; weakness is the red flag when it is new or worse.
    assert ("limb_weakness" in flags_of(text)) is urgent


def test_many_blows_without_a_sign_raise_nothing_and_one_sign_counts_once() -> None:
    # A hostile text: thousands of blows to the head. The confirming sentences are read once
    # per rule (not once per blow), and the answers are the rule's: no sign, no flag; one sign
    # two sentences after the last blow, one flag.
    blows = "Took an elbow to the head. " * 600  # within the 20,000 characters analysed
    assert "major_trauma" not in flags_of(blows)
    assert flags_of(blows + "Fine. Later I threw up twice.").count("major_trauma") == 1
