"""What a batch job does with its data: validate the input JSONL, run each record, write outputs.

Output layout as Bedrock writes it: ``<output s3Uri>/<jobId>/<input file name>.out`` (one per input
file, lines in no particular order) and ``<output s3Uri>/<jobId>/manifest.json.out``.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from bedrock_ext.emulator import model_families, validation
from bedrock_ext.emulator.config import Faults, Quotas
from bedrock_ext.emulator.exceptions import ValidationException
from bedrock_ext.emulator.spool import Counts, ResultSpool

_ERROR_MESSAGES = {
    429: ("Too many requests, please wait before trying again.", True),
    500: ("The system encountered an unexpected error during processing. Try your request again.", True),
    400: ("Malformed input request, please reformat your input and try again.", False),
}


class ObjectStore(Protocol):
    def list_keys(self, bucket: str, prefix: str) -> list[tuple[str, int]]: ...
    def download(self, bucket: str, key: str, fileobj: BinaryIO) -> None: ...
    def put(self, bucket: str, key: str, body: bytes | BinaryIO) -> None: ...


class InputInvalid(Exception):
    """The job's input fails validation: the job ends Failed with this message."""


@dataclass(frozen=True)
class InputRecord:
    """One input record. The modelInput is kept as its JSON text and parsed when the record runs."""

    file_name: str
    record_id: str
    model_input_json: str

    @property
    def model_input(self) -> Any:
        return json.loads(self.model_input_json)

    @classmethod
    def of(cls, file_name: str, record_id: str, model_input: Any) -> InputRecord:
        return cls(file_name, record_id, json.dumps(model_input, ensure_ascii=False, separators=(",", ":")))


@dataclass(frozen=True)
class RecordResult:
    file_name: str
    line: str
    is_error: bool
    input_tokens: int
    output_tokens: int


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def validate_input(store: ObjectStore, uri: str, quotas: Quotas) -> int:
    """Every record of every ``.jsonl`` file under ``uri`` (a file or a prefix) read and checked
    against the format and the quotas, as Bedrock validates a job: the record count (records are
    not kept)."""
    seen: set[str] = set()
    for record in iter_input(store, uri, quotas):
        if record.record_id in seen:
            raise InputInvalid(f"Duplicate recordId {record.record_id} in {record.file_name}; "
                               "every recordId in a job must be unique.")
        seen.add(record.record_id)
    _check_record_count(len(seen), quotas)
    return len(seen)


def iter_input(store: ObjectStore, uri: str, quotas: Quotas) -> Iterator[InputRecord]:
    """The input's records, file by file, each file streamed from a local temporary copy (a job's
    input never sits in memory whole)."""
    bucket, _ = split_s3_uri(uri)
    for key, _ in _input_files(store, uri, quotas):
        with tempfile.TemporaryFile(prefix="bedrock-ext-emulator-input-") as copy:
            store.download(bucket, key, copy)
            copy.seek(0)
            yield from _parse_file(key, copy, quotas)


def _input_files(store: ObjectStore, uri: str, quotas: Quotas) -> list[tuple[str, int]]:
    bucket, prefix = split_s3_uri(uri)
    try:
        listed = store.list_keys(bucket, prefix)
    except Exception as err:  # noqa: BLE001 - any S3 failure is a job failure, as on AWS
        raise InputInvalid(f"Unable to read the input location {uri}: {err}") from None
    files = [(k, size) for k, size in listed if k.endswith(".jsonl")]
    if not files:
        raise InputInvalid(f"No .jsonl files were found at the input location {uri}.")
    _check_sizes(files, quotas)
    return files


def _check_sizes(files: list[tuple[str, int]], quotas: Quotas) -> None:
    for key, size in files:
        if size > quotas.max_bytes_per_file:
            raise InputInvalid(f"The input file {key} is {size} bytes, which exceeds the "
                               f"quota of {quotas.max_bytes_per_file} bytes per file.")
    total = sum(size for _, size in files)
    if total > quotas.max_bytes_per_job:
        raise InputInvalid(f"The job input is {total} bytes, which exceeds the quota of "
                           f"{quotas.max_bytes_per_job} bytes per job.")


def _parse_file(key: str, lines: Iterable[bytes], quotas: Quotas) -> Iterator[InputRecord]:
    name = key.rsplit("/", 1)[-1]
    count = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = validation.parse_json(raw, f"Line {number} of {name}")
        except ValidationException as err:
            raise InputInvalid(err.message) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("modelInput"), dict):
            raise InputInvalid(f"Line {number} of {name} has no modelInput object.")
        record_id = obj.get("recordId")
        if record_id is not None and not isinstance(record_id, str):
            raise InputInvalid(f"Line {number} of {name}: recordId must be a string.")
        count += 1
        if count > quotas.max_records_per_file:
            raise InputInvalid(f"The input file {name} has more than {quotas.max_records_per_file} records, "
                               f"which exceeds the quota of {quotas.max_records_per_file} records per file.")
        yield InputRecord.of(name, record_id or _generated_id(name, number), obj["modelInput"])


