"""Unknown URLs: JSON in the API's error shape under /api/, a page elsewhere."""

from __future__ import annotations


def test_an_unknown_api_url_is_a_json_404(client, db):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unknown_page_is_an_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_address_make_run_prints_opens_a_real_page(client, db):
    """`make run` prints http://127.0.0.1:8000/: a page of its own (what Kagami is, and the way to log in)."""
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "80%" in text and "8%" in text
    assert 'href="/accounts/login/?next=/"' in text
    assert client.get("/accounts/login/?next=/").status_code == 200
