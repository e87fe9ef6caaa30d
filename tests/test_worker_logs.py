"""Routine beat ticks that did nothing stay out of INFO; work done and failures do not
(issue 13.4). Records go through Celery's own loggers, in Celery's own formats."""

from __future__ import annotations

import logging

import pytest
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS

from publisher.worker_logs import BEAT_SENDING, did_nothing, install


def _emit(caplog: pytest.LogCaptureFixture, name: str, value: str) -> list[str]:
    caplog.clear()
    context = {"id": "abc", "name": name, "return_value": value, "runtime": 0.01, "args": ""}
    logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, context)
    logging.getLogger("celery.app.trace").info(LOG_SUCCESS, context)
    return [r.getMessage() for r in caplog.records]


def test_routine_ticks_that_did_nothing_are_not_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install()
    install()  # twice is the same as once
    assert sum(1 for f in logging.getLogger("celery.app.trace").filters) == 1
    with caplog.at_level(logging.INFO):
        assert _emit(caplog, "publisher.social.publish_due", "{}") == []
        assert _emit(caplog, "publisher.feeds.rebuild_feeds", "{'rewritten': 0}") == []
        done = _emit(caplog, "publisher.social.publish_due", "{'published': 1}")
        assert len(done) == 1 and "succeeded" in done[0]
        # Not a routine tick: logged as Celery always does.
        assert len(_emit(caplog, "publisher.newsletters.send_batch", "None")) == 2
    with caplog.at_level(logging.DEBUG):
        assert len(_emit(caplog, "publisher.social.publish_due", "{}")) == 2


def test_beat_sending_a_routine_tick_is_not_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install()
    beat = logging.getLogger("celery.beat")
    with caplog.at_level(logging.INFO):
        beat.info(BEAT_SENDING, "social-publish-due", "publisher.social.publish_due")
        assert caplog.records == []
        beat.info(BEAT_SENDING, "weekly-round-up", "publisher.social.weekly_round_up")
        assert [r.getMessage() for r in caplog.records] == [
            "Scheduler: Sending due task weekly-round-up (publisher.social.weekly_round_up)"
        ]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        beat.info(BEAT_SENDING, "social-publish-due", "publisher.social.publish_due")
        assert len(caplog.records) == 1


def test_what_counts_as_nothing() -> None:
    assert did_nothing(None) and did_nothing({}) and did_nothing([]) and did_nothing(0)
    assert did_nothing("{'published': 0, 'retry': 0}")
    assert not did_nothing({"published": 2}) and not did_nothing([17])
