"""The case list, the case page and the changes made from it, as advocates use them.

Two agencies: North Shore, where Amina and Ben are advocates, and River
Valley, whose advocate Vera must never learn that North's cases exist (404
on every route, absent from every list).  Each change is checked three ways:
what the page says, what the database holds, and what the audit log wrote.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.actor import Actor
from advocacy.audit.models import AuditEvent
from advocacy.auth.models import Agency, Role, User
from advocacy.auth.service import create_user
from advocacy.extensions import db
from advocacy.intake import instrument_format, service
from advocacy.intake.models import Case, ProtocolStep, RiskScreening
from tests import factories
from tests.helpers import PASSWORD, CSRFClient, make_agency, make_user, sign_in, text_of

LETHALITY = "lethality-screen@1"


def advocate(agency: Agency, username: str, name: str) -> User:
    user = create_user(
        factories.system(agency), username, name, PASSWORD, [(agency, Role.ADVOCATE)], enrol_totp=True
    )
    db.session.commit()
    return user


@pytest.fixture
def org(app: Flask) -> SimpleNamespace:
    north = make_agency("north", "North Shore")
    valley = make_agency("valley", "River Valley")
    return SimpleNamespace(
        north=north,
        valley=valley,
        amina=advocate(north, "amina", "Amina Farah"),
        ben=advocate(north, "ben", "Ben Olson"),
        admin=make_user(north, Role.ADMIN),
        staff=make_user(north, Role.SHELTER_STAFF),
        vera=advocate(valley, "vera", "Vera Lind"),
    )


def new_case(
    org: SimpleNamespace, alias: str = "Rosa María Pérez", owner: User | None = None, **kw: Any
) -> int:
    details = {
        "phone": "+12185550101",
        "language": "es",
        "code_word": "bluebird",
        "children_ages": "3 7",
        "referral_source": "hotline",
        **kw,
    }
    case = service.open_case(
        factories.system(org.north), org.north.id, (owner or org.amina).id, alias, **details
    )
    db.session.commit()
    return case.id


def case_of(case_id: int) -> Case:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


def screen(
    case_id: int, yes: tuple[str, ...] = (), judgment: str | None = None, actor: User | None = None
) -> None:
    instrument = instrument_format.shipped()[LETHALITY]
    answers = {q.key: ("yes" if q.key in yes else "no") for q in instrument.questions}
    case = case_of(case_id)
    who = factories.actor(actor) if actor else factories.system(case.agency_id)
    service.screen_case(who, case, instrument, answers, judgment_reason=judgment)
    db.session.commit()


def listed(response: Any) -> list[int]:
    """The case ids in the list's table, in order."""
    html = response.get_data(as_text=True)
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/cases/(\d+)">', html)]


def row_of(html: str, case_id: int) -> str:
    """The list's table row of one case."""
    return next(row for row in html.split("<tr") if f'href="/cases/{case_id}"' in row)


def audit_mark() -> int:
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def audited_since(mark: int) -> list[tuple[str, str | None, int | None]]:
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id))
    return [(e.action, e.object_id, e.actor_id) for e in rows]


def actions_since(mark: int) -> list[str]:
    return [action for action, _object, _actor in audited_since(mark)]


def snapshot(case_id: int) -> dict[str, Any]:
    case = case_of(case_id)
    return {name: getattr(case, name) for name in (*service.CASE_FIELDS, "name_hash", "phone_hash", "status")}


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_the_agencys_cases_newest_first_with_their_danger(
    client: CSRFClient, org: SimpleNamespace
) -> None:
    first = new_case(org, "Rosa M.")
    second = new_case(org, "Hodan A.", owner=org.ben, language="so")
    third = new_case(org, "Mai V.")
    screen(second, yes=("q1",), actor=org.amina)
    screen(third, yes=(), actor=org.amina)
    theirs = service.open_case(factories.system(org.valley), org.valley.id, org.vera.id, "Winona B.")
    db.session.commit()
    sign_in(client, org.amina)
    response = client.get("/cases/")
    assert response.status_code == 200
    assert listed(response) == [third, second, first]
    assert theirs.id not in listed(response)
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert case_of(second).number in text
    assert "Hodan A." in text and "Soomaali" in text and "Ben Olson" in text
    row = row_of(html, second)
    assert "High danger" in row and "4 protocol steps open" in row
    row = row_of(html, third)
    assert "Not screened in" in row and "protocol" not in row
    row = row_of(html, first)
    assert "Not screened yet" in row
    assert "Showing 1–3 of 3" in text
    assert 'href="/cases/new"' in html or "/cases/new" in html
    assert "Start an intake" in text
    assert "Winona" not in text


