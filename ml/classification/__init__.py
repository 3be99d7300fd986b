"""Folk-song classification (style, region, …): `symbolic` (features read from ABC text, four
tasks), `audio` (CNN, RNN, LSTM and CRNN models on log-mel spectrograms) with `mel_augment` (its
augmentations), `saved` (saved classifiers read back as a soft-voting ensemble: `heritage classify`
and the API's job). `experiment` (every model and both ensembles beside the symbolic path on the same
pieces and split) writes the report; no production module imports it."""
