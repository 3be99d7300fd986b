"""Shared words of Heritage Ledger: settings, errors and identifier types."""
