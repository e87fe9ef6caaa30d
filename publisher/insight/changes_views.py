"""``/changes`` for people, ``/changes.csv`` and ``/changes.json`` downloads, and
``/api/changes`` (cursor pages, ETag, 304) with its OpenAPI document.

Every answer reads the summaries (``publisher.insight.selection``); a bad filter value
answers 400 with the valid ones, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from publisher.config import get_settings
from publisher.db import session_factory
from publisher.feeds.filters import FilterError, vocabulary
from publisher.insight import export, memo, openapi
from publisher.insight.selection import (
    KINDS,
    ChangeRow,
    Cursor,
    Selection,
    as_record,
    every,
    page_of,
    parse_limit,
    parse_selection,
    valid_values,
)

bp = Blueprint("insight_changes", __name__)
PAGE_SIZE = 20
API_PAGE_SIZE = 50
API_CACHE_SECONDS = 60
# Built pages and API answers kept per process (about 20 KB each), for one refresh.
_pages: memo.Recent[str] = memo.Recent(size=256, seconds=300)


def _args() -> list[tuple[str, str]]:
    # Not request.args: werkzeug raises (a 500) on a query string that is not UTF-8.
    return parse_qsl(request.query_string.decode("utf-8", errors="replace"), keep_blank_values=True)


def _arg(args: list[tuple[str, str]], name: str) -> str | None:
    values = [v for n, v in args if n == name]
    if len(values) > 1:
        raise FilterError(f"Give only one {name} value.")
    return values[0] if values else None


def _licence_link(response: Response) -> Response:
    response.headers["Link"] = f'<{export.LICENCE_URL}>; rel="license"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _text_400(exc: FilterError) -> Response:
    lines = [str(exc), "", "Valid values:"]
    lines += [
        f"  {k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in valid_values().items()
    ]
    return Response("\n".join(lines) + "\n", status=400, mimetype="text/plain")


def _session() -> Session:
    return session_factory()()


@bp.get("/changes")
def changes_page() -> Any:
    args = _args()
    try:
        sel = parse_selection(args)
        after, before = _arg(args, "after"), _arg(args, "before")
        after_c = Cursor.parse(after) if after else None
        before_c = Cursor.parse(before) if before else None
    except FilterError as exc:
        form = {
            n: v
            for n, v in args
            if n in ("age", "need", "category", "locality", "kind", "from", "to")
        }
        return render_template(
            "web/changes.html",
            error=str(exc),
            valid=valid_values(),
            options=_options(vocabulary(), form),
            form=form,
            page=None,
            sel=None,
        ), 400
    with _session() as session:
        # Built once per summary refresh for each address people ask for (many ask for
        # the same few), like the feeds' stored documents.
        generation = memo.generation(session)
        body = _pages.get(
            (generation, "page", request.query_string),
            lambda: _render_page(session, sel, after_c, before_c, generation),
        )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = f"public, max-age={API_CACHE_SECONDS}"
    response.add_etag()
    return response.make_conditional(request)


def _render_page(
    session: Session,
    sel: Selection,
    after_c: Cursor | None,
    before_c: Cursor | None,
    generation: int,
) -> str:
    page = page_of(
        session, sel, limit=PAGE_SIZE, after=after_c, before=before_c, generation=generation
    )
    vocab = vocabulary()
    return render_template(
        "web/changes.html",
        error=None,
        options=_options(vocab, dict(sel.pairs())),
        form=dict(sel.pairs()),
        sel=sel,
        described=sel.describe(vocab),
        page=page,
        newer_url=_page_url(sel, "before", page.newer),
        older_url=_page_url(sel, "after", page.older),
        query=sel.query,
        attribution=export.attribution(),
        licence_url=export.LICENCE_URL,
        licence_name=export.LICENCE_NAME,
        item_links=_topic_links(sel, vocab, page.items),
    )


_TOPIC_KEYS = (
    ("age", "age_bands"),
    ("need", "needs"),
    ("category", "categories"),
    ("locality", "localities"),
)


def _options(vocab: dict[str, dict[str, str]], form: dict[str, str]) -> dict[str, Markup]:
    """Each filter's options, the chosen one selected. Made here rather than in the
    template: escaping, done once per value in Python, was the page's costliest part."""
    found = {}
    for name, values in [*vocab.items(), ("kind", KINDS)]:
        chosen = form.get(name)
        found[name] = _html(
            "".join(
                f'\n        <option value="{escape(slug)}"'
                f"{' selected' if slug == chosen else ''}>{escape(text)}</option>"
                for slug, text in values.items()
            )
        )
    return found


