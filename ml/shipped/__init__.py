"""The small default models shipped in models/ (issue 23): each capability's own training code with
small settings (`recipes`), and the manifest written beside every weights file (`manifest`).
`heritage models build` rebuilds them; `ml.defaults.default_model` loads them when the user has
trained nothing."""
