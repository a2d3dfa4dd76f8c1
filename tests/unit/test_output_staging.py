"""Output lines and manifests are parsed in one place, the package's staging SQL: both response
shapes (Converse, and each family's InvokeModel body), error lines, malformed lines, any key order."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.sql.staging import rows

JOB = "abcdefghijkl"
CLAUDE_LINE = ('{"modelInput":{"max_tokens":10},"modelOutput":{"id":"msg_bdrk_1","type":"message","role":"assistant",'
               '"model":"claude-3-haiku-20240307","content":[{"type":"text","text":"{\\"a\\": 1}"}],'
               '"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":111,"output_tokens":73}},'
               '"recordId":"meta_0_0"}')
CONVERSE_LINE = {"recordId": "CV", "modelInput": {"messages": [], "inferenceConfig": {"maxTokens": 300, "temperature": 0.2,
                                                                                     "topP": 0.9},
                                                  "additionalModelRequestFields": {"top_k": 40}},
                 "modelOutput": {"output": {"message": {"role": "assistant", "content": [{"text": "{}"}]}},
                                 "stopReason": "max_tokens", "usage": {"inputTokens": 69, "outputTokens": 44,
                                                                       "totalTokens": 113},
                                 "metrics": {"latencyMs": 537}}}


def _outputs(tmp_path: Path, *lines: str) -> dict[str, dict]:
    folder = tmp_path / "output" / JOB
    folder.mkdir(parents=True)
    (folder / "part-00000.jsonl.out").write_text("".join(line + "\n" for line in lines))
    return {r["record_id"] or r["malformed_line_excerpt"]: r for r in rows("stg_bedrock__batch_outputs", tmp_path)}


def test_invoke_model_claude_line_with_record_id_last(tmp_path: Path) -> None:
    r = _outputs(tmp_path, CLAUDE_LINE)["meta_0_0"]
    assert (r["answer_text"], r["input_tokens"], r["output_tokens"], r["stop_reason"], r["response_model"]) == (
        '{"a": 1}', 111, 73, "end_turn", "claude-3-haiku-20240307")
    assert (r["batch_job_id"], r["is_error"], r["is_malformed"], r["max_tokens"]) == (JOB, False, False, 10)


def test_converse_line(tmp_path: Path) -> None:
    r = _outputs(tmp_path, json.dumps(CONVERSE_LINE))["CV"]
    assert (r["answer_text"], r["input_tokens"], r["output_tokens"], r["stop_reason"]) == ("{}", 69, 44, "max_tokens")
    assert (r["max_tokens"], r["temperature"], r["top_p"], r["top_k"]) == (300, 0.2, 0.9, 40)
    assert r["response_model"] is None  # a Converse response names no model


def test_nova_and_llama_invoke_model_lines(tmp_path: Path) -> None:
    nova = {"recordId": "N", "modelOutput": {"output": {"message": {"content": [{"text": "x"}]}},
                                             "stopReason": "end_turn", "usage": {"inputTokens": 3, "outputTokens": 4}}}
    llama = {"recordId": "L", "modelOutput": {"generation": "y", "prompt_token_count": 5,
                                              "generation_token_count": 6, "stop_reason": "stop"}}
    got = _outputs(tmp_path, json.dumps(nova), json.dumps(llama))
    assert [(got[k]["answer_text"], got[k]["input_tokens"], got[k]["output_tokens"]) for k in "NL"] == [
        ("x", 3, 4), ("y", 5, 6)]


def test_titan_text_line_from_aws_docs(tmp_path: Path) -> None:
    """The Titan Text success line of AWS's batch results page (its us_en version, valid JSON)."""
    titan = ('{"recordId":"T","modelInput":{"inputText":"What color is the sky?","textGenerationConfig":'
             '{"maxTokenCount":50,"temperature":0.1,"topP":0.9}},"modelOutput":{"inputTextTokenCount":8,'
             '"results":[{"tokenCount":3,"outputText":"blue\\n","completionReason":"FINISH"}]}}')
    r = _outputs(tmp_path, titan)["T"]
    assert (r["answer_text"], r["input_tokens"], r["output_tokens"], r["stop_reason"]) == ("blue\n", 8, 3, "FINISH")
    assert (r["max_tokens"], r["temperature"], r["top_p"], r["is_error"], r["is_malformed"]) == (50, 0.1, 0.9, False, False)


def test_error_lines_with_and_without_retryable(tmp_path: Path) -> None:
    real = ('{"recordId":"R","modelInput":{},"error":{"errorCode":403,"errorMessage":"You invoked an '
            'unsupported model","expired":false,"retryable":false}}')
    old = '{"recordId":"S","error":{"errorCode":429,"errorMessage":"slow down"}}'
    got = _outputs(tmp_path, real, old)
    assert (got["R"]["error_code"], got["R"]["error_message"], got["R"]["is_error_retryable"]) == (
        "403", "You invoked an unsupported model", False)
    assert got["S"]["is_error"] and got["S"]["is_error_retryable"]


