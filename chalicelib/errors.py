"""THE error catalogue: one class per errorCode, its HTTP status and message; one renderer per wire format.

Code below `api/` raises only these classes. Their base subclasses chalice's `ChaliceUnhandledError`,
which chalice re-raises to middleware; any other exception becomes chalice's own 500 before
middleware sees it (docs/architecture.md, "Errors"). The middleware in `api/middleware.py` picks the
renderer by path: hawkBit `ExceptionInfo` for `/rest/v1` and DDI, `{"errors": [...]}` for the
Device Configuration / Deployment Workflow APIs.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterable

from chalice.app import ChaliceUnhandledError, Response

_JAVA_PKG = "org.eclipse.hawkbit.repository.exception."


class SkyhawkError(ChaliceUnhandledError):
    status: int = 500
    code: str = "hawkbit.server.error.repo.genericError"
    exception_class: str = _JAVA_PKG + "GenericSpServerException"
    default_message: str = "An internal error occurred."
    # Reason used in the DCS/DWS code `mdsp.core.<service>.<reason>`.
    dcs_reason: str = "internalError"
    # DDI answers some situations with a bare status and no body (hawkBit: 401, 410, 404 on canceled).
    empty_body: bool = False

    def __init__(self, message: str | None = None, parameters: Iterable[Any] = (), headers: dict | None = None):
        self.message = message or self.default_message
        self.parameters = [str(p) for p in parameters]
        self.headers = headers or {}
        super().__init__(self.message)


# --- 400 -------------------------------------------------------------------------------------
class BadRequest(SkyhawkError):
    status, code, dcs_reason = 400, "hawkbit.server.error.repo.constraintViolation", "invalidRequest"
    exception_class = _JAVA_PKG + "ConstraintViolationException"
    default_message = "The request is invalid."


class BodyNotReadable(BadRequest):
    code = "hawkbit.server.error.rest.body.notReadable"
    exception_class = "org.springframework.http.converter.HttpMessageNotReadableException"
    default_message = "The given request body is not well formed."


class ConstraintViolation(BadRequest):
    pass


class QueryTooBroad(BadRequest):
    """skyhawk's own: a list whose `q` / `sort` would read more targets than one request may (README)."""

    code = "hawkbit.server.error.rest.param.rsqlTooBroad"
    default_message = "The query reads too many entities; narrow it with an indexed field."


class SortParamSyntax(BadRequest):
    code = "hawkbit.server.error.rest.param.sortParamSyntax"
    exception_class = "org.eclipse.hawkbit.rest.exception.SortParameterSyntaxErrorException"
    default_message = "The given sort parameter is not well formed."


class SortInvalidField(BadRequest):
    code = "hawkbit.server.error.rest.param.invalidField"
    exception_class = "org.eclipse.hawkbit.rest.exception.SortParameterUnsupportedFieldException"
    default_message = "The given sort parameter field does not exist."


class SortInvalidDirection(BadRequest):
    code = "hawkbit.server.error.rest.param.invalidDirection"
    exception_class = "org.eclipse.hawkbit.rest.exception.SortParameterUnsupportedDirectionException"
    default_message = "The given sort direction does not exist."


class RsqlSyntax(BadRequest):
    code = "hawkbit.server.error.rest.param.rsqlParamSyntax"
    exception_class = _JAVA_PKG + "RSQLParameterSyntaxException"
    default_message = "The given search parameter is not well formed."


class RsqlInvalidField(BadRequest):
    code = "hawkbit.server.error.rest.param.rsqlInvalidField"
    exception_class = _JAVA_PKG + "RSQLParameterUnsupportedFieldException"
    default_message = "The given search parameter field does not exist."


class InvalidTargetAttributes(BadRequest):
    code = "hawkbit.server.error.repo.invalidTargetAttributes"
    exception_class = _JAVA_PKG + "InvalidTargetAttributeException"
    default_message = "Target attributes are invalid."


class ChecksumMismatch(BadRequest):
    exception_class = "org.eclipse.hawkbit.artifact.repository.HashNotMatchException"
    default_message = "The given checksum does not match the uploaded file."

    def __init__(self, algorithm: str, message: str | None = None):
        self.code = f"hawkbit.server.error.artifact.uploadFailed.checksum.{algorithm}.match"
        super().__init__(message or f"The given {algorithm} checksum does not match the uploaded file.")


