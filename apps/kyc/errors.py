from apps.core.errors import Conflict, DomainError, NotFound


class FileTooLarge(DomainError):
    code, http_status, message = "file_too_large", 400, "The file is too large."


class FileTypeNotAllowed(DomainError):
    code, http_status, message = "file_type_not_allowed", 400, "Upload a JPEG, PNG or PDF."


class FileActiveContent(DomainError):
    code, http_status = "file_active_content", 400
    message = "PDFs with scripts, actions, forms or attachments are not accepted; upload a scan."


class FileCorrupt(DomainError):
    code, http_status = "file_corrupt", 400
    message = "The file could not be read; take a new photo or scan."


class TooYoung(DomainError):
    code, http_status, message = "too_young", 400, "You must be 18 or older."


class ProfileIncomplete(DomainError):
    code, http_status = "profile_incomplete", 422
    message = "Complete your profile first."


class DocumentsMissing(DomainError):
    code, http_status = "documents_missing", 422
    message = "Some documents are still missing."


class CaseNotOpen(Conflict):
    code, message = "case_not_open", "There is no case you can change right now."


class IdentityLocked(Conflict):
    code = "identity_locked"
    message = (
        "These details were verified and cannot be edited; send the change with "
        '"reverify": true to open a new verification case.'
    )


class IllegalCaseTransition(Conflict):
    code, message = "illegal_case_transition", "The case cannot move to that state from here."


class FourEyes(DomainError):
    code, http_status = "four_eyes", 403
    message = "The final approval must come from a second reviewer."


class AlreadyAtTier(Conflict):
    code, message = "already_at_tier", "You are already verified at this level or higher."


class CaseNotWithdrawable(Conflict):
    code, message = "case_not_withdrawable", "This case is already decided; it cannot be withdrawn."


class ScreeningHitsPending(Conflict):
    code = "screening_hits_pending"
    message = "Every screening hit of this customer needs its own decision first."


class ScreeningTrueMatch(Conflict):
    code = "screening_true_match"
    message = "A screening hit of this customer was decided as a true match."


class HitAlreadyDecided(Conflict):
    code, message = "hit_already_decided", "This screening hit is already decided."


class HitNotFound(NotFound):
    code, message = "hit_not_found", "No such screening hit."


class LegalHoldUnchanged(Conflict):
    code, message = "legal_hold_unchanged", "The case is already in that legal hold state."


class ReasonRequired(DomainError):
    code, http_status, message = "reason_required", 400, "Give a reason."


class NotPermitted(DomainError):
    code, http_status, message = "permission_denied", 403, "You may not do this."


class ProfileNotFound(NotFound):
    code, message = "profile_not_found", "This customer has no KYC profile."


class CaseNotFound(NotFound):
    code, message = "case_not_found", "No such case."


class WebhookRejected(DomainError):
    code, http_status, message = "webhook_rejected", 400, "The webhook could not be verified."