def _html(escaped: str) -> Markup:
    """Text whose every value was escaped where it was put in."""
    return Markup(escaped)  # noqa: S704


def _topic_links(
    sel: Selection, vocab: dict[str, dict[str, str]], items: list[ChangeRow]
) -> list[Markup]:
    """Each item's "More changes for" links, for its topics that are not already chosen,
    each the selection with that topic in its place. Made here once per topic rather
    than in the template once per item (the page's costliest part)."""
    pairs = sel.pairs()
    chosen = dict(pairs)
    # The selection without each dimension, encoded once: a link adds its topic last.
    rest = {
        name: "".join(f"{urlencode([(n, v)])}&" for n, v in pairs if n != name)
        for name, _ in _TOPIC_KEYS
    }
    made: dict[tuple[str, str], str] = {}
    found = []
    for item in items:
        links = []
        topics = item.topics or {}
        for name, key in _TOPIC_KEYS:
            for slug in topics.get(key) or []:
                if slug not in vocab[name] or chosen.get(name) == slug:
                    continue
                link = made.get((name, slug))
                if link is None:
                    query = rest[name] + urlencode([(name, slug)])
                    label = vocab[name][slug]
                    link = f' <a href="/changes?{escape(query)}">{escape(label)}</a>'
                    made[(name, slug)] = link
                links.append(link)
        found.append(_html(",".join(links)))
    return found


def _page_url(sel: Selection, name: str, cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    return "/changes?" + urlencode([*sel.pairs(), (name, cursor.token())])


def _download(sel: Selection, fmt: str) -> Iterator[str]:
    session = _session()
    try:
        records = (as_record(c) for c in every(session, sel))
        if fmt == "csv":
            yield from export.changes_csv(records)
        else:
            yield from export.changes_json(records, dict(sel.pairs()))
    finally:
        session.close()


@bp.get("/changes.<fmt>")
def changes_download(fmt: str) -> Any:
    if fmt not in ("csv", "json"):
        return Response("Not found\n", status=404, mimetype="text/plain")
    try:
        sel = parse_selection(_args())
    except FilterError as exc:
        return _text_400(exc)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    response = Response(_download(sel, fmt), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=local-offer-changes.{fmt}"
    return _licence_link(response)


@bp.get("/api/changes")
def api_changes() -> Any:
    args = _args()
    try:
        sel = parse_selection(args)
        limit = parse_limit(_arg(args, "limit"), API_PAGE_SIZE)
        token = _arg(args, "cursor")
        cursor = Cursor.parse(token) if token else None
    except FilterError as exc:
        body = json.dumps({"error": str(exc), "valid": valid_values()}, ensure_ascii=False)
        return _licence_link(Response(body, status=400, mimetype="application/json"))
    with _session() as session:
        generation = memo.generation(session)
        body = _pages.get(
            (generation, "api", request.query_string),
            lambda: _api_body(session, sel, limit, cursor, generation),
        )
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={API_CACHE_SECONDS}"
    response.add_etag()
    response.make_conditional(request)
    return _licence_link(response)


def _api_body(
    session: Session, sel: Selection, limit: int, cursor: Cursor | None, generation: int
) -> str:
    page = page_of(session, sel, limit=limit, after=cursor, generation=generation)
    items = [as_record(c) for c in page.items]
    next_cursor = page.older.token() if page.older else None
    base = get_settings().public_base_url
    payload = {
        "items": items,
        "next_cursor": next_cursor,
        "next": (
            f"{base}/api/changes?"
            + urlencode([*sel.pairs(), ("limit", str(limit)), ("cursor", next_cursor)])
            if next_cursor
            else None
        ),
        "selection": dict(sel.pairs()),
        "licence": export.licence(),
    }
    return json.dumps(payload, ensure_ascii=False)


@bp.get("/api/openapi.json")
def api_document() -> Any:
    response = Response(
        json.dumps(openapi.document(), ensure_ascii=False, indent=1), mimetype="application/json"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