class MissingModule(BadRequest):
    code = "hawkbit.server.error.distributionset.creationFailed.missingModule"
    exception_class = _JAVA_PKG + "DistributionSetCreationFailedMissingMandatoryModuleException"
    default_message = "Distribution set is missing a mandatory module."


class ModuleUnsupported(BadRequest):
    code = "hawkbit.server.error.distributionset.modules.unsupported"
    exception_class = _JAVA_PKG + "UnsupportedSoftwareModuleForThisDistributionSetException"
    default_message = "The software module type is not supported by the distribution set type."


class IdempotencyKeyInvalid(BadRequest):
    code = "hawkbit.server.error.idempotencyKeyInvalid"
    default_message = "An Idempotency-Key must be 1 to 255 visible ASCII characters."


class DistributionSetTypeUndefined(BadRequest):
    code = "hawkbit.server.error.distributionset.type.undefined"
    exception_class = _JAVA_PKG + "DistributionSetTypeUndefinedException"
    default_message = "Distribution set type is not defined."


class DistributionSetIncomplete(BadRequest):
    code = "hawkbit.server.error.distributionset.incomplete"
    exception_class = _JAVA_PKG + "IncompleteDistributionSetException"
    default_message = "Distribution set is incomplete: a mandatory module is missing."


class DistributionSetInvalid(BadRequest):
    code = "hawkbit.server.error.distributionset.invalid"
    exception_class = _JAVA_PKG + "InvalidDistributionSetException"
    default_message = "Distribution set is invalid."


class ConfigValueInvalid(BadRequest):
    code = "hawkbit.server.error.configValueInvalid"
    exception_class = _JAVA_PKG + "TenantConfigurationValidatorException"
    default_message = "The given configuration value is invalid."


class ConfigKeyInvalid(BadRequest):
    code = "hawkbit.server.error.configKeyInvalid"
    exception_class = _JAVA_PKG + "InvalidTenantConfigurationKeyException"
    default_message = "The given configuration key is invalid."


class MaintenanceScheduleInvalid(BadRequest):
    code = "hawkbit.server.error.maintenanceScheduleInvalid"
    exception_class = _JAVA_PKG + "InvalidMaintenanceScheduleException"
    default_message = "The maintenance schedule is invalid."


class MultiAssignmentNotEnabled(BadRequest):
    code = "hawkbit.server.error.multiAssignmentNotEnabled"
    exception_class = _JAVA_PKG + "MultiAssignmentIsNotEnabledException"
    default_message = "Multi assignments are not enabled for this tenant."


class NoWeightProvided(BadRequest):
    code = "hawkbit.server.error.noWeightProvidedInMultiAssignmentMode"
    exception_class = _JAVA_PKG + "NoWeightProvidedInMultiAssignmentModeException"
    default_message = "A weight is required while multi assignments are enabled."


class TargetTypeIncompatible(BadRequest):
    code = "hawkbit.server.error.target.type.incompatible"
    exception_class = _JAVA_PKG + "IncompatibleTargetTypeException"
    default_message = "The target type is not compatible with the distribution set's type."


class InvalidAutoAssignActionType(BadRequest):
    code = "hawkbit.server.error.repo.invalidAutoAssignActionType"
    exception_class = _JAVA_PKG + "InvalidAutoAssignActionTypeException"


class RolloutIllegalState(BadRequest):
    """A rollout operation its current status does not allow (start a running rollout, pause a paused one...)."""

    code = "hawkbit.server.error.rollout.illegalState"
    exception_class = _JAVA_PKG + "RolloutIllegalStateException"
    default_message = "The rollout is in the wrong state for the requested operation"


class EncryptionNotSupported(BadRequest):
    code = "hawkbit.server.error.artifact.encryptionNotSupported"
    exception_class = _JAVA_PKG + "ArtifactEncryptionUnsupportedException"
    default_message = "Artifact encryption is not supported by this server."


# --- 401 / 403 -------------------------------------------------------------------------------
class Unauthorized(SkyhawkError):
    status, code, dcs_reason = 401, "hawkbit.server.error.unauthorized", "unauthorized"
    exception_class = "org.springframework.security.authentication.BadCredentialsException"
    default_message = "Full authentication is required to access this resource."


class DeviceUnauthorized(Unauthorized):
    """DDI answers a bare 401 (hawkBit's stateless controller filter chain)."""

    empty_body = True


class InsufficientPermission(SkyhawkError):
    status, code, dcs_reason = 403, "hawkbit.server.error.insufficientPermission", "forbidden"
    exception_class = _JAVA_PKG + "InsufficientPermissionException"
    default_message = "Insufficient permission."


