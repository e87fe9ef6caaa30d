"""Local Offer Publisher: turns Local Offer directory changes into news for families."""

__version__ = "0.1.0"
