"""Timbre recognition: which instrument plays each 3-s segment of a recording. `dataset` (rendered
clips, two soundfont families) and `tabla` (real strokes), `features` (MFCC with context, log-mel
patches), the recognisers `gmm_hmm` (baseline), `dnn_hmm`, `autoencoder` (deep features under the
GMM-HMM) and `transfer` (CNN features into an SVM), `model` (a saved recogniser and `heritage
recognize`). Reports, which no production module imports: `experiment` (trained on one family,
tested on the other), `loso` (leave one source out), `reruns` (the spread of reruns)."""