class EntityReadOnly(InsufficientPermission):
    code = "hawkbit.server.error.entityReadOnly"
    exception_class = _JAVA_PKG + "EntityReadOnlyException"
    default_message = "The entity is read-only."


class ConfigValueChangeNotAllowed(InsufficientPermission):
    code = "hawkbit.server.error.repo.tenantConfigurationValueChangeNotAllowed"
    exception_class = _JAVA_PKG + "TenantConfigurationValueChangeNotAllowedException"
    default_message = "The configuration value cannot be changed."


# --- 404 / 405 / 409 / 410 / 412 / 423 / quota (403) ----------------------------------------------
class EntityNotFound(SkyhawkError):
    status, code, dcs_reason = 404, "hawkbit.server.error.repo.entityNotFound", "notFound"
    exception_class = _JAVA_PKG + "EntityNotFoundException"
    default_message = "The requested entity does not exist."

    @classmethod
    def of(cls, entity_type: str, entity_id: Any) -> "EntityNotFound":
        return cls(f"{entity_type} with given identifier {{{entity_id}}} does not exist.", [entity_type, entity_id])


class RouteNotFound(EntityNotFound):
    """No such resource at all (Spring: no handler); API Gateway's gateway responses render it too."""

    code = "hawkbit.server.error.notFound"
    exception_class = "org.springframework.web.servlet.NoHandlerFoundException"
    default_message = "The requested resource does not exist."


class NotFoundNoBody(EntityNotFound):
    """DDI deploymentBase of a canceled/waiting action: bare 404."""

    empty_body = True


class ActionNotCancelable(SkyhawkError):
    status, code, dcs_reason = 405, "hawkbit.server.error.action.notCancelable", "notAllowed"
    exception_class = _JAVA_PKG + "CancelActionNotAllowedException"
    default_message = "Only active actions which are in status pending can be canceled."


class ActionNotForceQuitable(ActionNotCancelable):
    code = "hawkbit.server.error.action.notForceQuitable"
    exception_class = _JAVA_PKG + "ForceQuitActionNotAllowedException"
    default_message = "Only actions in status canceling can be force quit."


class MethodNotAllowed(SkyhawkError):
    status, code, dcs_reason = 405, "hawkbit.server.error.methodNotAllowed", "methodNotAllowed"
    exception_class = "org.springframework.web.HttpRequestMethodNotSupportedException"
    default_message = "The http request method is not allowed on the resource."


class NotAcceptable(SkyhawkError):
    status, code, dcs_reason = 406, "hawkbit.server.error.notAcceptable", "notAcceptable"
    exception_class = "org.springframework.web.HttpMediaTypeNotAcceptableException"
    default_message = "The requested media type is not supported."


class DeviceNotAcceptable(NotAcceptable):
    """DDI: no representation (hal+json, json, cbor) fits the Accept header; a bare 406, as Spring answers."""

    empty_body = True


class TargetTypeInUse(SkyhawkError):
    status, code, dcs_reason = 409, "hawkbit.server.error.target.type.used", "conflict"
    exception_class = _JAVA_PKG + "TargetTypeInUseException"
    default_message = "The target type is in use by targets."


class EntityAlreadyExists(SkyhawkError):
    status, code, dcs_reason = 409, "hawkbit.server.error.repo.entityAlreadyExists", "conflict"
    exception_class = _JAVA_PKG + "EntityAlreadyExistsException"
    default_message = "The given entity already exists in database."


class ConcurrentModification(SkyhawkError):
    status, code, dcs_reason = 409, "hawkbit.server.error.repo.concurrentModification", "conflict"
    exception_class = _JAVA_PKG + "ConcurrentModificationException"
    default_message = "The entity was modified by another request at the same time; retry."


class AlreadyApplied(SkyhawkError):
    """skyhawk's own, never on the wire: a redelivered queue message whose change was committed before (its
    idempotency marker was in the same transaction). Not a ConcurrentModification: it is not retried."""

    status, code, dcs_reason = 409, "hawkbit.server.error.repo.entityAlreadyExists", "conflict"
    exception_class = _JAVA_PKG + "EntityAlreadyExistsException"
    default_message = "The message was applied before."


