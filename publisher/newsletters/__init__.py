"""Newsletter editions: which changes go in which edition (windows, items), who gets
which content (building), what each email says (rendering), and sending it through
the delivery ledger (sending). Subscriptions live in publisher.subscriptions."""
