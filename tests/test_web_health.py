from publisher.db import session_scope
from publisher.web import create_app
from tests.factories import make_source


def test_health_reports_database_and_sources(db):
    with session_scope() as session:
        make_source(session, "north")
    client = create_app({"TESTING": True}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["sources"] == [{"name": "north", "last_crawl": None}]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