def _check_record_count(n: int, quotas: Quotas) -> None:
    if n < quotas.min_records_per_job:
        raise InputInvalid(f"The job has {n} records, fewer than the minimum of "
                           f"{quotas.min_records_per_job} records per batch inference job.")
    if n > quotas.max_records_per_job:
        raise InputInvalid(f"The job has {n} records, more than the maximum of "
                           f"{quotas.max_records_per_job} records per batch inference job.")


def _generated_id(file_name: str, line: int) -> str:
    digest = hashlib.sha256(f"{file_name}:{line}".encode()).hexdigest().upper()
    return digest[:11]


def _roll(seed: int, job_id: str, record_id: str, salt: str) -> float:
    h = hashlib.blake2b(f"{seed}:{job_id}:{record_id}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def run_record(record: InputRecord, model_id: str, job_id: str, faults: Faults,
               invocation_type: str = "InvokeModel") -> RecordResult:
    """One output line for one record: modelOutput (a Converse or InvokeModel response body, by the
    job's invocation type), or an error object (injected or real)."""
    model_input = record.model_input
    line: dict[str, Any] = {"modelInput": model_input}
    tokens = (0, 0)
    roll = _roll(faults.seed, job_id, record.record_id, "error")
    if roll < faults.record_error_rate:
        codes = faults.record_error_codes
        code = codes[int(roll / faults.record_error_rate * len(codes)) % len(codes)]
        line["error"] = _error(code, _ERROR_MESSAGES.get(code, _ERROR_MESSAGES[500])[0])
    else:
        invalid = _roll(faults.seed, job_id, record.record_id, "invalid")
        corrupt = invalid / faults.invalid_answer_rate if invalid < faults.invalid_answer_rate else None
        try:
            output = model_families.invoke(model_id, model_input, invocation_type,
                                           model_families.quirks(model_id, faults, corrupt))
        except model_families.ModelInputError as err:
            line["error"] = _error(err.code, err.message)
        else:
            line["modelOutput"] = output
            tokens = model_families.usage_of(output)
    line["recordId"] = record.record_id
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    if _roll(faults.seed, job_id, record.record_id, "malformed") < faults.malformed_line_rate:
        text = text[: len(text) // 2]
    return RecordResult(record.file_name, text, "error" in line, *tokens)


def _error(code: int, message: str) -> dict[str, Any]:
    retryable = _ERROR_MESSAGES.get(code, ("", code >= 500))[1]
    return {"errorCode": code, "errorMessage": message, "expired": False, "retryable": retryable}


def run_input(store: ObjectStore, uri: str, quotas: Quotas, spool: ResultSpool, model_id: str,
              job_id: str, faults: Faults, invocation_type: str) -> None:
    """Run every record of the input into ``spool``, in input order."""
    for record in iter_input(store, uri, quotas):
        result = run_record(record, model_id, job_id, faults, invocation_type)
        spool.add(result.file_name, result.line, result.is_error, result.input_tokens, result.output_tokens)


def write_outputs(store: ObjectStore, output_uri: str, total: int, spool: ResultSpool, processed: int,
                  write_manifest: bool) -> None:
    """Write one ``.out`` file per input file holding the first ``processed`` records' lines, and
    the manifest, under ``<output>/<jobId>/``."""
    bucket, prefix = split_s3_uri(output_uri.rstrip("/") + "/" + spool.job_id + "/")
    for name in sorted(spool.file_names):
        with tempfile.TemporaryFile(prefix="bedrock-ext-emulator-output-") as body:
            body.writelines(spool.lines(processed, name))
            body.seek(0)
            store.put(bucket, f"{prefix}{name}.out", body)
    if write_manifest:
        store.put(bucket, f"{prefix}manifest.json.out",
                  json.dumps(manifest(total, spool.counts(processed)), separators=(",", ":")).encode())


def manifest(total: int, counts: Counts) -> dict[str, int]:
    return {
        "totalRecordCount": total,
        "processedRecordCount": counts.processed,
        "successRecordCount": counts.processed - counts.errors,
        "errorRecordCount": counts.errors,
        "inputTokenCount": counts.input_tokens,
        "outputTokenCount": counts.output_tokens,
    }
