"""Tests of the Streamlit dashboard, against a real API."""
