"""Open data and insight: what changed (``/changes``, ``/api/changes``), how healthy the
Local Offer is (``/health``), who it reaches (the console's reach page) and the annual
report. Every page reads the summaries in ``publisher.models.insight``, which
``publisher.insight.upkeep`` keeps current."""
