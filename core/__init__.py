"""Shared words of Heritage Ledger: settings, errors (one root, a branch per stage, and the named
cases the API maps to statuses by type), identifier types, content addressing, manifests, and the
provenance types chain/ and ml/ share (`provenance.py`)."""