@pytest.mark.parametrize("raw", ['{"recordId":"R","modelOutput":{"con', '{"modelOutput":{}}'])
def test_malformed_lines_are_kept(tmp_path: Path, raw: str) -> None:
    (r,) = _outputs(tmp_path, raw).values()
    assert r["is_malformed"] and r["malformed_line_excerpt"] is not None or r["record_id"] is None


def test_manifest_with_extra_and_missing_keys(tmp_path: Path) -> None:
    for job, body in (("aaaaaaaaaaaa", '{"totalRecordCount":200,"processedRecordCount":200,"successRecordCount":199,'
                                       '"errorRecordCount":1,"inputTokenCount":13142,"outputTokenCount":84959,'
                                       '"inputAudioSecond":4}'),
                      ("bbbbbbbbbbbb", '{"totalRecordCount":1}')):
        (tmp_path / "output" / job).mkdir(parents=True)
        (tmp_path / "output" / job / "manifest.json.out").write_text(body)
    got = {r["batch_job_id"]: r for r in rows("stg_bedrock__batch_manifests", tmp_path)}
    a = got["aaaaaaaaaaaa"]
    assert (a["total_record_count"], a["error_record_count"], a["input_token_count"]) == (200, 1, 13142)
    assert got["bbbbbbbbbbbb"]["output_token_count"] is None


def _raw_outputs(tmp_path: Path, content: bytes) -> list[dict]:
    folder = tmp_path / "output" / JOB
    folder.mkdir(parents=True)
    (folder / "part-00000.jsonl.out").write_bytes(content)
    return rows("stg_bedrock__batch_outputs", tmp_path)


def test_each_line_is_read_whole_whatever_it_holds(tmp_path: Path) -> None:
    """The CSV reader that splits the lines must keep quotes, backslashes, separators and control
    characters as they are, read CRLF and a last line without a newline, and skip empty lines."""
    quoted = json.dumps({"recordId": "Q", "modelOutput": {"output": {"message": {"content": [
        {"text": 'say "hi",\\t\u00e9\u0001;|\x1f'}]}}}})
    content = (quoted.encode() + b"\r\n\n  \n" + b'{"recordId":"B","modelOutput":{"con' + b"\x01\n"
               + b'{"recordId":"L","error":{"errorCode":500,"errorMessage":"x"}}')
    got = _raw_outputs(tmp_path, content)
    by_id = {r["record_id"] or r["malformed_line_excerpt"]: r for r in got}
    assert by_id["Q"]["answer_text"] == 'say "hi",\\t\u00e9\u0001;|\x1f' and not by_id["Q"]["is_malformed"]
    assert by_id["L"]["is_error"] and by_id["L"]["error_code"] == "500"
    malformed = [r for r in got if r["is_malformed"]]  # the blank line and the cut line
    assert sorted(r["malformed_line_excerpt"] for r in malformed) == [
        "  ", '{"recordId":"B","modelOutput":{"con\x01']
    assert len(got) == 4


def test_a_raw_nul_byte_ends_a_line_read(tmp_path: Path) -> None:
    """The reader's delimiter is NUL, which no JSON line holds: text after it is not read, and a
    line that starts with one reads as empty (documented in the macro read_output_lines)."""
    got = _raw_outputs(tmp_path, b'{"recordId":"A"}\nnot json\x00hidden\n\x00starts with nul\n')
    assert sorted((r["record_id"] or "", r["malformed_line_excerpt"] or "") for r in got) == [("", "not json"), ("A", "")]


def test_line_ids_are_the_record_id_and_unique_whatever_repeats(tmp_path: Path) -> None:
    line = '{"recordId":"R1","modelOutput":{"output":{"message":{"content":[{"text":"a"}]}}}}'
    other = '{"recordId":"R1","modelOutput":{"output":{"message":{"content":[{"text":"b"}]}}}}'
    got = _raw_outputs(tmp_path, f"{line}\n{other}\nnot json\nnot json\n{{\n".encode())
    uri = str(tmp_path / "output" / JOB / "part-00000.jsonl.out")
    ids = sorted(r["output_line_id"] for r in got)
    bad = hashlib.md5(b"not json").hexdigest()
    assert ids == sorted([f"{uri}:R1", f"{uri}:R1#2", f"{uri}:line-{bad}", f"{uri}:line-{bad}#2",
                          f"{uri}:line-{hashlib.md5(b'{').hexdigest()}"])
    # the repeated recordId's numbering follows the answer, so a re-read gives the same ids
    assert {r["answer_text"]: r["output_line_id"] for r in got if r["record_id"]} == {
        "a": f"{uri}:R1", "b": f"{uri}:R1#2"}