class DmfNotEnabled(SkyhawkError):
    """skyhawk's own, never on the wire: a DMF message for a tenant whose `dmf.enabled` is off (or that does not
    exist: its keys are the defaults). The message goes to the DMF dead-letter queue with this code."""

    status, code, dcs_reason = 403, "hawkbit.server.error.dmf.notEnabled", "forbidden"
    exception_class = _JAVA_PKG + "TenantNotExistException"
    default_message = "Device Management Federation is not enabled for the tenant."


class DmfSenderNotAllowed(SkyhawkError):
    """skyhawk's own, never on the wire: a DMF message whose sending principal (SQS's SenderId) is not among the
    tenant's `dmf.senders` (or none are listed and the deployment requires them). Dead-lettered with this code."""

    status, code, dcs_reason = 403, "hawkbit.server.error.dmf.senderNotAllowed", "forbidden"
    exception_class = _JAVA_PKG + "InsufficientPermissionException"
    default_message = "The sender may not send DMF messages for the tenant."


class AutoConfirmAlreadyActive(SkyhawkError):
    status, code, dcs_reason = 409, "hawkbit.server.error.repo.autoConfAlreadyActive", "conflict"
    exception_class = _JAVA_PKG + "AutoConfirmationAlreadyActiveException"
    default_message = "Auto confirmation is already active"

    @classmethod
    def of(cls, controller_id: str) -> "AutoConfirmAlreadyActive":
        return cls(f"Auto confirmation is already active for device {controller_id}", [controller_id])


class IllegalStateTransition(SkyhawkError):
    """DCS/DWS: a transition the model lacks, or one the caller may not trigger."""

    status, code, dcs_reason = 409, "hawkbit.server.error.repo.illegalState", "invalidTransition"
    exception_class = _JAVA_PKG + "IllegalStateException"
    default_message = "The requested state transition is not allowed."


class EntityInUse(SkyhawkError):
    status, code, dcs_reason = 409, "hawkbit.server.error.target.type.used", "conflict"
    exception_class = _JAVA_PKG + "TargetTypeInUseException"
    default_message = "The entity is in use."


class IdempotentRequestInProgress(SkyhawkError):
    """A request with the same Idempotency-Key is still being answered (IETF draft idempotency-key-header: 409)."""

    status, code, dcs_reason = 409, "hawkbit.server.error.idempotentRequestInProgress", "conflict"
    default_message = "A request with this Idempotency-Key is in progress; retry after the time given in Retry-After."
    RETRY_AFTER_SECONDS = 1

    def __init__(self, message: str | None = None):
        super().__init__(message, headers={"Retry-After": str(self.RETRY_AFTER_SECONDS)})


class Gone(SkyhawkError):
    """DDI feedback on a closed action: hawkBit answers 410 with no body."""

    status, code, dcs_reason = 410, "hawkbit.server.error.gone", "gone"
    default_message = "The action is no longer active."
    empty_body = True


class BinaryDeleted(SkyhawkError):
    status, code, dcs_reason = 410, "hawkbit.server.error.artifact.binaryDeleted", "gone"
    exception_class = _JAVA_PKG + "ArtifactBinaryGoneException"
    default_message = "The artifact binary was deleted."


class PreconditionFailed(SkyhawkError):
    status, code, dcs_reason = 412, "hawkbit.server.error.preconditionFailed", "preconditionFailed"
    exception_class = _JAVA_PKG + "PreconditionFailedException"
    default_message = "The given precondition (If-Match) does not match the current state."


class PayloadTooLarge(SkyhawkError):
    status, code, dcs_reason = 413, "hawkbit.server.error.payloadTooLarge", "payloadTooLarge"
    default_message = "The request body is too large."


class UnsupportedMediaType(SkyhawkError):
    status, code, dcs_reason = 415, "hawkbit.server.error.unsupportedMediaType", "unsupportedMediaType"
    exception_class = "org.springframework.web.HttpMediaTypeNotSupportedException"
    default_message = "The request media type is not supported."


class RangeNotSatisfiable(SkyhawkError):
    status, code, dcs_reason = 416, "hawkbit.server.error.rangeNotSatisfiable", "rangeNotSatisfiable"
    default_message = "The requested range is not satisfiable."


class IdempotencyKeyReused(SkyhawkError):
    """The Idempotency-Key was used with another body or query (IETF draft idempotency-key-header: 422)."""

    status, code, dcs_reason = 422, "hawkbit.server.error.idempotencyKeyReused", "idempotencyKeyReused"
    default_message = (
        "This Idempotency-Key was used for a different request (body or query); use a new key for a new request."
    )


