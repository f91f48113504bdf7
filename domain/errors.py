"""Domain errors: one class per broken rule, each with a message key and the facts behind it.

The CLI prints the message on one line and exits 2; the web shows it translated beside the
field. The texts live in :mod:`domain.messages`, so adding an error means adding a key there.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any, ClassVar

from domain.messages import MESSAGES
from domain.time import shanghai_text


class DomainError(Exception):
    """A command was refused because a contest rule forbids it."""

    key: ClassVar[str]

    def __init__(self, **facts: Any) -> None:
        missing = _placeholders(self.key) - facts.keys()
        if missing:
            raise TypeError(f"{type(self).__name__} needs the facts {sorted(missing)}")
        self.facts = facts
        super().__init__(self.message("en"))

    def message(self, language: str = "en") -> str:
        texts = MESSAGES[self.key]
        template = texts.get(language, texts["en"])
        return template.format(**{name: _shown(value) for name, value in self.facts.items()})

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (workers, the registration race); keep the facts.
        return (_rebuild, (type(self), self.facts))


def _rebuild(cls: type[DomainError], facts: dict[str, Any]) -> DomainError:
    return cls(**facts)


def _placeholders(key: str) -> set[str]:
    return {
        name
        for text in MESSAGES[key].values()
        for _, name, _, _ in string.Formatter().parse(text)
        if name
    }


def _shown(value: Any) -> Any:
    if isinstance(value, datetime):
        return shanghai_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return value


def _error(name: str, key: str, doc: str) -> type[DomainError]:
    return type(name, (DomainError,), {"key": key, "__doc__": doc, "__module__": __name__})


# Each error is a small named class; `_error` only spares the four-line class statement.
TimeNotAware = _error("TimeNotAware", "time.naive", "A time without a zone reached a rule.")
ContestAlreadyExists = _error("ContestAlreadyExists", "contest.exists", "Contest ids are unique.")
ContestNotFound = _error("ContestNotFound", "contest.not_found", "No such contest.")
ContestFieldInvalid = _error(
    "ContestFieldInvalid", "contest.field_invalid", "A contest file field cannot be used."
)
CalendarOutOfOrder = _error(
    "CalendarOutOfOrder", "calendar.out_of_order", "Calendar dates must follow each other."
)
DocumentsAlreadyCalled = _error(
    "DocumentsAlreadyCalled", "contest.documents_called", "The call for documents happens once."
)
RoundStarted = _error("RoundStarted", "contest.round_started", "Too late: the round is on.")
RegistrationClosed = _error(
    "RegistrationClosed", "registration.closed", "The registration deadline has passed."
)
ModificationClosed = _error(
    "ModificationClosed",
    "registration.modification_closed",
    "The deadline for changes to registrations has passed.",
)
RulesFrozen = _error("RulesFrozen", "rules.frozen", "Rules cannot change once the round started.")
RulesUnchanged = _error("RulesUnchanged", "rules.unchanged", "Publishing the same rules again.")
RulesNotPublished = _error("RulesNotPublished", "rules.not_published", "No rules version yet.")
AccountExists = _error("AccountExists", "account.exists", "Logins are unique.")
AccountNotFound = _error("AccountNotFound", "account.not_found", "No such account.")
RoleUnknown = _error("RoleUnknown", "account.role_unknown", "Not one of the contest's roles.")
SigningKeyRequired = _error(
    "SigningKeyRequired", "account.signing_key", "People hold a signing key; services do not."
)
AlreadyInTeam = _error("AlreadyInTeam", "account.in_team", "One account, one team.")
InvitationNotFound = _error(
    "InvitationNotFound", "team.invitation_not_found", "No open invitation with this token."
)
MemberNotFound = _error("MemberNotFound", "team.member_not_found", "No such member.")
OwnKeyRequired = _error(
    "OwnKeyRequired", "signature.own_key", "Sign only with a key opened by one's own password."
)
SignatureInvalid = _error(
    "SignatureInvalid", "signature.invalid", "A personal signature that does not verify."
)
SignatureRequired = _error(
    "SignatureRequired", "signature.required", "A decision with legal meaning is signed."
)
NotPermitted = _error("NotPermitted", "account.not_permitted", "The actor's role forbids it.")
TeamNotFound = _error("TeamNotFound", "team.not_found", "No such team.")
TeamNameMissing = _error("TeamNameMissing", "team.name_missing", "A team needs a name.")
TeamNameInvalid = _error(
    "TeamNameInvalid", "team.name_invalid", "A name with a hidden or reordering character."
)
TeamNameTaken = _error(
    "TeamNameTaken", "team.name_taken", "Another team of the contest has the same name."
)
TeamNotYours = _error("TeamNotYours", "team.not_yours", "A leader acts only for their own team.")
TeamSizeOutOfRange = _error("TeamSizeOutOfRange", "team.size", "A team has 2 to 5 people.")
LeaderCount = _error("LeaderCount", "team.one_leader", "A team has exactly one leader.")
MemberTwice = _error("MemberTwice", "team.member_twice", "The same person twice in one team.")
PersonInAnotherTeam = _error(
    "PersonInAnotherTeam", "team.person_taken", "A person may be in one team only."
)
OrganisationMissing = _error(
    "OrganisationMissing", "team.organisation_missing", "Every member names an organisation."
)
OrganisationInvalid = _error(
    "OrganisationInvalid",
    "team.organisation_invalid",
    "An organisation name with a hidden or reordering character.",
)
OrganisationCodeInvalid = _error(
    "OrganisationCodeInvalid",
    "team.organisation_code_invalid",
    "A unified social credit code has 18 characters of a fixed alphabet.",
)
LanguageUnknown = _error("LanguageUnknown", "team.language_unknown", "Only zh and en are offered.")
LanguageLocked = _error("LanguageLocked", "team.language_locked", "The language is fixed once set.")
LanguageMissing = _error("LanguageMissing", "team.language_missing", "No language chosen yet.")
StatusForbids = _error(
    "StatusForbids", "team.status_forbids", "The registration's state does not allow this."
)
TeamDisqualified = _error("TeamDisqualified", "team.disqualified", "The team is disqualified.")
TeamNotDisqualified = _error(
    "TeamNotDisqualified", "team.not_disqualified", "Nothing to clear: not disqualified."
)
TrackUnknown = _error("TrackUnknown", "team.track_unknown", "No such track.")
GroupUnknown = _error("GroupUnknown", "team.group_unknown", "No such group in the track.")
TrackAlreadyEntered = _error("TrackAlreadyEntered", "team.track_entered", "One group per track.")
TrackNotEntered = _error("TrackNotEntered", "team.track_not_entered", "The track was not entered.")
NoTrackEntered = _error("NoTrackEntered", "team.no_track", "A registration names a track.")
DocumentKindUnknown = _error(
    "DocumentKindUnknown", "team.document_kind_unknown", "Not one of the registration documents."
)
DocumentMissing = _error("DocumentMissing", "team.document_missing", "A required document.")
DocumentsNotCalled = _error(
    "DocumentsNotCalled", "team.documents_not_called", "Letters are uploaded only when called for."
)
ReasonRequired = _error("ReasonRequired", "decision.reason_required", "Decisions give reasons.")
BlacklistEmpty = _error("BlacklistEmpty", "blacklist.empty", "A list with no entries.")
BlacklistEntryInvalid = _error(
    "BlacklistEntryInvalid", "blacklist.entry_invalid", "A list line has no organisation."
)
BlacklistAlreadyImported = _error(
    "BlacklistAlreadyImported", "blacklist.imported", "The same list file twice."
)
MatchNotFound = _error("MatchNotFound", "blacklist.match_not_found", "No such blacklist match.")
UploadNotPdf = _error("UploadNotPdf", "upload.not_pdf", "The upload does not start as a PDF.")
UploadTooLarge = _error("UploadTooLarge", "upload.too_large", "The upload is over the size cap.")
UploadUnreadable = _error("UploadUnreadable", "upload.unreadable", "pypdf cannot parse it.")
UploadEncrypted = _error("UploadEncrypted", "upload.encrypted", "Encrypted PDFs are refused.")
UploadWithoutPages = _error("UploadWithoutPages", "upload.no_pages", "A PDF with no pages.")
UploadHasScript = _error(
    "UploadHasScript", "upload.script", "A PDF with JavaScript or a launch action."
)
UploadHasEmbeddedFile = _error(
    "UploadHasEmbeddedFile", "upload.embedded_file", "A PDF that carries other files."
)
ConcurrentChange = _error(
    "ConcurrentChange", "ledger.concurrent_change", "Lost an optimistic-concurrency race."
)
# submissions (issue 5)
SubmissionNotFound = _error("SubmissionNotFound", "submission.not_found", "No such submission.")
SubmissionWindowClosed = _error(
    "SubmissionWindowClosed",
    "submission.window_closed",
    "Models are submitted only inside the preliminary round.",
)
DailyQuotaReached = _error(
    "DailyQuotaReached", "submission.daily_quota", "The day's submissions are used up."
)
TotalQuotaReached = _error(
    "TotalQuotaReached", "submission.total_quota", "The track's submissions are used up."
)
ModelKindUnknown = _error(
    "ModelKindUnknown", "submission.model_kind_unknown", "A model is an image or a bundle."
)
ContentHashInvalid = _error(
    "ContentHashInvalid", "submission.hash_invalid", "Content is named by digest, never by tag."
)
FailureReasonUnknown = _error(
    "FailureReasonUnknown", "submission.failure_reason_unknown", "Not a known run failure."
)
ScoreBeforeInference = _error(
    "ScoreBeforeInference", "submission.not_inferred", "Scoring needs a completed inference."
)
ScoreInputsMismatch = _error(
    "ScoreInputsMismatch",
    "submission.score_inputs_mismatch",
    "A score computed from other inputs than the submission's.",
)
TestSetMissing = _error("TestSetMissing", "testset.missing", "The track has no test set yet.")
TestSetUnchanged = _error(
    "TestSetUnchanged", "testset.unchanged", "Registering the current test set again."
)
DebugPhaseOpen = _error("DebugPhaseOpen", "debug.already_open", "The debug phase is open.")
DebugPhaseClosed = _error("DebugPhaseClosed", "debug.already_closed", "No debug phase is open.")
# blacklist screening by hash, resumable (issue 10)
BlacklistNotFound = _error("BlacklistNotFound", "blacklist.not_found", "No list with that number.")
BlacklistUnreadable = _error(
    "BlacklistUnreadable",
    "blacklist.unreadable",
    "A list's file is missing from the blob store or no longer matches its hash.",
)
BlacklistContentMismatch = _error(
    "BlacklistContentMismatch",
    "blacklist.content_mismatch",
    "The entries given are not those of the stored list file.",
)
TeamAlreadyScreened = _error(
    "TeamAlreadyScreened", "blacklist.already_screened", "A screening marks each team once."
)
ScreeningIncomplete = _error(
    "ScreeningIncomplete", "blacklist.screening_incomplete", "Teams of the screening are due."
)
# experts (issue 11, point 2)
NotAnExpert = _error("NotAnExpert", "expert.not_expert", "Only an expert's account is enrolled.")
ExpertNotEnrolled = _error(
    "ExpertNotEnrolled", "expert.not_enrolled", "The expert acts only once enrolled."
)
ExpertAlreadyEnrolled = _error("ExpertAlreadyEnrolled", "expert.enrolled", "Enrolled once.")
ExpertNotYours = _error(
    "ExpertNotYours", "expert.not_yours", "An expert signs and declares only for themselves."
)
ExpertProfileIncomplete = _error(
    "ExpertProfileIncomplete",
    "expert.profile_incomplete",
    "An expert has fields and organisations.",
)
AgreementNotPublished = _error(
    "AgreementNotPublished", "expert.agreement_missing", "No confidentiality agreement yet."
)
AgreementUnchanged = _error(
    "AgreementUnchanged", "expert.agreement_unchanged", "Publishing the same agreement again."
)
AgreementNotCurrent = _error(
    "AgreementNotCurrent", "expert.agreement_not_current", "Only the version in force is signed."
)
# judging (issue 11): anonymised review, results, appeals, final round
RoundNotOver = _error(
    "RoundNotOver", "judging.round_not_over", "Judging starts once the preliminary round ends."
)
PseudonymInvalid = _error(
    "PseudonymInvalid", "review.pseudonym_invalid", "A pseudonym reads T<track>-<4 hex>."
)
PseudonymTaken = _error("PseudonymTaken", "review.pseudonym_taken", "Pseudonyms are unique.")
ReviewNotFound = _error("ReviewNotFound", "review.not_found", "No review under that pseudonym.")
ReviewReportNotClean = _error(
    "ReviewReportNotClean", "review.report_not_clean", "Experts get only a clean report."
)
ReviewReportNotHeld = _error(
    "ReviewReportNotHeld", "review.report_not_held", "A report is replaced only when asked."
)
ReviewAlreadyAssigned = _error(
    "ReviewAlreadyAssigned", "review.already_assigned", "A round of review is assigned once."
)
ReviewNotAssigned = _error(
    "ReviewNotAssigned", "review.not_assigned", "An expert scores only what they were given."
)
ReviewAlreadyScored = _error(
    "ReviewAlreadyScored", "review.already_scored", "An expert scores a submission once a round."
)
RubricMismatch = _error(
    "RubricMismatch", "review.rubric_mismatch", "A score sheet grades every dimension, once."
)
GradeNotALevel = _error(
    "GradeNotALevel", "review.grade_not_level", "Grades are the published levels only."
)
ReviewConflict = _error(
    "ReviewConflict", "review.conflict", "An expert with a conflict of interest does not score."
)
ReviewsIncomplete = _error(
    "ReviewsIncomplete", "results.reviews_incomplete", "Results wait for every expert score."
)
LeaderboardModeUnknown = _error(
    "LeaderboardModeUnknown", "results.mode_unknown", "The leaderboard has three modes."
)
ResultsNotPublished = _error(
    "ResultsNotPublished", "results.not_published", "Appeals follow published results."
)
AppealItemNotAppealable = _error(
    "AppealItemNotAppealable", "appeal.item", "The rules name the score items one may appeal."
)
AppealWindowClosed = _error(
    "AppealWindowClosed", "appeal.window_closed", "Appeals are filed within the window."
)
AppealExists = _error("AppealExists", "appeal.exists", "One appeal per score item.")
AppealNotFound = _error("AppealNotFound", "appeal.not_found", "No such appeal.")
AppealNothingScored = _error(
    "AppealNothingScored", "appeal.nothing_scored", "An appeal names a recorded score."
)
AppealNotYours = _error(
    "AppealNotYours", "appeal.not_yours", "Only the drawn arbitrators rule on an appeal."
)
AppealNotOpen = _error(
    "AppealNotOpen", "appeal.not_open", "An appeal is ruled once, after the draw."
)
AppealOutcomeUnknown = _error(
    "AppealOutcomeUnknown", "appeal.outcome_unknown", "A ruling dismisses or upholds."
)
RemedyNotAllowed = _error(
    "RemedyNotAllowed", "appeal.remedy_not_allowed", "Only the published remedies are ordered."
)
RemedyInvalid = _error("RemedyInvalid", "appeal.remedy_invalid", "A remedy names what it needs.")
RemedyNotPending = _error(
    "RemedyNotPending", "appeal.remedy_not_pending", "A remedy is carried out once, if ordered."
)
FinalAlreadyAdvanced = _error(
    "FinalAlreadyAdvanced", "final.already_advanced", "A track's finalists are named once."
)
FinalTooMany = _error("FinalTooMany", "final.too_many", "At most N teams per track advance.")
FinalGateFailed = _error(
    "FinalGateFailed", "final.gate_failed", "A team that failed a gate cannot advance."
)
FinalNotAdvanced = _error(
    "FinalNotAdvanced", "final.not_advanced", "Only finalists are scored and awarded."
)
FinalScoreInvalid = _error(
    "FinalScoreInvalid", "final.score_invalid", "On-site scores cover the four dimensions."
)
FinalAlreadyScored = _error(
    "FinalAlreadyScored", "final.already_scored", "An expert scores a finalist once."
)
FinalUnscored = _error("FinalUnscored", "final.unscored", "Awards follow the on-site scores.")
FinalAlreadyAwarded = _error(
    "FinalAlreadyAwarded", "final.already_awarded", "A track's awards are given once."
)
SubmissionStatusForbids = _error(
    "SubmissionStatusForbids", "submission.status_forbids", "The submission's state forbids it."
)
# retention and crypto-shredding (domain/retention.py)
RegistrationNotOver = _error(
    "RegistrationNotOver", "retention.registration_open", "Identities are hashed until then."
)
RegistrationReviewsPending = _error(
    "RegistrationReviewsPending", "retention.reviews_pending", "A review may still need them."
)
ScreeningUnfinished = _error(
    "ScreeningUnfinished", "retention.screening_unfinished", "A screening must finish first."
)
RetentionNotDue = _error(
    "RetentionNotDue", "retention.not_due", "Stored files are kept for the published period."
)
StoreKindUnknown = _error(
    "StoreKindUnknown", "retention.store_kind", "The rules name three kinds of stored files."
)
AlreadyShredded = _error("AlreadyShredded", "retention.already", "What is destroyed stays so.")
ContestNotOver = _error(
    "ContestNotOver", "retention.contest_not_over", "A contest closes after its final."
)
AppealsOpen = _error("AppealsOpen", "retention.appeals_open", "Open appeals need their files.")
AnnouncementNotFound = _error(
    "AnnouncementNotFound", "announcement.not_found", "No such announcement."
)
AnnouncementTextMissing = _error(
    "AnnouncementTextMissing",
    "announcement.text_missing",
    "An announcement speaks to everyone: a title and a body in Chinese and in English.",
)
AnnouncementUnchanged = _error(
    "AnnouncementUnchanged", "announcement.unchanged", "A revision that changes nothing."
)
AnnouncementWithdrawn = _error(
    "AnnouncementWithdrawn", "announcement.withdrawn", "A withdrawn announcement stays as it was."
)
