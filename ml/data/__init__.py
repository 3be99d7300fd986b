"""What every model reads, below all the capabilities (it imports none of them): music21's corpora
as labelled pieces (`corpora`, with the fast readers `abc` and `melody`), user files (`files` checks,
`audio`, `scores`), the one preprocessing path audio takes to any model (`preprocess`, over `dsp`,
`spectral`, `loudness`), FluidSynth rendering (`render`), augmentation imitating another source
(`augment`), deterministic splits (`splits`) and training sets that honour cultural protocols
(`training`)."""
