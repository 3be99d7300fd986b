"""The browser wallet on the dashboard's pages: the component (frontend/, built bundle committed),
the draft → sign → relay step every action page shares (`flow.py`) and the words shown before
each signature (`words.py`)."""