def test_each_filter(client: CSRFClient, org: SimpleNamespace) -> None:
    unscreened = new_case(org, "A One")
    high = new_case(org, "B Two", owner=org.ben)
    standard = new_case(org, "C Three")
    closed = new_case(org, "D Four", owner=org.ben)
    screen(high, yes=("q2",))
    screen(standard)
    service.close_case(factories.system(org.north), case_of(closed), "services_complete")
    db.session.commit()
    sign_in(client, org.amina)

    def ids(query: str) -> set[int]:
        response = client.get(f"/cases/?{query}")
        assert response.status_code == 200, query
        return set(listed(response))

    assert ids("") == {unscreened, high, standard, closed}
    assert ids("status=open") == {unscreened, high, standard}
    assert ids("status=closed") == {closed}
    assert ids("danger=high") == {high}
    assert ids("danger=standard") == {standard}
    assert ids("danger=unscreened") == {unscreened, closed}
    assert ids("owner=me") == {unscreened, standard}
    assert ids(f"owner={org.ben.id}") == {high, closed}
    assert ids(f"owner={org.ben.id}&status=open&danger=high") == {high}
    assert ids("status=open&danger=standard&owner=me") == {standard}
    # The owner filter offers each advocate of the agency, and nobody else's.
    html = client.get("/cases/").get_data(as_text=True)
    assert f'value="{org.ben.id}"' in html and "Ben Olson" in html
    assert "Vera Lind" not in html


def test_pagination_boundaries_keep_the_filters(client: CSRFClient, org: SimpleNamespace) -> None:
    ids = [new_case(org, f"Person {n}") for n in range(51)]
    sign_in(client, org.amina)
    first = client.get("/cases/?status=open")
    assert len(listed(first)) == 50
    assert listed(first)[0] == ids[-1]
    text = text_of(first)
    assert "Showing 1–50 of 51" in text
    html = first.get_data(as_text=True)
    assert 'href="/cases/?status=open&amp;page=2"' in html
    assert 'aria-current="page"' in html and "Next" in text and "Previous" not in text
    second = client.get("/cases/?status=open&page=2")
    assert listed(second) == [ids[0]]
    assert "Showing 51–51 of 51" in text_of(second)
    assert "Previous" in text_of(second) and "Next" not in text_of(second)
    assert 'href="/cases/?status=open"' in second.get_data(as_text=True)  # page 1 has no page=
    # Past the end: the last page, not an empty one.
    assert listed(client.get("/cases/?status=open&page=9")) == [ids[0]]
    # Exactly 50: one page, no page links.
    single = client.get("/cases/?status=open&page=1&owner=me")
    assert len(listed(single)) == 50
    service.close_case(factories.system(org.north), case_of(ids[0]), "moved")
    db.session.commit()
    only = client.get("/cases/?status=open")
    assert len(listed(only)) == 50 and "usa-pagination" not in only.get_data(as_text=True)


def test_page_numbers_leave_out_the_middle_of_many_pages() -> None:
    from advocacy.intake.views import page_numbers

    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 3) == [1, 2, 3]
    assert page_numbers(10, 2000) == [1, None, 8, 9, 10, 11, 12, None, 2000]
    assert page_numbers(2000, 2000) == [1, None, 1998, 1999, 2000]
    # Counted only so far: no last page to offer, "…" after the pages around this one.
    assert page_numbers(1, 200, more=True) == [1, 2, 3, None]
    assert page_numbers(250, 251, more=True) == [1, None, 248, 249, 250, 251, None]


