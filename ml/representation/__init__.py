"""Representations of music: pretrained audio embeddings (VGGish, musicnn ported to PyTorch, read from
its TF1 checkpoints; `maps` for 2-D maps) and the multimodal representation trained here (`multimodal`:
audio, symbolic and context encoders in one space; `multimodal_data`: a song's three views;
`multimodal_experiment`: its training and evaluation report). The multimodal views are read through
the generation lattice (`ml.generation.lattice`), the one encoding of a song as tokens."""
