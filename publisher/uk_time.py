"""The council's clock: editions, slots, reports and the console all speak UK time
(stored times are UTC). One place for the zone, so no module builds its own."""

from __future__ import annotations

from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
