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
    """`make run` prints http://127.0.0.1:8000/: it leads to the executives' reports (the login page first)."""
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and response.redirect_chain[0][0].startswith("/reports/")
    assert b"<form" in response.content  # the login form of a visitor
