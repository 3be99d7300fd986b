"""Pretrained audio representations: musicnn (MSD/MTT taggers) ported to PyTorch, read from its TF1 checkpoints."""
