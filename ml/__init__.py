"""Heritage Ledger's machine learning (README: "How the parts fit" and the ML sections).

Layers, lowest first (tests/python/test_architecture.py checks them): `runtime`, `saved` and
`training_loop` (seeding, thread pools, saved-file checks, the one torch training loop); `data/`
(corpora, audio, rendering, splits, protocol-honouring training sets, the ABC melody reader),
`tradition/` (tradition files and their model) and `metrics/`, which import no capability; the
capabilities `recognition/`, `classification/`, `representation/`, `generation/`, `omr/`,
`recommendation/`, `visual/`. Experiment modules (`experiment.py`, `*_experiment.py`, `robustness.py`,
`recognition/loso.py`) run evaluations and write reports; nothing in production imports them."""
