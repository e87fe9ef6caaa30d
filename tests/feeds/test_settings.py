"""Settings the public pages and feeds add: checked when read, with clear messages."""

from __future__ import annotations

import pytest

from publisher.config import check_brand_colour, contrast_with_white, get_settings, reset_settings


def test_brand_colour_must_keep_white_text_readable():
    assert check_brand_colour("#1D4F91") == "#1d4f91"
    assert check_brand_colour("#036") == "#003366"
    with pytest.raises(ValueError, match=r"too light.*4\.5:1"):
        check_brand_colour("#ffdd00")
    with pytest.raises(ValueError, match="must be a colour"):
        check_brand_colour("navy")
    # The WCAG formula: white on black is 21:1, white on white 1:1.
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0


def test_feed_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://news.example.gov.uk/")
    monkeypatch.setenv("FEED_MAX_ITEMS", "20")
    monkeypatch.setenv("WEBSUB_HUB_URL", "https://hub.example.org/")
    reset_settings()
    try:
        settings = get_settings()
        assert settings.feed_max_items == 20
        assert settings.feed_id_authority == "news.example.gov.uk"
        assert settings.websub_hub_url == "https://hub.example.org/"
        monkeypatch.setenv("FEED_MAX_ITEMS", "0")
        reset_settings()
        with pytest.raises(ValueError, match="FEED_MAX_ITEMS"):
            get_settings()
        monkeypatch.setenv("FEED_MAX_ITEMS", "10")
        monkeypatch.setenv("LOGO_URL", "https://example.gov.uk/logo.png")
        monkeypatch.delenv("LOGO_ALT", raising=False)
        reset_settings()
        with pytest.raises(ValueError, match="LOGO_ALT"):
            get_settings()
    finally:
        reset_settings()
