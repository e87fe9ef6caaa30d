"""Provider reviews (issue 9): ask providers to re-check their entries before and after
they go stale, collect their replies, give officers a worklist, and close each reply
when the directory catches up.

    plan.py      who gets asked today (pure reading; ``publisher reviews plan``)
    contacts.py  an entry's contact address, from the entry or its organisation
    sending.py   open reviews, write the ledger, send through the mail transports
    links.py     signed per-entry links for providers
    replies.py   what a provider's answer does, and the change form's checks
    worklist.py  the officers' "Provider replies" list, its actions and CSV
    catchup.py   a later crawl closes replies the directory has caught up with
"""
