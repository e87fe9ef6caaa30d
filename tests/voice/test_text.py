"""Pure checks of the bulletin body (made safe once, on save) and of the plain English
advice (an estimate, with its data file)."""

from __future__ import annotations

from publisher.bulletins.body import make_body
from publisher.plain_english import advise, jargon_list


def test_typed_text_becomes_paragraphs_lists_and_links() -> None:
    body = make_body(
        "Ages <5 & up can come.\n\n- Fill in the [survey](https://e.example/s)\n- Ring us\n\n"
        "1. First\n2. Second\n\nSee https://e.example/more."
    )
    assert body.html == (
        "<p>Ages &lt;5 &amp; up can come.</p>"
        '<ul><li>Fill in the <a href="https://e.example/s" rel="noopener noreferrer">survey</a>'
        "</li><li>Ring us</li></ul><ol><li>First</li><li>Second</li></ol>"
        '<p>See <a href="https://e.example/more" rel="noopener noreferrer">'
        "https://e.example/more</a>.</p>"
    )
    assert "Ages <5 & up can come." in body.text
    assert "- Fill in the survey (https://e.example/s)\n- Ring us" in body.text
    assert not body.removed


def test_pasted_html_keeps_only_safe_parts() -> None:
    body = make_body(
        '<p onclick="steal()">Hello <a href="javascript:alert(1)">here</a> '
        '<a href="https://ok.example">ok</a><img src=x onerror=alert(1)>'
        "<script>alert(2)</script><style>p{}</style><iframe src=//evil></iframe></p>"
    )
    assert body.removed
    for bad in ("onclick", "javascript", "<img", "onerror", "<script", "alert", "<style", "iframe"):
        assert bad not in body.html, bad
    assert '<a href="https://ok.example" rel="noopener noreferrer">ok</a>' in body.html


def test_advice_is_an_estimate_that_prefers_short_plain_words() -> None:
    plain = advise("We want to hear from you. Tell us what you think. It is free.")
    hard = advise(
        "The local authority's statutory provision was comprehensively reconsidered "
        "following consultation with multidisciplinary professionals and stakeholders "
        "regarding individualised educational requirements and accessibility considerations."
    )
    assert plain.reading_age is not None and hard.reading_age is not None
    assert plain.reading_age <= 9 < hard.reading_age
    assert plain.ok and not hard.ok
    assert hard.long_sentences == [] and hard.passive == ["was comprehensively reconsidered"]
    assert {"statutory", "provision", "stakeholders", "local authority"} <= {
        w for w, _ in hard.jargon
    }
    assert advise("").reading_age is None
    # Acronyms match in capitals only: "la" in French words is not "LA".
    assert "LA" not in {w for w, _ in advise("Ooh la la.").jargon}
    assert len(jargon_list()) >= 30
