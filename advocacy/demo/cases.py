"""The demo's cases: two dozen people in nine languages, screened in by the answers
or by an advocate's judgment, re-screened, with protocol steps partly done, a
priority referral to another agency's shelter, closed cases, and two
unfinished intakes.  Every one is made through the intake service, at its
own moment of the past on the app's clock.  All names are invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from advocacy import clock
from advocacy.actor import Actor
from advocacy.auth.models import Agency, User
from advocacy.demo.network import Place, SetTime
from advocacy.errors import Refused
from advocacy.extensions import db
from advocacy.intake import service as intake
from advocacy.intake.instrument_format import shipped
from advocacy.intake.models import Case, CloseReason, PlacementKind, ProtocolOutcome, ProtocolStepKey
from advocacy.shelters.models import CulturalProgram

S = ProtocolStepKey
Y, NO_GO = ProtocolOutcome.DONE, ProtocolOutcome.DECLINED


@dataclass(frozen=True)
class Screen:
    """One lethality screen: when (days before today) and which questions got "yes".

    Every other question is "no", except ``unanswered`` ones (the person chose
    not to answer).  A ``judgment`` reason screens the case in whatever the
    answers say, as the advocate may.
    """

    days_ago: float
    yes: tuple[int, ...]
    unanswered: tuple[int, ...] = ()
    judgment: str | None = None

    def answers(self) -> dict[str, str]:
        return {
            f"q{n}": "yes" if n in self.yes else "no_answer" if n in self.unanswered else "no"
            for n in range(1, 12)
        }


@dataclass(frozen=True)
class CaseSpec:
    """One demo case and its story; times are days before today.

    ``steps`` are the protocol steps of the newest screened-in screening that
    are finished, in order, a quarter of an hour apart after it; the others stay
    open.  ``refer_to`` lists shelter labels of another agency, tried in order
    for a referral at the real time (the first with beds that fit wins).
    """

    agency: str
    owner: str
    alias: str
    language: str
    phone: str | None
    opened: float
    details: dict[str, Any] = field(default_factory=dict)
    screens: tuple[Screen, ...] = ()
    steps: tuple[tuple[ProtocolStepKey, ProtocolOutcome, str | None], ...] = ()
    no_bed: str | None = None
    refer_to: tuple[str, ...] = ()
    closed: tuple[float, CloseReason] | None = None


CASES = (
    # North Shore: two advocates' caseload, every kind of screen result.
    CaseSpec(
        "north-shore", "advocate", "Rosa M. (demo)", "es", "+12185550101", 21,
        dict(referral_source="police", safe_to_text=True, code_word="lemon tea", consent_sms=True,
             contact_note="Text only. Her partner checks the call log.", children_ages="4 9",
             oldest_boy_age=9, cultural_program=CulturalProgram.LATINE.value,
             cultural_note="Would like a Spanish-speaking counselor."),
        screens=(Screen(21, (2, 5, 6, 7)),),
        steps=((S.HOTLINE, Y, "Talked with the hotline advocate for 20 minutes."),
               (S.PRIORITY_PLACEMENT, NO_GO, "Staying with her aunt for now."),
               (S.DENSER_REMINDERS, Y, None)),
    ),
    CaseSpec(
        "north-shore", "advocate", "Hodan A. (demo)", "so", "+12185550102", 9,
        dict(referral_source="hotline", interpreter_needed=True, safe_to_call=True,
             children_ages="1 5 11", oldest_boy_age=11,
             cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
             cultural_note="Halal meals. Needs a quiet place to pray."),
        screens=(Screen(9, (1, 4, 11)),),
        steps=((S.HOTLINE, Y, "Somali interpreter on the line."),),
    ),
    CaseSpec(
        "north-shore", "advocate", "Amina K. (demo)", "ar", "+12185550105", 62,
        dict(referral_source="social_services", interpreter_needed=True, safe_to_text=True,
             children_ages="7", cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
             contact_note="Mornings only, while the children are at school."),
        # Re-screened as things changed: the trend goes up until she screens in.
        screens=(Screen(62, (6, 7)), Screen(34, (5, 6, 7)), Screen(3, (3, 5, 6, 7, 11))),
        steps=((S.HOTLINE, Y, None),),
    ),
    CaseSpec(
        "north-shore", "advocate", "Ayaan D. (demo)", "om", "+12185550106", 0.3,
        dict(referral_source="family_friend", safe_to_call=True, safe_voicemail=True),
        screens=(Screen(0.3, (6,)),),
        no_bed="Staying with her brother's family for now.",
    ),
    CaseSpec(
        "north-shore", "advocate", "Lan T. (demo)", "vi", "+12185550107", 0.1,
        dict(referral_source="health", interpreter_needed=True,
             contact_note="A Vietnamese interpreter by phone worked well."),
    ),
    CaseSpec(
        "north-shore", "admin", "Beth S. (demo)", "en", "+12185550108", 118,
        dict(referral_source="court", safe_to_call=True, safe_voicemail=True,
             access_needs="wheelchair medical",
             access_note="Power wheelchair; needs a fridge for insulin."),
        screens=(Screen(118, (4, 8)),),
        closed=(12, CloseReason.SERVICES_COMPLETE),
    ),
    CaseSpec(
        "north-shore", "advocate", "Grace W. (demo)", "en", "+12185550109", 5,
        dict(referral_source="self", safe_to_text=True, access_needs="deaf interpreter",
             cultural_program=CulturalProgram.DEAF.value,
             contact_note="Text only. Calls through the relay service."),
        screens=(Screen(5, (6, 11), judgment=(
            "Most answers are no, but he was released from jail yesterday and has come to her "
            "work twice. I believe she is in high danger.")),),
        steps=((S.HOTLINE, Y, "Connected through video relay."),),
    ),
    CaseSpec(
        "north-shore", "advocate", "Luz P. (demo)", "es", "+12185550110", 0.15,
        dict(referral_source="prosecutor", safe_to_text=True, children_ages="6", oldest_boy_age=6,
             consent_sms=True, contact_note="Wants a shelter in another county."),
        screens=(Screen(0.12, (2, 3, 5, 6)),),
        steps=((S.HOTLINE, Y, None),),
        refer_to=("RV-1", "RV-2", "RV-3", "FD-2", "FD-1"),
    ),
    CaseSpec(
        "north-shore", "advocate", "Dawn L. (demo)", "oj", "+12185550111", 30,
        dict(referral_source="tribal", safe_to_call=True, children_ages="13 15", oldest_boy_age=15,
             cultural_program=CulturalProgram.INDIGENOUS.value,
             cultural_note="Would like to meet a tribal advocate."),
        screens=(Screen(30, (4, 6, 8)),),
    ),
    CaseSpec(
        "north-shore", "admin", "Tamara R. (demo)", "en", "+12185550112", 2,
        dict(referral_source="court", safe_to_text=True, pets=1,
             pets_note="A small dog; she will not leave without him."),
    ),
    CaseSpec(
        "north-shore", "advocate", "Halima Y. (demo)", "so", "+12185550113", 45,
        dict(referral_source="hotline", safe_to_text=True, consent_share=True, children_ages="10",
             cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value),
        screens=(Screen(45, (1,), unanswered=(10,)),),
        steps=((S.HOTLINE, Y, None), (S.PRIORITY_PLACEMENT, NO_GO, "Safe with family."),
               (S.DENSER_REMINDERS, Y, None), (S.OFFER_SHARE, Y, "She wants the result shared.")),
    ),
    CaseSpec(
        "north-shore", "advocate", "Yer L. (demo)", "hmn", "+12185550124", 75,
        dict(referral_source="self", safe_to_call=True, children_ages="2",
             cultural_program=CulturalProgram.ASIAN_PACIFIC.value),
        screens=(Screen(75, (5, 7)), Screen(40, (5, 6, 7, 9))),
        steps=((S.HOTLINE, Y, None), (S.DENSER_REMINDERS, Y, None)),
    ),
    # River Valley: one advocate.
    CaseSpec(
        "river-valley", "valley", "Mai V. (demo)", "hmn", "+15075550103", 14,
        dict(referral_source="hotline", safe_to_text=True, children_ages="2 6",
             cultural_program=CulturalProgram.ASIAN_PACIFIC.value,
             cultural_note="Prefers a Hmong-speaking advocate."),
        screens=(Screen(14, (2, 6, 11)),),
        steps=((S.HOTLINE, Y, None), (S.PRIORITY_PLACEMENT, NO_GO, None)),
    ),
    CaseSpec(
        "river-valley", "valley", "Paw H. (demo)", "ksw", "+15075550114", 7,
        dict(referral_source="social_services", interpreter_needed=True, children_ages="0 4",
             cultural_program=CulturalProgram.IMMIGRANT_REFUGEE.value,
             cultural_note="Needs a Karen interpreter."),
        screens=(Screen(7, (7, 8), unanswered=(10,)),),
    ),
    CaseSpec(
        "river-valley", "valley", "Guadalupe R. (demo)", "es", "+15075550115", 3,
        dict(referral_source="police", safe_to_text=True, pets=2, pets_note="Two cats.",
             cultural_program=CulturalProgram.LATINE.value),
        screens=(Screen(3, (1, 2, 4, 5)),),
    ),
    CaseSpec(
        "river-valley", "valley", "Pa Nhia X. (demo)", "hmn", "+15075550116", 0.5,
        dict(referral_source="family_friend", interpreter_needed=True),
    ),
    CaseSpec(
        "river-valley", "valley", "Jessica T. (demo)", "en", "+15075550117", 95,
        dict(referral_source="court", safe_to_call=True),
        screens=(Screen(95, (6,)),),
        closed=(30, CloseReason.MOVED),
    ),
    CaseSpec(
        "river-valley", "valley", "Mariam S. (demo)", "ar", "+15075550118", 20,
        dict(referral_source="health", safe_to_text=True, access_needs="medical",
             access_note="Pregnant; clinic visits every two weeks."),
        # Exactly four "yes" among questions 4 to 11: screened in by the rule.
        screens=(Screen(20, (5, 6, 7, 10)),),
        steps=((S.HOTLINE, Y, None),),
    ),
    # Four Directions: the agency admin carries the cases.
    CaseSpec(
        "four-directions", "lodge", "Winona B. (demo)", "oj", "+12185550104", 10,
        dict(referral_source="tribal", safe_to_text=True, children_ages="3 8",
             cultural_program=CulturalProgram.INDIGENOUS.value,
             cultural_note="Tribal protection order in place."),
        screens=(Screen(10, (2, 4, 5, 6, 11)),),
        steps=((S.HOTLINE, Y, "Called StrongHearts together."), (S.PRIORITY_PLACEMENT, Y, None)),
    ),
    CaseSpec(
        "four-directions", "lodge", "Marie D. (demo)", "en", "+12185550119", 25,
        dict(referral_source="self", cultural_program=CulturalProgram.INDIGENOUS.value),
        screens=(Screen(25, (6,)),),
        no_bed="Her own home; the order keeps him away.",
    ),
    CaseSpec(
        "four-directions", "lodge", "Rachel K. (demo)", "oj", "+12185550120", 4,
        dict(referral_source="police", safe_to_call=True, children_ages="0 3 8 13", oldest_boy_age=13,
             cultural_program=CulturalProgram.INDIGENOUS.value),
        screens=(Screen(4, (3,)),),
    ),
    CaseSpec(
        "four-directions", "lodge", "Tina S. (demo)", "en", "+12185550121", 0.7,
        dict(referral_source="hotline"),
    ),
    CaseSpec(
        "four-directions", "lodge", "Lorraine J. (demo)", "en", "+12185550122", 50,
        dict(referral_source="tribal", safe_to_call=True, safe_voicemail=True, access_needs="medical",
             access_note="Heart medication; walks with a cane.",
             cultural_program=CulturalProgram.ELDERS.value),
        screens=(Screen(50, (6, 7, 9)), Screen(15, (6, 7, 9, 11))),
        steps=((S.HOTLINE, Y, None),),
    ),
)  # fmt: skip

#: Intakes the "advocate" left half done: (days ago, steps with their values).
DRAFTS: tuple[tuple[float, dict[str, dict[str, Any]]], ...] = (
    (
        0.02,
        {
            "person": {
                "alias": "Sofia G. (demo)",
                "language": "es",
                "interpreter_needed": False,
                "referral_source": "hotline",
            },
            "contact": {
                "phone": "+12185550125",
                "safe_to_text": True,
                "safe_to_call": False,
                "safe_voicemail": False,
                "code_word": None,
                "contact_note": "Text after 6 pm.",
            },
        },
    ),
    (
        1.2,
        {
            "person": {
                "alias": "Nimo F. (demo)",
                "language": "so",
                "interpreter_needed": True,
                "referral_source": "police",
            }
        },
    ),
)


def load_cases(
    agencies: dict[str, Agency], users: dict[str, User], places: list[Place], set_time: SetTime
) -> None:
    """The cases of :data:`CASES` and the drafts of :data:`DRAFTS`, through the intake service.

    Each case's past runs on the app's clock set to its moments, oldest case
    first so that case numbers grow with the date; nothing is written around
    the service.  Referrals are made last, at the real time, because their
    holds expire like any other.
    """
    instrument = shipped()["lethality-screen@1"]
    now = clock.now()
    by_label = {place.spec.label: place for place in places}
    referrals: list[tuple[int, CaseSpec]] = []

    def story(n: int, spec: CaseSpec) -> Callable[[float], datetime]:
        """The case's moments, "days ago", at its own time of day (not all at one)."""
        shift = timedelta(minutes=41 * (n % 9))
        return lambda days_ago: now - timedelta(days=days_ago) - shift

    stories = sorted(
        ((story(n, spec), spec) for n, spec in enumerate(CASES)), key=lambda s: s[0](s[1].opened)
    )
    for at, spec in stories:
        owner = Actor.for_user(users[spec.owner])
        assert owner.user_id is not None
        set_time(at(spec.opened))
        case = intake.open_case(
            owner, agencies[spec.agency].id, owner.user_id, spec.alias, phone=spec.phone, language=spec.language,
            **spec.details,
        )  # fmt: skip
        screened = case.opened_at
        for screen in spec.screens:  # a few minutes into the meeting
            screened = at(screen.days_ago) + timedelta(minutes=10)
            set_time(screened)
            intake.screen_case(owner, case, instrument, screen.answers(), judgment_reason=screen.judgment)
        steps = {step.step: step.id for step in intake.protocol_steps(case)}
        for i, (key, outcome, note) in enumerate(spec.steps, start=1):
            set_time(screened + timedelta(minutes=15 * i))
            intake.complete_step(owner, case, steps[key.value], outcome, note=note)
        if spec.no_bed:
            set_time(screened + timedelta(minutes=30))
            intake.record_placement(owner, case, PlacementKind.NO_BED_NEEDED, note=spec.no_bed)
        if spec.closed:
            set_time(at(spec.closed[0]))
            intake.close_case(owner, case, spec.closed[1].value)
        if spec.refer_to:
            referrals.append((case.id, spec))
    advocate = Actor.for_user(users["advocate"])
    for days_ago, steps_values in DRAFTS:
        set_time(now - timedelta(days=days_ago))
        draft = intake.start_draft(advocate)
        for step, values in steps_values.items():
            intake.save_step(advocate, draft, step, values, complete=True)
    set_time(None)
    for case_id, spec in referrals:
        _refer(case_id, spec, Actor.for_user(users[spec.owner]), by_label)


def _refer(case_id: int, spec: CaseSpec, actor: Actor, by_label: dict[str, Place]) -> None:
    """A bed at the first shelter of ``spec.refer_to`` that fits the household
    today; "find a bed later" if none does, as an advocate would record it."""
    for label in spec.refer_to:
        case = db.session.get(Case, case_id)
        assert case is not None
        try:
            intake.place_referral(actor, case, by_label[label].shelter.id)
            return
        except Refused:
            continue
    case = db.session.get(Case, case_id)
    assert case is not None
    intake.record_placement(actor, case, PlacementKind.LATER, note="No bed fitted today.")
