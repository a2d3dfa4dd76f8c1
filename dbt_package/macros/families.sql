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

{# Every JSON path the output staging reads from a line, and where each named field's paths sit:
   {'paths': [...], 'at': {field: [1-based positions]}, 'slots': {position: SQL of its value}}.
   The fields of every response shape (in shape order: a field's first non-null path counts),
   then the line's own: recordId, the response's model, the error object.
   Two groups, each one json_extract_string call (one parse of the line): `v` holds the line's own
   paths and those of the default body (`first_shape`, Converse), `v_rest` the other shapes' paths,
   extracted only for a line whose answer is not where the default body keeps it (an InvokeModel
   body, a line without an answer) and that is no error line. #}
{% macro output_line_paths(first_shape='converse') -%}
    {%- set fixed = [('record_id', ['$.recordId']), ('response_model', ['$.modelOutput.model']),
                     ('error_message', ['$.error.errorMessage']), ('error_code', ['$.error.errorCode']),
                     ('error', ['$.error']), ('error_retryable', ['$.error.retryable'])] -%}
    {%- set paths = [] -%}
    {%- set at = {} -%}
    {%- set first = [] -%}
    {%- for shape in bedrock_ext.response_shapes() -%}
        {%- for field, field_paths in shape['paths'].items() -%}
            {%- for path in field_paths if path not in paths -%}
                {%- do paths.append(path) -%}
                {%- do at.update({field: at.get(field, []) + [paths | length]}) -%}
            {%- endfor -%}
            {%- if shape['name'] == first_shape -%}{%- do first.extend(field_paths) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for field, field_paths in fixed -%}
        {%- for path in field_paths -%}
            {%- do paths.append(path) -%}
            {%- do first.append(path) -%}
            {%- do at.update({field: at.get(field, []) + [paths | length]}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set groups = {'v': [], 'v_rest': []} -%}
    {%- set slots = {} -%}
    {%- for path in paths -%}
        {%- set group = 'v' if path in first else 'v_rest' -%}
        {%- do groups[group].append(path) -%}
        {%- do slots.update({loop.index: group ~ '[' ~ (groups[group] | length) ~ ']'}) -%}
    {%- endfor -%}
    {{ return({'paths': paths, 'at': at, 'slots': slots, 'groups': groups}) }}
{%- endmacro %}

{# A named field of the parsed line (lists `v` and `v_rest`, from output_line_paths): its first
   non-null path; with `group`, only among that group's paths. #}
{% macro line_value(layout, field, group=none) -%}
    {%- set slots = [] -%}
    {%- for i in layout['at'][field] if group is none or layout['slots'][i].startswith(group ~ '[') -%}
        {%- do slots.append(layout['slots'][i]) -%}
    {%- endfor -%}
    {%- if slots | length == 1 -%}{{ slots[0] }}
    {%- else -%}coalesce({{ slots | join(', ') }})
    {%- endif -%}
{%- endmacro %}
