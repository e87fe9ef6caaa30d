"""The words people agree to, versioned, and the minimal client detail we keep.

Change the wording by adding a new version (never edit an old one): each consent record
keeps the version, the text and its sha256, so we can show what each person was shown.
"""

from __future__ import annotations

import hashlib
import ipaddress

# version -> wording shown beside the subscribe button.
WORDINGS: dict[str, str] = {
    "2026-11-web-1": (
        "We will email you news about services in the Local Offer that match your choices. "
        "We will only email you if you click the link in the email we send you now. "
        "Every email has a link to change your choices or stop the emails. "
        "We keep your email address and choices only while you get our emails, "
        "and delete them 28 days after you stop."
    ),
}
# Only paid services need this opt-in (PECR direct marketing): free services run by
# charities or other providers always reach everyone whose choices they match. Each
# consent record keeps the wording it was shown, so changing it here is safe.
PAID_HINT = (
    "We always tell you about free services, whoever runs them: the council, the NHS, "
    "charities or local groups. Some services charge a fee. Tick the box if you want to "
    "hear about those too."
)
PAID_WORDING = "Yes, also tell me about services that cost money."
CURRENT_VERSION = "2026-11-web-1"
IMPORT_VERSION = "csv-import-1"


def current_wording() -> str:
    return WORDINGS[CURRENT_VERSION]


def wording_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def import_wording(original_source: str) -> str:
    return (
        "Imported from an existing list. The council recorded consent to Local Offer emails "
        f"from this source: {original_source or 'not given'}."
    )


def client_network(remote_addr: str | None) -> str | None:
    """The network a request came from, not the address: IPv4 /24, IPv6 /48."""
    if not remote_addr:
        return None
    try:
        ip = ipaddress.ip_address(remote_addr)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
