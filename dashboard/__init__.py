"""Heritage Ledger's Streamlit dashboard: reads the platform over HTTP only (`client.py`), draws
what the API answers — the royalty route too — and computes no platform rule itself (see
dashboard/README.md)."""