def test_a_list_longer_than_it_counts_says_more_than_and_still_pages_on(
    client: CSRFClient, org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statewide agency's list is not counted to its end for its first page: it
    says "more than", offers no last page, and "Next" goes on past the count."""
    monkeypatch.setattr(service.cases, "COUNT_UP_TO", 100)
    ids = [new_case(org, f"Person {n}") for n in range(160)]
    sign_in(client, org.amina)
    first = client.get("/cases/?status=open")
    assert listed(first) == ids[::-1][:50]
    text = text_of(first)
    assert "Showing 1–50 of more than 100" in text
    html = first.get_data(as_text=True)
    assert 'aria-label="Page 2"' in html and 'aria-label="Page 3"' not in html
    assert "usa-pagination__overflow" in html and "Next" in text
    # Page 3 counts one page past itself (200 > 160): the end is known there.
    third = client.get("/cases/?status=open&page=3")
    assert listed(third) == ids[::-1][100:150]
    assert "Showing 101–150 of 160" in text_of(third) and "more than" not in text_of(third)
    last = client.get("/cases/?status=open&page=4")
    assert listed(last) == ids[::-1][150:] and "Next" not in text_of(last)


def test_the_count_stops_past_its_bound(
    app: Flask, org: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service.cases, "COUNT_UP_TO", 100)
    for n in range(120):
        new_case(org, f"Person {n}")
    found = service.search_cases(Actor.for_user(org.amina), service.CaseQuery())
    assert (found.total, found.more, found.pages) == (100, True, 2)
    found = service.search_cases(Actor.for_user(org.amina), service.CaseQuery(page=2))
    assert (found.total, found.more, found.pages, found.page) == (120, False, 3, 2)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=abc", "page", "Enter a page number, such as 2."),
        ("page=0", "page", "Enter a page number, such as 2."),
        ("status=bogus", "status", "Choose one of the options in the list."),
        ("danger=extreme", "danger", "Choose one of the options in the list."),
        ("owner=999999", "owner", "Choose one of the options in the list."),
        ("number=abc", "number", "Enter a case number such as 2026-000123 or 123."),
    ],
)
def test_a_bad_filter_is_a_400_with_the_error_next_to_the_field(
    client: CSRFClient, org: SimpleNamespace, query: str, field: str, message: str
) -> None:
    new_case(org)
    sign_in(client, org.amina)
    mark = audit_mark()
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'href="#{field}"' in html  # the summary links to the field
    assert re.search(rf'id="{field}"', html)
    assert listed(response) == []
    assert "case.list" not in actions_since(mark) and "case.search" not in actions_since(mark)


def test_another_agencys_advocate_is_not_an_owner_choice(client: CSRFClient, org: SimpleNamespace) -> None:
    sign_in(client, org.amina)
    assert client.get(f"/cases/?owner={org.vera.id}").status_code == 400


def test_the_advocates_to_choose_from_are_in_the_order_of_their_names(
    client: CSRFClient, org: SimpleNamespace
) -> None:
    """Names are stored encrypted: the list is sorted by the names, not by their ciphertexts."""
    for name in ("zoe", "Carmen", "yusuf", "Ángel", "dana"):
        advocate(org.north, name.lower(), name)
    sign_in(client, org.amina)
    page = client.get("/cases/").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="owner".*?</select>', page, re.S)
    assert select is not None
    names = re.findall(r"<option [^>]*value=\"\d+\">([^<]+)</option>", select.group(0))
    assert names == ["Amina Farah", "Ángel", "Ben Olson", "Carmen", "dana", "Test admin", "yusuf", "zoe"], (
        names
    )


def test_name_search_finds_any_one_of_the_names_and_is_sent_by_post(
    client: CSRFClient, org: SimpleNamespace
) -> None:
    rosa = new_case(org, "Rosa María Pérez")
    lind = new_case(org, "Rosa Lind")
    sign_in(client, org.amina)
    for query in ("Rosa María Pérez", "rosa maria perez", "  ROSA   MARÍA  PÉREZ ", "Perez Rosa"):
        assert listed(client.post("/cases/", data={"name": query})) == [rosa]
    assert sorted(listed(client.post("/cases/", data={"name": "Rosa"}))) == sorted([rosa, lind])
    assert listed(client.post("/cases/", data={"name": "Pérez"})) == [rosa]
    response = client.post("/cases/", data={"name": "Halima"})
    assert response.status_code == 200 and listed(response) == []
    assert "Try another of the person's names" in text_of(response)
    # The name is sent by POST, never in a URL.
    page = client.get("/cases/")
    assert "sounds like it" in text_of(page)
    assert re.search(r'<form method="post" action="/cases/"', page.get_data(as_text=True))


def test_page_links_never_carry_the_name(client: CSRFClient, org: SimpleNamespace) -> None:
    for _ in range(51):
        new_case(org, "Same Name", owner=org.amina)
    sign_in(client, org.amina)
    response = client.post("/cases/", data={"name": "same name", "status": "open"})
    html = response.get_data(as_text=True)
    assert len(listed(response)) == 50
    assert "name=" not in " ".join(re.findall(r'href="(/cases/\?[^"]*)"', html))
    assert "Add another filter" in text_of(response)


def test_case_number_search_in_both_forms(client: CSRFClient, org: SimpleNamespace) -> None:
    wanted = new_case(org, "Rosa M.")
    new_case(org, "Hodan A.")
    sign_in(client, org.amina)
    number = case_of(wanted).number
    year = number.split("-")[0]
    for query in (number, str(wanted), f"{wanted:06d}", f" {year} - {wanted} "):
        assert listed(client.get("/cases/", query_string={"number": query})) == [wanted], query
    assert listed(client.get("/cases/", query_string={"number": f"{int(year) - 1}-{wanted:06d}"})) == []
    assert listed(client.get("/cases/", query_string={"number": "99999"})) == []


def test_unfinished_intakes_are_listed_with_who_and_where(client: CSRFClient, org: SimpleNamespace) -> None:
    draft = service.start_draft(factories.actor(org.ben))
    service.start_draft(factories.actor(org.vera))
    db.session.commit()
    sign_in(client, org.amina)
    response = client.get("/cases/")
    text = text_of(response)
    assert "Unfinished intakes" in text
    assert "No name yet" in text and "started by Ben Olson" in text and "The person" in text
    assert f'href="/cases/intake/{draft.id}"' in response.get_data(as_text=True)
    assert "Vera Lind" not in text


def test_unfinished_intakes_show_the_name_to_colleagues_in_one_wording_on_both_pages(
    client: CSRFClient, org: SimpleNamespace
) -> None:
    draft = service.start_draft(factories.actor(org.ben))
    service.save_step(factories.actor(org.ben), draft, "person", {"alias": "Hodan A."}, complete=False)
    service.start_draft(factories.actor(org.vera))
    db.session.commit()
    sign_in(client, org.amina)
    lines = []
    for url in ("/cases/", "/cases/new"):
        html = client.get(url).get_data(as_text=True)
        line = next(li for li in html.split("<li") if f'href="/cases/intake/{draft.id}"' in li)
        assert "Hodan A." in line and "started by" in line and "Ben Olson" in line, url
        lines.append(line.split("</li>")[0])
    assert lines[0] == lines[1]


# --- the case page ----------------------------------------------------------------------------


def test_the_case_page_shows_every_section_in_order(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(
        org,
        contact_note="Call after 6pm",
        safe_to_text=True,
        adults=2,
        oldest_boy_age=7,
        pets=1,
        pets_note="an old cat",
        access_needs="wheelchair deaf",
        cultural_program="latine",
        consent_sms=True,
    )
    sign_in(client, org.amina)
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    text = text_of(response)
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", response.get_data(as_text=True))
    assert headings == [
        "The person",
        "Safe contact",
        "Household",
        "Needs",
        "Choices",
        "Risk history",
        "Bed",
        "Safety plans",
        "Court dates",
        "Text reminders",
        "Hand-offs",
        "Advocate and status",
    ]
    for expected in (
        case_of(case_id).number,
        "Amina Farah",
        "Not screened yet",
        "Español",
        "Hotline",
        "+12185550101",
        "bluebird",
        "Call after 6pm",
        "3, 7",
        "an old cat",
        "Uses a wheelchair or needs step-free access",
        "Deaf or hard of hearing",
        "Latine",
        "needs its own written, time-limited consent",
        "No safety plan yet.",
        "No court date yet.",
        "No number is enrolled for text reminders.",
        "Preview what a risk screen result would share",
    ):
        assert expected in text, expected
    assert "later release" not in text
    html = response.get_data(as_text=True)
    assert f'href="/handoff/cases/{case_id}/preview"' in html
    assert f'href="/cases/{case_id}/bed"' in html or f"/cases/{case_id}/bed" in html
    for section in ("person", "contact", "household", "needs", "consent"):
        assert f'href="/cases/{case_id}/edit/{section}"' in html


def test_a_screened_in_case_shows_the_alert_and_its_history(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    screen(case_id, yes=("q4", "q5", "q6"), actor=org.ben)
    screen(case_id, yes=("q4", "q5", "q6", "q7"), actor=org.amina)
    sign_in(client, org.amina)
    response = client.get(f"/cases/{case_id}")
    text = text_of(response)
    html = response.get_data(as_text=True)
    assert 'class="usa-alert usa-alert--error app-danger-alert" id="protocol"' in html
    for step in (
        "Connect them with the hotline advocate now",
        "Give priority for a shelter bed",
        "Use the denser reminder schedule for court dates",
        "Offer to share the screen result with the coordinated response",
    ):
        assert step in text
    assert html.count(f'action="/cases/{case_id}/protocol/') == 4
    # Newest first, with the trend against the screening before it.
    history = html.split('id="risk"')[1]
    assert history.index("Higher than before") < history.index("First screening with this instrument")
    assert "Screened in" in history and "Not screened in" in history
    assert "Amina Farah" in history and "Ben Olson" in history
    assert "<details" in history and "Does your partner have a gun" in history


# --- editing sections ---------------------------------------------------------------------------

GOOD: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "person": (
        {
            "alias": "Rosa P.",
            "language": "other",
            "language_other": "zh-hant-tw",
            "referral_source": "police",
            "interpreter_needed": "y",
        },
        {
            "alias": "Rosa P.",
            "language": "zh-Hant-TW",
            "referral_source": "police",
            "interpreter_needed": True,
        },
    ),
    "contact": (
        {"phone": "(218) 555-0199", "safe_to_text": "y", "code_word": " lilac ", "contact_note": "after 6pm"},
        {
            "phone": "+12185550199",
            "safe_to_text": True,
            "safe_to_call": False,
            "code_word": "lilac",
            "contact_note": "after 6pm",
        },
    ),
    "household": (
        {"adults": "2", "children_ages": "4, 9", "oldest_boy_age": "9", "pets": "1", "pets_note": "a cat"},
        {"adults": 2, "children_ages": "4 9", "oldest_boy_age": 9, "pets": 1, "pets_note": "a cat"},
    ),
    "needs": (
        {"access_needs": ["deaf", "wheelchair"], "access_note": "ramp", "cultural_program": "indigenous"},
        {"access_needs": "wheelchair deaf", "access_note": "ramp", "cultural_program": "indigenous"},
    ),
    "consent": ({"consent_share": "y"}, {"consent_sms": False, "consent_share": True}),
}

BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "person": (
        {"alias": "", "language": "es", "referral_source": "police"},
        "alias",
        "Enter a name or an alias",
    ),
    "contact": ({"phone": "12", "safe_to_text": "y"}, "phone", "Enter a phone number with its area code"),
    "household": (
        {"adults": "0", "pets": "0", "children_ages": "4"},
        "adults",
        "Enter a number from 1 to 12.",
    ),
    "needs": ({"access_note": "x" * 501}, "access_note", "Keep this under 500 characters."),
}


@pytest.mark.parametrize("section", list(GOOD))
def test_editing_a_section_saves_it_and_is_audited(
    client: CSRFClient, org: SimpleNamespace, section: str
) -> None:
    case_id = new_case(org, adults=1, pets=0)
    sign_in(client, org.amina)
    mark = audit_mark()
    page = client.get(f"/cases/{case_id}/edit/{section}")
    assert page.status_code == 200
    assert ("case.view", str(case_id), org.amina.id) in audited_since(mark)
    mark = audit_mark()
    posted, stored = GOOD[section]
    response = client.post(f"/cases/{case_id}/edit/{section}", data=posted)
    assert response.status_code == 302, text_of(response)[:500]
    assert response.headers["Location"].endswith(f"/cases/{case_id}#{section}")
    case = case_of(case_id)
    for name, value in stored.items():
        assert getattr(case, name) == value, name
    assert audited_since(mark) == [(f"case.updated.{section}", str(case_id), org.amina.id)]
    assert "saved" in text_of(client.get(f"/cases/{case_id}"))


def test_the_edit_forms_are_filled_in_from_the_case(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org, access_needs="deaf", safe_to_call=True, cultural_program="latine")
    sign_in(client, org.amina)
    html = client.get(f"/cases/{case_id}/edit/person").get_data(as_text=True)
    assert 'value="Rosa María Pérez"' in html and 'value="es"' in html
    assert re.search(r'<option selected value="hotline">|<option value="hotline" selected>', html)
    html = client.get(f"/cases/{case_id}/edit/household").get_data(as_text=True)
    assert 'value="3, 7"' in html
    html = client.get(f"/cases/{case_id}/edit/needs").get_data(as_text=True)
    assert re.search(r'value="deaf" checked', html) and not re.search(r'value="wheelchair" checked', html)
    html = client.get(f"/cases/{case_id}/edit/contact").get_data(as_text=True)
    assert 'value="+12185550101"' in html and 'value="bluebird"' in html
    assert re.search(r'id="safe_to_call"[^>]*checked|checked[^>]*id="safe_to_call"', html)
    assert client.get(f"/cases/{case_id}/edit/secrets").status_code == 404


@pytest.mark.parametrize("section", list(BAD))
def test_bad_input_in_a_section_is_a_400_next_to_its_field_and_changes_nothing(
    client: CSRFClient, org: SimpleNamespace, section: str
) -> None:
    case_id = new_case(org)
    before = snapshot(case_id)
    sign_in(client, org.amina)
    mark = audit_mark()
    posted, field, message = BAD[section]
    response = client.post(f"/cases/{case_id}/edit/{section}", data=posted)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error-1"[^>]*>{re.escape(message)}', html)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', html)
    assert snapshot(case_id) == before
    assert not [a for a in actions_since(mark) if a.startswith("case.updated")]


# --- close, reopen, reassign -------------------------------------------------------------------


def test_close_and_reopen(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    sign_in(client, org.amina)
    mark = audit_mark()
    # The first POST only asks (a page that works without JavaScript) and changes nothing.
    response = client.post(f"/cases/{case_id}/close", data={"reason": "moved"})
    assert response.status_code == 200
    page = text_of(response)
    assert "Nothing has changed yet" in page and "Moved out of the area" in page
    assert "No, keep the case open" in page
    assert case_of(case_id).status == "open"
    assert [a for a in actions_since(mark) if a != "case.view"] == []
    number = case_of(case_id).number
    response = client.post(f"/cases/{case_id}/close", data={"reason": "moved", "confirm": "yes"})
    assert response.status_code == 302
    case = case_of(case_id)
    assert (case.status, case.close_reason) == ("closed", "moved") and case.closed_at is not None
    text = text_of(client.get(f"/cases/{case_id}"))
    assert f"Case {number} is closed: Moved out of the area. If this was a mistake, reopen it" in text
    assert "Reopen the case" in text
    # Closing again is refused with a message; nothing changes.
    client.post(f"/cases/{case_id}/close", data={"reason": "declined", "confirm": "yes"})
    assert "This case is already closed." in text_of(client.get(f"/cases/{case_id}"))
    assert case_of(case_id).close_reason == "moved"
    response = client.post(f"/cases/{case_id}/reopen")
    assert response.status_code == 302
    case = case_of(case_id)
    assert (case.status, case.close_reason, case.closed_at) == ("open", None, None)
    client.post(f"/cases/{case_id}/reopen")
    assert "This case is already open." in text_of(client.get(f"/cases/{case_id}"))
    changes = [a for a in actions_since(mark) if a != "case.view"]
    assert changes == ["case.closed", "case.reopened"]


def test_closing_needs_a_reason_from_the_list(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    sign_in(client, org.amina)
    response = client.post(f"/cases/{case_id}/close", data={"reason": "bored"})
    assert response.status_code == 400
    assert re.search(r'id="reason-error-1"', response.get_data(as_text=True))
    assert case_of(case_id).status == "open"


def test_reassign_to_a_colleague_only(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    sign_in(client, org.amina)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'value="{org.ben.id}"' in html and f'value="{org.vera.id}"' not in html
    assert re.search(rf'<option selected value="{org.amina.id}">Amina Farah', html)
    assert client.post(f"/cases/{case_id}/reassign", data={}).status_code == 400
    mark = audit_mark()
    response = client.post(f"/cases/{case_id}/reassign", data={"owner_id": str(org.ben.id)})
    assert response.status_code == 302
    assert case_of(case_id).owner_id == org.ben.id
    assert ("case.reassigned", str(case_id), org.amina.id) in audited_since(mark)
    assert "Ben Olson" in text_of(client.get("/cases/?owner=" + str(org.ben.id)))
    response = client.post(f"/cases/{case_id}/reassign", data={"owner_id": str(org.vera.id)})
    assert response.status_code == 400
    assert re.search(r'id="owner_id-error-1"', response.get_data(as_text=True))
    assert case_of(case_id).owner_id == org.ben.id


# --- the protocol and re-screening -------------------------------------------------------------


def test_recording_a_protocol_step_keeps_who_and_when(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    screen(case_id, yes=("q3",))
    step = db.session.scalar(
        select(ProtocolStep).where(ProtocolStep.case_id == case_id, ProtocolStep.step == "hotline")
    )
    assert step is not None
    step_id = step.id
    sign_in(client, org.amina)
    response = client.post(f"/cases/{case_id}/protocol/{step_id}", data={f"step{step_id}-outcome": "bogus"})
    assert response.status_code == 400
    assert re.search(rf'id="step{step_id}-outcome-error-1"', response.get_data(as_text=True))
    mark = audit_mark()
    response = client.post(
        f"/cases/{case_id}/protocol/{step_id}",
        data={f"step{step_id}-outcome": "done", f"step{step_id}-note": "Talked 20 minutes"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    step = db.session.get(ProtocolStep, step_id)
    assert step is not None
    assert (step.outcome, step.done_by_id, step.note) == ("done", org.amina.id, "Talked 20 minutes")
    assert step.done_at is not None
    assert ("case.protocol.hotline", str(case_id), org.amina.id) in audited_since(mark)
    page = client.get(f"/cases/{case_id}")
    text = text_of(page)
    assert "Done — recorded by Amina Farah on" in text and "Talked 20 minutes" in text
    assert page.get_data(as_text=True).count(f'action="/cases/{case_id}/protocol/') == 3
    assert "3 protocol steps open" in text_of(client.get("/cases/"))
    # A step of another case is not found through this one.
    other = new_case(org, "Other Person")
    assert (
        client.post(f"/cases/{other}/protocol/{step_id}", data={f"step{step_id}-outcome": "done"}).status_code
        == 404
    )


def test_screening_again_keeps_the_history_and_shows_the_trend(
    client: CSRFClient, org: SimpleNamespace
) -> None:
    case_id = new_case(org)
    sign_in(client, org.amina)
    page = client.get(f"/cases/{case_id}/screen")
    assert page.status_code == 200
    text = text_of(page)
    assert "Has your partner threatened to kill you or your children?" in text
    # The person's language (Spanish) is shown beside the advocate's.
    assert "¿Su pareja ha amenazado con matarla/matarlo" in text
    instrument = instrument_format.shipped()[LETHALITY]

    def answers(*yes: str) -> dict[str, str]:
        return {f"answer_{q.key}": ("yes" if q.key in yes else "no") for q in instrument.questions}

    # Without JavaScript, "Show the questions" reloads the form: nothing is checked or saved.
    response = client.post(f"/cases/{case_id}/screen", data={"instrument": LETHALITY, "action": "show"})
    assert response.status_code == 200 and "usa-error-message" not in response.get_data(as_text=True)
    # A missing answer: 400 next to the question, nothing stored.
    incomplete = answers()
    del incomplete["answer_q5"]
    response = client.post(f"/cases/{case_id}/screen", data={"instrument": LETHALITY, **incomplete})
    assert response.status_code == 400
    assert re.search(r'id="answer_q5-error-1"', response.get_data(as_text=True))
    # A judgment without its reason.
    response = client.post(
        f"/cases/{case_id}/screen", data={"instrument": LETHALITY, "judgment": "y", **answers()}
    )
    assert response.status_code == 400
    assert "Say why, so that colleagues understand the decision." in text_of(response)
    # No instrument chosen.
    response = client.post(f"/cases/{case_id}/screen", data={"instrument": "", **answers()})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(RiskScreening)) == 0

    mark = audit_mark()
    response = client.post(f"/cases/{case_id}/screen", data={"instrument": LETHALITY, **answers("q4")})
    assert response.status_code == 302
    assert "Not screened in." in text_of(client.get(f"/cases/{case_id}"))
    assert case_of(case_id).danger == "standard"
    response = client.post(f"/cases/{case_id}/screen", data={"instrument": LETHALITY, **answers("q1")})
    assert response.status_code == 302
    page = client.get(f"/cases/{case_id}")
    text = text_of(page)
    assert "Screened in: this case is high danger." in text
    assert case_of(case_id).danger == "high"
    assert "Higher than before" in text and "First screening with this instrument" in text
    response = client.post(
        f"/cases/{case_id}/screen",
        data={"instrument": LETHALITY, "judgment": "y", "judgment_reason": "He bought a gun", **answers()},
    )
    assert response.status_code == 302
    text = text_of(client.get(f"/cases/{case_id}"))
    assert "Screened in by the advocate's judgment." in text and "He bought a gun" in text
    assert db.session.scalar(select(func.count()).where(RiskScreening.case_id == case_id)) == 3
    assert [a for a in actions_since(mark) if a == "case.screened"] == ["case.screened"] * 3


# --- the audit of every view -------------------------------------------------------------------


def test_every_view_is_audited(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    sign_in(client, org.amina)
    pages = {
        "/cases/": ("case.list", None),
        "/cases/?number=1": ("case.search", None),
        f"/cases/{case_id}": ("case.view", str(case_id)),
        f"/cases/{case_id}/edit/contact": ("case.view", str(case_id)),
        f"/cases/{case_id}/screen": ("case.view", str(case_id)),
        f"/handoff/cases/{case_id}/preview": ("handoff.preview", str(case_id)),
    }
    for url, (action, object_id) in pages.items():
        mark = audit_mark()
        assert client.get(url).status_code == 200, url
        assert (action, object_id, org.amina.id) in audited_since(mark), url


# --- another agency ----------------------------------------------------------------------------


def test_another_agencys_case_is_404_on_every_route(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org, "Rosa María Pérez")
    screen(case_id, yes=("q1",))
    step_id = db.session.scalar(select(ProtocolStep.id).where(ProtocolStep.case_id == case_id).limit(1))
    before = snapshot(case_id)
    sign_in(client, org.vera)
    mark = audit_mark()
    gets = [
        f"/cases/{case_id}",
        f"/cases/{case_id}/screen",
        f"/handoff/cases/{case_id}/preview",
        *(f"/cases/{case_id}/edit/{s}" for s in GOOD),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = {
        f"/cases/{case_id}/close": {"reason": "moved", "confirm": "yes"},
        f"/cases/{case_id}/reopen": {},
        f"/cases/{case_id}/reassign": {"owner_id": str(org.vera.id)},
        f"/cases/{case_id}/protocol/{step_id}": {f"step{step_id}-outcome": "done"},
        f"/cases/{case_id}/screen": {"instrument": LETHALITY},
        **{f"/cases/{case_id}/edit/{s}": GOOD[s][0] for s in GOOD},
    }
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 404, url
    # Not in the list, not even by exact name or number.
    assert case_id not in listed(client.get("/cases/"))
    assert listed(client.post("/cases/", data={"name": "Rosa María Pérez"})) == []
    assert listed(client.get("/cases/", query_string={"number": str(case_id)})) == []
    assert snapshot(case_id) == before
    assert not [a for a, object_id, _ in audited_since(mark) if object_id == str(case_id)]
    db.session.expire_all()
    assert db.session.scalar(select(ProtocolStep.done_at).where(ProtocolStep.id == step_id)) is None


def test_shelter_staff_cannot_open_cases(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    sign_in(client, org.staff)
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/cases/{case_id}").status_code == 403
    assert client.get(f"/handoff/cases/{case_id}/preview").status_code == 403


def test_an_admin_of_the_agency_sees_the_case(client: CSRFClient, org: SimpleNamespace) -> None:
    case_id = new_case(org)
    sign_in(client, org.admin)
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert case_id in listed(client.get("/cases/"))
