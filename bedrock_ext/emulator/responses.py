"""HTTP layer for Bedrock (control plane) and Bedrock Runtime: parse, call the backend, reply.

Routes and status codes follow botocore's rest-json service models `bedrock/2023-04-20` and
`bedrock-runtime/2023-09-30`; errors carry `x-amzn-ErrorType` and a `{"message": ...}` body.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from bedrock_ext.emulator import catalog, model_families, validation
from bedrock_ext.emulator.exceptions import (
    BedrockClientError,
    InternalServerException,
    ResourceNotFoundException,
    ThrottlingException,
    ValidationException,
)
from bedrock_ext.emulator.models import BatchBackend

Admin = Callable[[Request], Response]
# Body limits: the control plane's requests are a few KB; InvokeModel bodies carry a whole prompt.
# AWS does not publish either figure for Bedrock; these are ours, chosen to refuse abuse early.
MAX_CONTROL_BODY = 1024 * 1024
MAX_INVOKE_BODY = 25 * 1024 * 1024


class BedrockResponses:
    """Dispatches one request to the right operation of the backend."""

    def __init__(self, backend: BatchBackend, admin: Admin) -> None:
        self.backend, self.admin = backend, admin

    def __call__(self, request: Request) -> Response:
        """Every failure is an AWS-style 4xx; an unexpected one is a 500 InternalServerException."""
        try:
            _limit_body(request)
            return self._route(request)
        except BedrockClientError as err:
            return _error(err)
        except (HTTPException, OSError) as err:  # unreadable body: bad chunked encoding, too large, cut off
            return _error(ValidationException(f"The request body could not be read: {err}"))
        except (TypeError, AttributeError, KeyError, ValueError) as err:  # a member of the wrong type
            return _error(ValidationException(f"1 validation error detected: the request has a member of the "
                                              f"wrong type ({type(err).__name__}: {err})"))

    def _route(self, request: Request) -> Response:
        segments = [unquote(s) for s in _raw_path(request).strip("/").split("/")]
        method = request.method
        if segments[0] == "_emulator":
            return self.admin(request)
        if segments == ["model-invocation-job"] and method == "POST":
            return _json(self.backend.create_model_invocation_job(_body(request)))
        if segments == ["model-invocation-jobs"] and method == "GET":
            return _json(self.backend.list_model_invocation_jobs(request.args.to_dict()))
        if len(segments) == 3 and segments[0] == "model-invocation-job" and segments[2] == "stop":
            return _json(self.backend.stop_model_invocation_job(segments[1]))
        if len(segments) == 2 and segments[0] == "model-invocation-job" and method == "GET":
            return _json(self.backend.get_model_invocation_job(segments[1]))
        if segments == ["listTagsForResource"] and method == "POST":
            return _json(self.backend.list_tags_for_resource(_body(request)))
        if len(segments) == 3 and segments[0] == "model" and segments[2] in ("invoke", "converse"):
            return self._invoke(segments[1], request.get_data(),
                                "Converse" if segments[2] == "converse" else "InvokeModel")
        raise ResourceNotFoundException(f"No Bedrock operation at {method} {request.path}.")

    def _invoke(self, model_id: str, raw: bytes, invocation_type: str) -> Response:
        """bedrock-runtime InvokeModel and Converse: the same local model as batch, for the on-demand path."""
        faults = self.backend.config.faults
        h = hashlib.blake2b(f"{faults.seed}:".encode() + raw, digest_size=8).digest()
        roll = int.from_bytes(h, "big") / 2**64
        if roll < faults.record_error_rate:
            code = faults.record_error_codes[int(roll / faults.record_error_rate
                                                 * len(faults.record_error_codes))
                                             % len(faults.record_error_codes)]
            raise {429: ThrottlingException, 400: ValidationException}.get(
                code, InternalServerException)("Injected fault: the local emulator failed this call.")
        body = validation.parse_json(raw, "The request body", "Malformed input request: #: expected type: "
                                     "JSONObject, please reformat your input and try again.")
        if faults.invoke_latency_s:
            time.sleep(faults.invoke_latency_s)
        invalid = int.from_bytes(hashlib.blake2b(f"{faults.seed}:invalid:".encode() + raw, digest_size=8)
                                 .digest(), "big") / 2**64
        corrupt = invalid / faults.invalid_answer_rate if invalid < faults.invalid_answer_rate else None
        try:
            model = catalog.base_id(model_id, self.backend.config.application_inference_profiles)
            quirks = model_families.quirks(model, faults, corrupt)
            answer = model_families.invoke(model, body, invocation_type, quirks)
        except model_families.ModelInputError as err:
            raise ValidationException(err.message) from None
        self.backend.record_invocation(raw)
        return _json(answer)


def _limit_body(request: Request) -> None:
    """Refuse an oversized body from its Content-Length, before reading it; cap chunked bodies."""
    limit = MAX_INVOKE_BODY if request.path.endswith(("/invoke", "/converse")) else MAX_CONTROL_BODY
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ValidationException(f"The request body of {request.content_length} bytes is larger than the "
                                  f"limit of {limit} bytes.")


def _raw_path(request: Request) -> str:
    """The path before percent-decoding, so an ARN's encoded '/' stays inside its segment."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    return str(raw).split("?", 1)[0]


def _body(request: Request) -> dict[str, Any]:
    body = validation.parse_json(request.get_data() or b"{}", "The request body")
    if not isinstance(body, dict):
        raise ValidationException("The request body must be a JSON object.")
    return body


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json",
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})


def _error(err: BedrockClientError) -> Response:
    response = _json({"message": err.message}, status=err.status)
    response.headers["x-amzn-ErrorType"] = err.code
    return response
