"""Made-up Local Offer services shaped like a real ORUK v1 feed (Bristol's, on Placecube):
HTML descriptions, a little mojibake, Placecube metadata, and the nested details that
``GET /services/{id}`` returns (ages, taxonomy, addresses with postcodes, costs)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from publisher.sources.opening_times import DAYS

KINDS = [
    (
        "Sensory play group",
        "Play with lights, sounds and soft play, for children with sensory needs.",
        ["Leisure", "Sensory impairment"],
        (0, 5),
    ),
    (
        "Speech and language drop-in",
        "Speech and language therapists answer questions about talking and understanding.",
        ["Health", "Speech and language"],
        (0, 11),
    ),
    (
        "Autism parent support group",
        "Meet other parents of autistic children. Share tips and get advice.",
        ["Support groups", "Autism"],
        (0, 25),
    ),
    (
        "Supported internship programme",
        "A year-long work placement with a job coach, for young people with an EHC plan.",
        ["Supported internships", "Preparing for adulthood"],
        (16, 25),
    ),
    (
        "Short breaks club",
        "Saturday short breaks with trained staff, so carers get a rest.",
        ["Short breaks"],
        (5, 18),
    ),
    (
        "Travel training",
        "Learn to travel on buses and trains on your own, with a trainer beside you.",
        ["Travel"],
        (14, 25),
    ),
    (
        "Dyslexia tutoring",
        "One-to-one help with reading and spelling for children with dyslexia.",
        ["Education", "Dyslexia"],
        (5, 16),
    ),
    (
        "Wheelchair football",
        "Powerchair football training every week. No experience needed.",
        ["Sport", "Physical disability"],
        (8, 25),
    ),
    (
        "SENDIASS advice line",
        "Free, impartial advice about SEND, EHC plans and school.",
        ["SENDIASS", "EHC plans"],
        (0, 25),
    ),
    (
        "Youth mental health hub",
        "Drop in to talk about worries, anxiety or low mood.",
        ["Mental health"],
        (11, 25),
    ),
]
PLACES = [
    ("1 Broad Street", "Bristol", "BS1 2EZ"),
    ("20 Gloucester Road", "Bristol", "BS7 8AA"),
    ("5 High Street", "Keynsham", "BS31 1DP"),
    ("Unit 3, Park Way", "Bristol", "BS16 3RN"),
    ("12 Station Road", "Weston-super-Mare", "BS23 1XY"),
]


def make_service(rng: random.Random, index: int, today: dt.date) -> dict[str, Any]:
    name, blurb, terms, (lo, hi) = KINDS[index % len(KINDS)]
    street, town, postcode = PLACES[rng.randrange(len(PLACES))]
    assured = today - dt.timedelta(days=rng.randrange(0, 500))
    modified = assured + dt.timedelta(days=rng.randrange(0, 30))
    paid = rng.random() < 0.3
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    return {
        "id": sid,
        "name": f"{name} {town} {index}",
        "description": f"<p>{blurb}</p><p>{'Costs Â£5 a session.' if paid else 'It is free.'}</p>"
        f"<p>Call us&nbsp;or email to book.</p>",
        "url": f"https://provider{index}.example.org/",
        "email": f"hello{index}@provider.example.org",
        "status": "active",
        "fees": "Â£5 a session" if paid else "",
        "accreditations": "",
        "deliverable_type": "",
        "attending_type": "",
        "attending_access": "",
        "assured_date": assured.isoformat(),
        "organization": {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "name": f"Provider {index}",
            "description": "",
            "url": "",
            "logo": "",
            "uri": "",
        },
        "pc_metadata": {
            "date_created": "2022-01-20",
            "date_modified": modified.isoformat(),
            "date_assured": assured.isoformat(),
            "assured_by": None,
        },
        "pc_targetAudience": [],
        "eligibilitys": [
            {"id": f"e-{index}", "eligibility": "age", "minimum_age": lo, "maximum_age": hi}
        ],
        "service_taxonomys": [
            {
                "id": f"t-{index}-{i}",
                "taxonomy": {"id": f"tax-{t}", "name": t, "vocabulary": "local"},
            }
            for i, t in enumerate(terms)
        ],
        "service_at_locations": [
            {
                "id": f"sal-{index}",
                "location": {
                    "id": f"loc-{index}",
                    "name": town,
                    "physical_addresses": [
                        {
                            "id": f"a-{index}",
                            "address_1": street,
                            "city": town,
                            "postal_code": postcode,
                            "country": "GB",
                        }
                    ],
                },
            }
        ],
        "regular_schedules": weekday_hours(index),
        "cost_options": [
            {
                "id": f"c-{index}",
                "option": "Per session",
                "amount": 5,
                "amount_description": "per session",
            }
        ]
        if paid
        else [],
    }


# Opening hours by position, not by the random draws (which would move every later draw).
_HOURS = (("09:00:00", "17:00:00"), ("09:30:00", "15:00:00"), ("10:00:00", "16:30:00"))


def weekday_hours(index: int) -> list[dict[str, Any]]:
    opens, closes = _HOURS[index % len(_HOURS)]
    days = DAYS[:5] if index % 2 else DAYS[:4]
    return [
        {"id": f"rs-{index}-{n}", "weekday": day, "opens_at": opens, "closes_at": closes}
        for n, day in enumerate(days)
    ]


def add_saturday_mornings(service: dict[str, Any]) -> None:
    """A provider adds Saturday sessions: told as new opening times."""
    hours = [s for s in service.get("regular_schedules") or [] if s.get("weekday") != "Saturday"]
    hours.append(
        {
            "id": f"rs-{service['id']}-sat",
            "weekday": "Saturday",
            "opens_at": "09:00:00",
            "closes_at": "12:00:00",
        }
    )
    service["regular_schedules"] = hours


def make_services(count: int, seed: int = 1, today: dt.date | None = None) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    today = today or dt.date.today()
    return [make_service(rng, i, today) for i in range(count)]


def touch(
    service: dict[str, Any], today: dt.date, note: str = "Now open on Saturdays too."
) -> None:
    """Change a service the way a provider would: new words, a new modified date."""
    service["description"] += f"<p>{note}</p>"
    service["pc_metadata"] = {
        **service["pc_metadata"],
        "date_modified": today.isoformat(),
        "date_assured": today.isoformat(),
    }
    service["assured_date"] = today.isoformat()
