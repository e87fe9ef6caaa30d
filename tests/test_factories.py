from publisher.db import session_scope
from publisher.models import Change, ChangeKind
from tests.factories import make_entry, make_source, record_change


def test_factories_write_a_change_with_a_snapshot(db):
    with session_scope() as session:
        source = make_source(session)
        entry = make_entry(
            session, source, "svc-1", "Sensory play group", minimum_age=0, maximum_age=5
        )
        record_change(session, entry, ChangeKind.ADDED)
    with session_scope() as session:
        change = session.query(Change).one()
        assert change.kind is ChangeKind.ADDED
        assert change.snapshot["age_bands"] == ["0-5"]
        assert change.snapshot["page_url"] == "https://localoffer.example.gov.uk/services/svc-1"
        assert change.occurred_at.tzinfo is not None
