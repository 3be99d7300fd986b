"""The `heritage` commands, one module per capability; cli/main.py registers them on one typer app."""
