"""AWS error shapes of the Bedrock control plane and runtime (codes and HTTP status from botocore)."""

from __future__ import annotations


class BedrockClientError(Exception):
    """An AWS error response: `x-amzn-ErrorType: <code>` with body `{"message": ...}`."""

    code = "InternalServerException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationException(BedrockClientError):
    code, status = "ValidationException", 400


class ServiceQuotaExceededException(BedrockClientError):
    code, status = "ServiceQuotaExceededException", 400


class ConflictException(BedrockClientError):
    code, status = "ConflictException", 400


class AccessDeniedException(BedrockClientError):
    code, status = "AccessDeniedException", 403


class ResourceNotFoundException(BedrockClientError):
    code, status = "ResourceNotFoundException", 404


class ThrottlingException(BedrockClientError):
    code, status = "ThrottlingException", 429


class InternalServerException(BedrockClientError):
    code, status = "InternalServerException", 500
