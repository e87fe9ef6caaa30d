"""Issue 14's public blueprints, registered in one call from the app factory."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from publisher.web import bulletins, embed, feedback, follow

    for blueprint in (embed.bp, follow.bp, bulletins.bp, feedback.bp):
        app.register_blueprint(blueprint)
