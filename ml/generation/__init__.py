"""Culturally constrained generation (README: "Culturally constrained generation").

Production (what `heritage generate` runs): `lattice` (the microtonal token lattice), `encoding`
(scores, ABC and the Essen corpus put on the lattice), `model` and `train` (the conditioned
transformer), `decode` (sampling under constraint masks), `inference` (conditioning prefix, length,
`generate_ours`), `songs` (the training songs, split, vocabulary), `evaluation` (a piece's fidelity
metrics), `microtonal` (exact rendering), `piece` (one piece from registered works). Experiments,
which nothing else imports: `experiment` (Table 1) and `midigan/experiment`. `tradition` is an alias
of `ml.tradition` for callers outside ml/."""
