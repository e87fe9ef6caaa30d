"""The OpenAPI 3.1 document for ``/api/changes``, served at ``/api/openapi.json``.

Made from the same vocabulary the API checks against, so the documented values and the
accepted ones cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from publisher.config import get_settings
from publisher.insight.export import LICENCE_NAME, LICENCE_URL
from publisher.insight.selection import KINDS, MAX_LIMIT, valid_values


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def document() -> dict[str, Any]:
    settings = get_settings()
    valid = valid_values()
    strings = {"type": "array", "items": {"type": "string"}}
    change = {
        "type": "object",
        "required": ["id", "occurred_at", "kind", "title", "summary", "link"],
        "properties": {
            "id": {"type": "integer", "description": "The change's id; never reused."},
            "occurred_at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "link": {
                "type": "string",
                "format": "uri",
                "description": "The service's page on the Local Offer.",
            },
            "source": {"type": "string"},
            "entry_id": {"type": "string"},
            "age_bands": strings,
            "needs": strings,
            "categories": strings,
            "localities": strings,
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.council_name} Local Offer changes",
            "version": "1",
            "description": (
                "Services added to, changed on, back on or taken off the Local Offer: the "
                "same news as the feeds (never a stale entry, never a re-check of the same "
                "details), newest first."
            ),
            "license": {"name": LICENCE_NAME, "url": LICENCE_URL},
        },
        "servers": [{"url": settings.public_base_url}],
        "paths": {
            "/api/changes": {
                "get": {
                    "summary": "Changes, newest first, a page at a time",
                    "parameters": [
                        _param("age", "Age band", {"type": "string", "enum": valid["age"]}),
                        _param("need", "Area of need", {"type": "string", "enum": valid["need"]}),
                        _param(
                            "category",
                            "Kind of service",
                            {"type": "string", "enum": valid["category"]},
                        ),
                        _param("locality", "Area", {"type": "string", "enum": valid["locality"]}),
                        _param("kind", "What happened", {"type": "string", "enum": list(KINDS)}),
                        _param(
                            "from",
                            "First day (UK date), inclusive",
                            {"type": "string", "format": "date"},
                        ),
                        _param(
                            "to",
                            "Last day (UK date), inclusive",
                            {"type": "string", "format": "date"},
                        ),
                        _param("cursor", "next_cursor from the previous page", {"type": "string"}),
                        _param(
                            "limit",
                            "Changes per page",
                            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of changes",
                            "headers": {"ETag": {"schema": {"type": "string"}}},
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["items", "next_cursor", "licence"],
                                        "properties": {
                                            "items": {"type": "array", "items": change},
                                            "next_cursor": {"type": ["string", "null"]},
                                            "next": {"type": ["string", "null"], "format": "uri"},
                                            "licence": {"type": "object"},
                                            "selection": {"type": "object"},
                                        },
                                    }
                                }
                            },
                        },
                        "304": {"description": "Not modified since the ETag you sent"},
                        "400": {
                            "description": "A filter value we do not know; lists the valid ones",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "error": {"type": "string"},
                                            "valid": {"type": "object"},
                                        },
                                    }
                                }
                            },
                        },
                    },
                }
            }
        },
    }
