"""Agency admins manage the accounts of their own agency, and only those."""

from __future__ import annotations

import re

from sqlalchemy import select

from advocacy.auth.models import Membership, Role, User
from advocacy.auth.service import find_user
from advocacy.extensions import db
from tests.helpers import current_code, login, make_agency, make_user, text_of


def _temporary_password(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"<code>([a-z]+(?:-[a-z]+)+-\d+)</code>", response.get_data(as_text=True))
    assert match, "no temporary password on the page"
    return match.group(1)


def test_admin_adds_a_user_who_must_choose_a_password_and_set_up_two_step(client, other_client):
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    login(client, admin)

    response = client.post(
        "/admin/users/new",
        data={"username": "new.advocate", "display_name": "Nia New", "agency": agency.id, "role": "advocate"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = _temporary_password(response)
    user = find_user(f"{agency.slug}.new.advocate")  # in the agency's namespace
    assert user is not None and user.must_change_password and not user.totp_enrolled
    assert user.roles_in(agency.id) == {Role.ADVOCATE}

    # The new colleague signs in: two-step set-up first, then their own password.
    assert (
        other_client.post("/auth/login", data={"username": user.username, "password": password})
        .headers["Location"]
        .endswith("/auth/enrol")
    )
    assert other_client.get("/auth/enrol").status_code == 200
    db.session.refresh(user)
    assert other_client.post("/auth/enrol", data={"code": current_code(user)}).status_code == 302
    blocked = other_client.get("/cases/")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/auth/account")
    changed = other_client.post(
        "/auth/password",
        data={
            "current_password": password,
            "new_password": "a quiet lake at dawn 77",
            "confirm_password": "a quiet lake at dawn 77",
        },
    )
    assert changed.status_code == 302
    assert other_client.get("/cases/").status_code == 200


def test_taken_user_name_is_refused_and_nothing_is_created(client):
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN, f"{agency.slug}.boss")
    login(client, admin)
    before = db.session.scalar(select(db.func.count()).select_from(User))
    response = client.post(
        "/admin/users/new",
        data={"username": "boss", "display_name": "X", "agency": agency.id, "role": "advocate"},
    )
    assert response.status_code == 400
    assert "That user name is taken" in text_of(response)
    assert db.session.scalar(select(db.func.count()).select_from(User)) == before


def test_admin_cannot_add_a_user_to_another_agency(client):
    mine, theirs = make_agency("mine"), make_agency("theirs")
    login(client, make_user(mine, Role.ADMIN))
    response = client.post(
        "/admin/users/new",
        data={"username": "sneaky", "display_name": "S", "agency": theirs.id, "role": "admin"},
    )
    assert response.status_code == 400
    assert find_user("sneaky") is None


def test_roles_change_and_the_person_is_signed_out_everywhere(client, other_client):
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    staff = make_user(agency, Role.SHELTER_STAFF)
    login(client, admin)
    login(other_client, staff)
    assert other_client.get("/shelters/").status_code == 200

    response = client.post(
        f"/admin/users/{staff.id}/roles", data={"agency": agency.id, "roles": ["advocate", "shelter_staff"]}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert staff.roles_in(agency.id) == {Role.ADVOCATE, Role.SHELTER_STAFF}
    assert other_client.get("/shelters/").headers["Location"].startswith("/auth/login")


def test_the_last_admin_cannot_be_removed(client):
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    login(client, admin)
    client.post(f"/admin/users/{admin.id}/roles", data={"agency": agency.id, "roles": ["advocate"]})
    db.session.expire_all()
    assert Role.ADMIN in admin.roles_in(agency.id)
    memberships = db.session.scalars(select(Membership).where(Membership.user_id == admin.id)).all()
    assert [m.role for m in memberships] == ["admin"]


def test_deactivate_unlock_reset_two_step(client, other_client):
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    advocate = make_user(agency, Role.ADVOCATE)
    login(client, admin)
    login(other_client, advocate)

    assert client.post(f"/admin/users/{advocate.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not advocate.active
    assert other_client.get("/").headers["Location"].startswith("/auth/login")

    client.post(f"/admin/users/{advocate.id}/reactivate")
    client.post(f"/admin/users/{advocate.id}/reset-two-factor")
    db.session.expire_all()
    assert advocate.active and not advocate.totp_enrolled and advocate.totp_secret is None


def test_admin_of_another_agency_sees_404_and_cannot_act(client):
    mine, theirs = make_agency("mine"), make_agency("theirs")
    login(client, make_user(mine, Role.ADMIN))
    victim_side = make_user(theirs, Role.ADVOCATE)
    assert client.get(f"/admin/users/{victim_side.id}").status_code == 404
    assert client.post(f"/admin/users/{victim_side.id}/deactivate").status_code == 404
    db.session.expire_all()
    assert victim_side.active


def test_a_shared_account_is_not_deactivated_by_one_agency(client):
    mine, theirs = make_agency("mine"), make_agency("theirs")
    admin = make_user(mine, Role.ADMIN)
    shared = make_user(mine, Role.ADVOCATE)
    db.session.add(Membership(user_id=shared.id, agency_id=theirs.id, role="advocate"))
    db.session.commit()
    login(client, admin)
    response = client.post(f"/admin/users/{shared.id}/deactivate", follow_redirects=True)
    assert "also works for another agency" in text_of(response)
    db.session.expire_all()
    assert shared.active


def test_admin_sees_a_lock_and_unlocks_it(client, other_client, app):
    agency = make_agency()
    admin = make_user(agency, Role.ADMIN)
    advocate = make_user(agency, Role.ADVOCATE)
    for _ in range(app.config["SETTINGS"].lockout_threshold):
        other_client.post(
            "/auth/login", data={"username": advocate.username, "password": "wrong, wrong, wrong"}
        )
    login(client, admin)
    assert "Locked" in text_of(client.get("/admin/users"))
    assert "Unlock" in text_of(client.get(f"/admin/users/{advocate.id}"))

    assert client.post(f"/admin/users/{advocate.id}/unlock").status_code == 302
    assert "Unlock" not in text_of(client.get(f"/admin/users/{advocate.id}"))
    login(other_client, advocate)