class Locked(SkyhawkError):
    status, code, dcs_reason = 423, "hawkbit.server.error.locked", "locked"
    exception_class = _JAVA_PKG + "LockedException"
    default_message = "The entity is locked."


class RoleInUse(EntityInUse):
    code = "hawkbit.server.error.role.used"
    exception_class = _JAVA_PKG + "EntityInUseException"
    default_message = "The role is held by users."


class LastUserAdmin(SkyhawkError):
    """409: the change would leave the tenant without a user who can manage users (nobody could undo it)."""

    status, code, dcs_reason = 409, "hawkbit.server.error.user.lastAdmin", "conflict"
    exception_class = _JAVA_PKG + "LastUserAdminException"
    default_message = "The tenant's last user holding USER_ADMIN cannot lose it."


class TooManyRequests(SkyhawkError):
    """429 with Retry-After (seed 002: "the client has to wait another second"). hawkBit's DosFilter answers
    a bare 429; skyhawk sends the error body every other refusal carries."""

    status, code, dcs_reason = 429, "hawkbit.server.error.tooManyRequests", "tooManyRequests"
    exception_class = "org.eclipse.hawkbit.rest.security.TooManyRequestsException"
    default_message = "Too many requests. The server refuses further attempts until Retry-After seconds passed."

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message, [str(retry_after)], headers={"Retry-After": str(retry_after)})


class QuotaExceeded(SkyhawkError):
    """403: seed 002 (the product's spec) answers a data-volume restriction with 403 and keeps 429 for rate
    limiting; hawkBit itself moved quota hits to 429 (PR #2834). README "Compatibility notes"."""

    status, code, dcs_reason = 403, "hawkbit.server.error.quota.tooManyEntries", "quotaExceeded"
    exception_class = _JAVA_PKG + "AssignmentQuotaExceededException"
    default_message = "Quota exceeded."


class FileSizeQuotaExceeded(QuotaExceeded):
    code = "hawkbit.server.error.quota.fileSizeExceeded"
    exception_class = _JAVA_PKG + "FileSizeQuotaExceededException"
    default_message = "The file exceeds the maximum artifact size."


class StorageQuotaExceeded(QuotaExceeded):
    code = "hawkbit.server.error.quota.storageExceeded"
    exception_class = _JAVA_PKG + "StorageQuotaExceededException"
    default_message = "The artifact storage quota of the tenant is exhausted."


class InternalError(SkyhawkError):
    pass


class ServiceUnavailable(SkyhawkError):
    """An AWS dependency is unreachable, throttling or failing: the request can be repeated after a while."""

    status, code, dcs_reason = 503, "hawkbit.server.error.serviceUnavailable", "serviceUnavailable"
    exception_class = "org.springframework.dao.TransientDataAccessResourceException"
    default_message = "The service is temporarily unavailable; retry after the time given in Retry-After."
    RETRY_AFTER_SECONDS = 2

    def __init__(self, message: str | None = None, retry_after: int = RETRY_AFTER_SECONDS):
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ArtifactUploadFailed(SkyhawkError):
    code = "hawkbit.server.error.artifact.uploadFailed"
    exception_class = "org.eclipse.hawkbit.artifact.repository.ArtifactStoreException"
    default_message = "Artifact upload failed."


# --- renderers -------------------------------------------------------------------------------
_JSON_HEADERS = {"Content-Type": "application/json"}


def hawkbit_body(error: SkyhawkError) -> dict[str, Any]:
    """hawkBit's ExceptionInfo, whatever the representation (JSON, or CBOR for a DDI client asking for it)."""
    return {
        "exceptionClass": error.exception_class,
        "errorCode": error.code,
        "message": error.message,
        "parameters": error.parameters,
    }


def render_hawkbit(error: SkyhawkError) -> Response:
    headers = dict(error.headers)
    if error.empty_body:
        return Response(body="", status_code=error.status, headers=headers)
    return Response(
        body=json.dumps(hawkbit_body(error)), status_code=error.status, headers={**_JSON_HEADERS, **headers}
    )


def render_dcs(error: SkyhawkError, service: str, logref: str | None = None) -> Response:
    body = {
        "errors": [
            {
                "code": f"mdsp.core.{service}.{error.dcs_reason}",
                "logref": logref or uuid.uuid4().hex,
                "message": error.message,
            }
        ]
    }
    return Response(body=json.dumps(body), status_code=error.status, headers={**_JSON_HEADERS, **error.headers})
