{# ---------- Model families as data, SQL side: where each body shape carries the answer's text, the
   tokens, the stop reason and the request's parameters in an output line. The SQL twin of
   bedrock_ext.request.families.RESPONSE_SHAPES (tests/unit/test_families.py holds them equal); the output
   staging reads every shape through output_line_paths, each field's first non-null path counting. #}

{% macro response_shapes() -%}
    {{ return([
        {'name': 'anthropic_messages', 'paths': {
            'answer_text': ['$.modelOutput.content[0].text'], 'stop_reason': ['$.modelOutput.stop_reason'],
            'input_tokens': ['$.modelOutput.usage.input_tokens'], 'output_tokens': ['$.modelOutput.usage.output_tokens'],
            'max_tokens': ['$.modelInput.max_tokens'], 'temperature': ['$.modelInput.temperature'],
            'top_p': ['$.modelInput.top_p'], 'top_k': ['$.modelInput.top_k']}},
        {'name': 'converse', 'paths': {
            'answer_text': ['$.modelOutput.output.message.content[0].text'], 'stop_reason': ['$.modelOutput.stopReason'],
            'input_tokens': ['$.modelOutput.usage.inputTokens'], 'output_tokens': ['$.modelOutput.usage.outputTokens'],
            'max_tokens': ['$.modelInput.inferenceConfig.maxTokens'],
            'temperature': ['$.modelInput.inferenceConfig.temperature'], 'top_p': ['$.modelInput.inferenceConfig.topP'],
            'top_k': ['$.modelInput.inferenceConfig.topK', '$.modelInput.additionalModelRequestFields.top_k',
                      '$.modelInput.additionalModelRequestFields.inferenceConfig.topK']}},
        {'name': 'llama', 'paths': {
            'answer_text': ['$.modelOutput.generation'], 'stop_reason': ['$.modelOutput.stop_reason'],
            'input_tokens': ['$.modelOutput.prompt_token_count'],
            'output_tokens': ['$.modelOutput.generation_token_count'], 'max_tokens': ['$.modelInput.max_gen_len'],
            'temperature': ['$.modelInput.temperature'], 'top_p': ['$.modelInput.top_p']}},
        {'name': 'titan_text', 'paths': {
            'answer_text': ['$.modelOutput.results[0].outputText'],
            'stop_reason': ['$.modelOutput.results[0].completionReason'],
            'input_tokens': ['$.modelOutput.inputTextTokenCount'],
            'output_tokens': ['$.modelOutput.results[0].tokenCount'],
            'max_tokens': ['$.modelInput.textGenerationConfig.maxTokenCount'],
            'temperature': ['$.modelInput.textGenerationConfig.temperature'],
            'top_p': ['$.modelInput.textGenerationConfig.topP']}}
    ]) }}
{%- endmacro %}

{# Every JSON path the output staging reads from a line, in one list (each line is parsed once),
   and where each named field's paths sit in it: {'paths': [...], 'at': {field: [1-based positions]}}.
   The fields of every response shape (in shape order), then the line's own: recordId, the
   response's model, the error object. #}
{% macro output_line_paths() -%}
    {%- set fixed = [('record_id', ['$.recordId']), ('response_model', ['$.modelOutput.model']),
                     ('error_message', ['$.error.errorMessage']), ('error_code', ['$.error.errorCode']),
                     ('error', ['$.error']), ('error_retryable', ['$.error.retryable'])] -%}
    {%- set paths = [] -%}
    {%- set at = {} -%}
    {%- for shape in bedrock_ext.response_shapes() -%}
        {%- for field, field_paths in shape['paths'].items() -%}
            {%- for path in field_paths if path not in paths -%}
                {%- do paths.append(path) -%}
                {%- do at.update({field: at.get(field, []) + [paths | length]}) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for field, field_paths in fixed -%}
        {%- for path in field_paths -%}
            {%- do paths.append(path) -%}
            {%- do at.update({field: at.get(field, []) + [paths | length]}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({'paths': paths, 'at': at}) }}
{%- endmacro %}

{# A named field of the parsed line `v` (from output_line_paths): its first non-null path. #}
{% macro line_value(layout, field, v='v') -%}
    {%- set positions = layout['at'][field] -%}
    {%- if positions | length == 1 -%}{{ v }}[{{ positions[0] }}]
    {%- else -%}coalesce({% for i in positions %}{{ v }}[{{ i }}]{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}
