"""The small default models shipped in models/ (issue 23): the manifest written beside every weights
file (`manifest`, read by the CLI), and how each is trained (`build_experiment`: each capability's own
training code with small settings; a leaf nothing in production imports). `heritage models build`
rebuilds them; `ml.defaults.default_model` loads them when the user has trained nothing."""
