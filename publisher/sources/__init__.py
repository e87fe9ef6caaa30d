"""Reading directories: the ORUK v1/v3 API client and the JSON file reader.

Nothing here touches the database: sources yield raw records and page facts, and
``publisher.sources.records`` turns one raw record into a validated, normalised one.
"""
