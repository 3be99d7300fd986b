"""Route files, one per resource: reads (and the royalty route), writes (content, steward-signed
registrations and consents, relayed transactions), transactions (drafts to sign), claims, studies
(with ratings, attestations and ontology in their own files, carried by `studies.router`),
simulations, visual, demo."""
