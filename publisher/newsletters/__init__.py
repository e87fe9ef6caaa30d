"""Newsletter editions: which changes go in which edition (windows, items), who gets
which content (building), what each email says (rendering), the delivery ledger's rows
(ledger), sending a batch through it (sending), and handing batches out and sweeping up
after lost work (sweeping). Subscriptions live in publisher.subscriptions."""
