"""The dashboard's pages: each file is a Streamlit page script that dashboard/app.py registers."""
