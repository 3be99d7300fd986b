"""Named errors of the listening room. All are `InputError`s: a request that cannot be carried out
as asked. Each message says what went wrong and what to do; `api/problems.py` maps each class
to an HTTP status and a problem code (only the API layer knows about HTTP)."""

from __future__ import annotations

from core.errors import InputError


class ListeningError(InputError):
    """Root of the listening room's refusals (studies, ratings, invitations, ontology review)."""


class UnknownStudy(ListeningError):
    """No study with this id."""


class StudyStateError(ListeningError):
    """The study is not in the state this action needs (e.g. adding pieces once it is open)."""


class StudyNotOpen(StudyStateError):
    """Rating, or asking for the next piece, in a study that is a draft or closed."""


class AlreadyInStudy(ListeningError):
    """A piece, criterion or rater that the study holds already."""


class InvalidToken(ListeningError):
    """A token that is malformed or not signed with this service's key."""


class TokenExpired(InvalidToken):
    """A well-signed token past its expiry."""


class NotPermitted(ListeningError):
    """A valid token whose role does not allow this action (a rater asking for results, say)."""


class NotARater(ListeningError):
    """The rater is not enrolled in this study (or the invitation is for another study)."""


class UnknownPiece(ListeningError):
    """No rateable piece with this CID in the study (reference pieces are listened to, not rated)."""


class UnknownCriterion(ListeningError):
    """No criterion of this name in the study."""


class OffScale(ListeningError):
    """A rating that is not a whole number within the criterion's scale."""


class AlreadyRated(ListeningError):
    """A second rating of the same piece and criterion by the same rater."""


class IccError(ListeningError):
    """A table an intraclass correlation cannot be computed from."""


class IncompleteTable(IccError):
    """Missing cells in the targets × raters table."""


class TooFewRatings(IccError):
    """Fewer than two targets or fewer than two raters."""


class ZeroVariance(IccError):
    """Every rating is the same: reliability is undefined."""


class UnknownWorkLabels(ListeningError):
    """An ontology review of a work that has no baseline tags or cluster."""


class RoundStateError(ListeningError):
    """No review round is open (or one is open already)."""


class ReviewConflict(ListeningError):
    """A review whose `old` value is not the work's current one, or whose change makes no sense."""
