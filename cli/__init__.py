"""The `heritage` command line."""
