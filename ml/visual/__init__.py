"""Heritage Ledger: ml.visual — what a recording looks like (waveform, log-mel spectrogram, pitch
against a tuning grid, band amplitudes, short-time fractal dimension); see `features`."""
