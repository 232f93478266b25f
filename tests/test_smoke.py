from advocacy.auth.models import Role
from tests.helpers import login, make_agency, make_user


def test_advocate_signs_in_with_password_and_code(client):
    user = make_user(make_agency(), Role.ADVOCATE)
    response = login(client, user)
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Test advocate" in page.get_data(as_text=True)
