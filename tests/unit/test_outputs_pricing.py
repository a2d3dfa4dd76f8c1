"""outputs.py (lines and manifests, any key order) and pricing.py (batch vs on-demand)."""

from __future__ import annotations

import json

import pytest

from bedrock_ext.errors import ConfigError
from bedrock_ext.outputs import ErrorLine, MalformedLine, SuccessLine, parse_manifest, parse_output_line
from bedrock_ext.pricing import cost, price_for

CLAUDE_LINE = ('{"modelInput":{"max_tokens":10},"modelOutput":{"id":"msg_bdrk_1","type":"message","role":"assistant",'
               '"model":"claude-3-haiku-20240307","content":[{"type":"text","text":"{\\"a\\": 1}"}],'
               '"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":111,"output_tokens":73}},'
               '"recordId":"meta_0_0"}')


def test_success_line_with_record_id_last() -> None:
    line = parse_output_line(CLAUDE_LINE)
    assert line == SuccessLine(record_id="meta_0_0", text='{"a": 1}', input_tokens=111, output_tokens=73,
                               stop_reason="end_turn", model="claude-3-haiku-20240307")


def test_error_lines_with_and_without_retryable() -> None:
    real = ('{"recordId":"R","modelInput":{},"error":{"errorCode":403,"errorMessage":"You invoked an '
            'unsupported model","expired":false,"retryable":false}}')
    assert parse_output_line(real) == ErrorLine(record_id="R", error_code=403,
                                                error_message="You invoked an unsupported model", is_retryable=False)
    old = parse_output_line('{"recordId":"R","error":{"errorCode":429,"errorMessage":"slow down"}}')
    assert isinstance(old, ErrorLine) and old.is_retryable


@pytest.mark.parametrize("raw", ['{"recordId":"R","modelOutput":{"con', '{"modelOutput":{}}', '{"recordId":"R"}'])
def test_malformed_lines_are_kept_with_a_reason(raw: str) -> None:
    line = parse_output_line(raw)
    assert isinstance(line, MalformedLine) and line.raw == raw and line.reason


def test_nova_and_llama_lines() -> None:
    nova = {"recordId": "N", "modelOutput": {"output": {"message": {"content": [{"text": "x"}]}},
                                             "stopReason": "end_turn", "usage": {"inputTokens": 3, "outputTokens": 4}}}
    llama = {"recordId": "L", "modelOutput": {"generation": "y", "prompt_token_count": 5,
                                              "generation_token_count": 6, "stop_reason": "stop"}}
    n, ll = parse_output_line(json.dumps(nova)), parse_output_line(json.dumps(llama))
    assert isinstance(n, SuccessLine) and (n.text, n.input_tokens, n.output_tokens) == ("x", 3, 4)
    assert isinstance(ll, SuccessLine) and (ll.text, ll.input_tokens, ll.output_tokens) == ("y", 5, 6)


def test_manifest_with_extra_and_missing_keys() -> None:
    m = parse_manifest('{"totalRecordCount":200,"processedRecordCount":200,"successRecordCount":199,'
                       '"errorRecordCount":1,"inputTokenCount":13142,"outputTokenCount":84959,"inputAudioSecond":4}')
    assert (m.total_record_count, m.error_record_count, m.input_token_count) == (200, 1, 13142)
    assert parse_manifest('{"totalRecordCount":1}').output_token_count is None


def test_batch_is_half_of_on_demand() -> None:
    price = price_for("us.anthropic.claude-3-haiku-20240307-v1:0")
    c = cost(price, 1_000_000, 1_000_000)
    assert (c.on_demand_usd, c.batch_usd, c.savings_usd) == (1.5, 0.75, 0.75)
    assert cost(price, 13_142, 84_959).batch_usd == pytest.approx((13_142 * 0.125 + 84_959 * 0.625) / 1e6, abs=1e-6)


def test_unknown_model_price_names_the_model() -> None:
    with pytest.raises(ConfigError, match="acme.x"):
        price_for("acme.x")
