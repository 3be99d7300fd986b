"""Score recognition (optical music recognition): a staff image → tokens → MusicXML and MIDI.
`tokens` and `data` (the token grammar, engraved lines with their exact symbol sequences), `mei`
(verovio's engraving read back, to check each line), `augment` and `dataset` (scanned-looking copies,
a data set on disk), `model` (the CTC readers), `saved` (model files), `transcribe` (a page or a line
to MusicXML: `heritage transcribe` and the API's job). `experiment` (the seed's reader against a
plain CRNN) writes the report; no production module imports it."""
