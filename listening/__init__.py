"""The listening room's human side: expert listening studies and ontology review.

- `model`: studies, pieces, criteria with their scales, raters, ratings (draft → open → closed);
- `studies`: the rules — building a study, inviting raters, blind per-rater order, rating;
- `invites`: HMAC-signed tokens (invitation links, researcher, member, curator, reviewer);
- `store`: SQLite storage;
- `icc`: ICC(2,1), ICC(2,k), ICC(3,·) with F-based confidence intervals;
- `analysis`: n, mean ± SD, approval shares and ICCs per criterion and condition, as canonical
  JSON to store by CID and a summary to attest on chain; `tables`: the seed studies' tables;
- `ontology`: review rounds of works' tradition tags and embedding-map clusters, every change
  recorded, and silhouette and AMI per round.

Visualisation, the dashboard's rating pages and the on-chain attestation are built elsewhere on
top of these (the API in `api/routes/studies.py` is their way in).
"""
