"""MIDI-GAN (issue 8): a WGAN-GP over 80-step sixteenth-note piano rolls of the Essen Han songs, with a
multi-scale residual critic and an attention similarity-matching term, against an LSTM and a causal
Transformer baseline.

- `rolls`: the data (rolls and their per-step tokens, split by piece, cached);
- `gan`: generator, critic, gradient penalty, similarity term, training and sampling;
- `baselines`: the two autoregressive token models;
- `experiment`: training all three, the reference model for PPL, the metrics and the report
  (`heritage generation midigan`).
"""
