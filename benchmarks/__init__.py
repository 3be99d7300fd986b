"""Measurements, each beside its baseline in the same run (the machines are noisy: ratios and
medians), run with `.venv/bin/python -m benchmarks.NAME --help` and written to `benchmarks/results/`.

Chain and service: `cid_throughput` (CIDs against plain SHA-256), `registration` (the whole path against
the node's raw rate, anvil and Hardhat), `api_load`, `api_writes` (batched relays against one at a time),
`index_reads` (SQLite against PostgreSQL, 1–4 workers), `durability` (killed node and service),
`statements` (a usage statement against one payment per line), `studio_api`. Economy: `economy_scale`,
`fairness_frontier`. Models: `cold_start`, `recognition_inference`, `classification_inference`,
`classification_symbolic`, `embedding_throughput`, `generation_speed`, `omr_transcription`,
`pitch_noise_floor`, `downmix`. `plots` draws their one kind of curve."""
