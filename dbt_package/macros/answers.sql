{# ---------- The answer schema of a task (answer_schema, a JSON Schema object) in SQL. #}

{% macro answer_properties(name) -%}
    {{ return(bedrock_ext.task_setting(name, 'answer_schema')['properties']) }}
{%- endmacro %}

{% macro json_types(kind) -%}
    {{ return({'string': ['VARCHAR'], 'integer': ['BIGINT', 'UBIGINT'], 'number': ['BIGINT', 'UBIGINT', 'DOUBLE'],
               'boolean': ['BOOLEAN'], 'array': ['ARRAY'], 'object': ['OBJECT']}[kind]) }}
{%- endmacro %}

{# SQL string literals, comma-separated: in parentheses (for `in`), or as a VARCHAR[] (for the
   list functions). #}
{% macro sql_strings(values) -%}
    {%- for v in values -%}{{ bedrock_ext.sql_string(v) }}{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

{% macro sql_list(values) -%}
    ({{ bedrock_ext.sql_strings(values) }})
{%- endmacro %}

{% macro sql_array(values) -%}
    [{{ bedrock_ext.sql_strings(values) }}]::varchar[]
{%- endmacro %}

{# The facts about the answer `j` (a JSON value) that its task's schema is checked against, as
   one struct, so the answer is parsed four times per row (plus twice per array property) rather
   than once per check: the types of the root and of each declared property in one call (`types[1]`
   is the root's, then the properties' in declaration order), its keys, the text of each declared
   property, and for each array property (in declaration order) the types and texts of its items. #}
{% macro answer_facts(name, j) -%}
    {%- set properties = bedrock_ext.answer_properties(name) -%}
    {%- set paths = [] -%}
    {%- for key in properties.keys() %}{% do paths.append("'$." ~ key ~ "'") %}{% endfor -%}
    {%- set arrays = [] -%}
    {%- for key, prop in properties.items() if prop['type'] == 'array' %}{% do arrays.append("'$." ~ key ~ "[*]'") %}{% endfor -%}
    struct_pack(
        types := json_type({{ j }}, ['$'{% for path in paths %}, {{ path }}{% endfor %}]),
        keys := json_keys({{ j }}),
        texts := {% if paths %}json_extract_string({{ j }}, [{{ paths | join(', ') }}]){% else %}[]::varchar[]{% endif %},
        item_types := {% if arrays %}[{% for path in arrays %}json_type({{ j }}, {{ path }}){{ ", " if not loop.last }}{% endfor %}]{% else %}[]::varchar[][]{% endif %},
        item_texts := {% if arrays %}[{% for path in arrays %}json_extract_string({{ j }}, {{ path }}){{ ", " if not loop.last }}{% endfor %}]{% else %}[]::varchar[][]{% endif %}
    )
{%- endmacro %}

{# The first way an answer breaks the task's schema, as a message; null when it is valid.
   `facts` is a column holding the answer's answer_facts(name, ...). Repeated keys, unknown keys, missing
   required keys, wrong types, values outside an enum or a range, strings over their length limit
   and array items of the wrong type are invalid. The conditions are list functions without
   lambdas (a lambda per row is the slow part); the messages, built only for the failing rows,
   may use them. #}
{% macro answer_errors(name, facts) -%}
    {%- set schema = bedrock_ext.task_setting(name, 'answer_schema') -%}
    {%- set properties = schema['properties'] -%}
    {%- set keys = properties.keys() | list -%}
    {%- set known = bedrock_ext.sql_list(keys) -%}
    case
        when {{ facts }}.types[1] <> 'OBJECT' then 'answer is not a JSON object'
        {#- A repeated key: JSON readers disagree on which value counts (the first here, the last in
            Python), so the answer is invalid whatever the values. Nested objects are invalid anyway
            (no declared property holds one). #}
        when len({{ facts }}.keys) <> len(list_distinct({{ facts }}.keys))
            then 'duplicate key(s): ' || array_to_string(list_sort(list_distinct(list_filter({{ facts }}.keys, (k, i) -> list_position({{ facts }}.keys, k) <> i))), ', ')
        when not list_has_all({{ bedrock_ext.sql_array(keys) }}, {{ facts }}.keys)
            then 'unknown key(s): ' || array_to_string(list_filter({{ facts }}.keys, k -> k not in {{ known }}), ', ')
    {%- for key in schema.get('required', []) %}
        when coalesce({{ facts }}.types[{{ keys.index(key) + 2 }}], 'NULL') = 'NULL' then '{{ key }} is missing'
    {%- endfor %}
    {%- set array_number = namespace(n=0) %}
    {%- for key, prop in properties.items() %}
        {%- set type = facts ~ ".types[" ~ (loop.index + 1) ~ "]" %}
        {%- set text = facts ~ ".texts[" ~ loop.index ~ "]" %}
        {%- set present = "coalesce(" ~ type ~ ", 'NULL') <> 'NULL'" %}
        when {{ present }} and {{ type }} not in {{ bedrock_ext.sql_list(bedrock_ext.json_types(prop['type'])) }}
            then '{{ key }} is not {{ prop['type'] }}: ' || {{ type }}
        {%- if 'enum' in prop %}
        when {{ present }} and {{ text }} not in {{ bedrock_ext.sql_list(prop['enum'] | map('string') | list) }}
            then '{{ key }} is not one of the accepted values: ' || {{ text }}
        {%- endif %}
        {%- if 'maxLength' in prop %}
        when {{ present }} and length({{ text }}) > {{ prop['maxLength'] | int }}
            then '{{ key }} is longer than {{ prop['maxLength'] | int }} characters: ' || length({{ text }})
        {%- endif %}
        {%- if 'minLength' in prop %}
        when {{ present }} and length({{ text }}) < {{ prop['minLength'] | int }}
            then '{{ key }} is shorter than {{ prop['minLength'] | int }} characters'
        {%- endif %}
        {%- if 'minimum' in prop %}
        when {{ present }} and {{ text }}::double < {{ prop['minimum'] }}
            then '{{ key }} is below its minimum {{ prop['minimum'] }}: ' || {{ text }}
        {%- endif %}
        {%- if 'maximum' in prop %}
        when {{ present }} and {{ text }}::double > {{ prop['maximum'] }}
            then '{{ key }} is above its maximum {{ prop['maximum'] }}: ' || {{ text }}
        {%- endif %}
        {%- if prop['type'] == 'array' %}
        {%- set array_number.n = array_number.n + 1 %}
        {%- set items = prop.get('items', {}) %}
        {%- set item_types = facts ~ ".item_types[" ~ array_number.n ~ "]" %}
        {%- set item_texts = facts ~ ".item_texts[" ~ array_number.n ~ "]" %}
        when {{ present }} and not list_has_all({{ bedrock_ext.sql_array(bedrock_ext.json_types(items.get('type', 'string'))) }}, {{ item_types }})
            then '{{ key }} has items that are not {{ items.get('type', 'string') }}'
        {%- if 'maxItems' in prop %}
        when {{ present }} and len({{ item_types }}) > {{ prop['maxItems'] | int }}
            then '{{ key }} has more than {{ prop['maxItems'] | int }} items'
        {%- endif %}
        {%- if 'minItems' in prop %}
        when {{ present }} and len({{ item_types }}) < {{ prop['minItems'] | int }}
            then '{{ key }} has fewer than {{ prop['minItems'] | int }} items'
        {%- endif %}
        {%- if 'enum' in items %}
        when {{ present }} and not list_has_all({{ bedrock_ext.sql_array(items['enum'] | map('string') | list) }}, {{ item_texts }})
            then '{{ key }} has items that are not accepted values'
        {%- endif %}
        {%- if 'maxLength' in items %}
        when {{ present }} and coalesce(list_max(list_transform({{ item_texts }}, x -> length(x))), 0) > {{ items['maxLength'] | int }}
            then '{{ key }} has items longer than {{ items['maxLength'] | int }} characters'
        {%- endif %}
        {%- if 'minLength' in items %}
        when {{ present }} and coalesce(list_min(list_transform({{ item_texts }}, x -> length(x))), {{ items['minLength'] | int }}) < {{ items['minLength'] | int }}
            then '{{ key }} has items shorter than {{ items['minLength'] | int }} characters'
        {%- endif %}
        {%- if 'minimum' in items %}
        when {{ present }} and coalesce(list_min(list_transform({{ item_texts }}, x -> try_cast(x as double))), {{ items['minimum'] }}) < {{ items['minimum'] }}
            then '{{ key }} has items below its minimum {{ items['minimum'] }}'
        {%- endif %}
        {%- if 'maximum' in items %}
        when {{ present }} and coalesce(list_max(list_transform({{ item_texts }}, x -> try_cast(x as double))), {{ items['maximum'] }}) > {{ items['maximum'] }}
            then '{{ key }} has items above its maximum {{ items['maximum'] }}'
        {%- endif %}
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}

{# ---------- The answer itself, kept once: in the output staging's text. #}

{# The JSON object in an answer's text `t`, as text: the whole text when it is one (the usual
   case, no regex), else from the first { to the last } (models sometimes wrap it in prose); null
   when there is none. #}
{% macro answer_json_text(t) -%}
    case
        when starts_with({{ t }}, '{') and ends_with({{ t }}, '}') then {{ t }}
        else nullif(regexp_extract({{ t }}, '\{[\s\S]*\}'), '')
    end
{%- endmacro %}

{# int_bedrock_answers' rows (alias `answers`, those where `where` holds) with their answer:
   `answer`, the valid answer as JSON, and `answer_text`, the raw text where no valid answer was
   found. Both come from the output staging's text (joined by output_line_id): int_bedrock_answers
   keeps only the verdict, so a warehouse stores each answer's text once (issue 32). #}
{% macro answers_with_text(where='true') -%}
    select
        answers.*,
        case when answers.is_answered then try_cast({{ bedrock_ext.answer_json_text('outputs.answer_text') }} as json) end
            as answer,
        case when not answers.is_answered then outputs.answer_text end as answer_text
    from {{ ref('int_bedrock_answers') }} as answers
    left join {{ ref('stg_bedrock__batch_outputs') }} as outputs
        on outputs.output_line_id = answers.output_line_id
    where {{ where }}
{%- endmacro %}

{# ---------- The quick test: most answers are valid, and proving it takes one parse. #}

{# The answer `j` (a JSON value) as a map of its keys to their values' JSON text: null when it is
   not an object. The one parse that answer_passes reads. #}
{% macro answer_map(j) -%}
    try(json_transform({{ j }}, '"MAP(VARCHAR, JSON)"'))
{%- endmacro %}

{# True only for an answer that answer_errors accepts (tests/unit/test_answer_validation.py holds
   the two to that, on every kind of answer it names): `m` is the answer's answer_map. Each
   declared property is checked on its value's JSON text with string functions and anchored
   regular expressions, no lambda and no further parse of the whole answer. False is not a
   verdict: the row goes to answer_facts and answer_errors, which find the reason (or none, for
   an answer this test cannot clear, such as an escaped character where a length bound applies). #}
{% macro answer_passes(name, m) -%}
    {%- set schema = bedrock_ext.task_setting(name, 'answer_schema') -%}
    {%- set required = schema.get('required', []) -%}
    {#- No unknown key and none twice: the map holds as many keys as the declared ones it holds
        (the required ones, checked below, and each optional one it contains). A required key's
        value is not tested for null: each check of json_text_passes is null on null, and the
        coalesce makes that false. #}
    coalesce(
        cardinality({{ m }}) = {{ required | length }}
        {%- for key in schema['properties'] if key not in required %} + map_contains({{ m }}, {{ bedrock_ext.sql_string(key) }})::integer{% endfor %}
    {%- for key, prop in schema['properties'].items() %}
        {%- set v = m ~ "[" ~ bedrock_ext.sql_string(key) ~ "]" %}
        and ({{ '' if key in required else v ~ ' is null or ' }}{{ bedrock_ext.json_text_passes(prop, v) }})
    {%- endfor %},
        false)
{%- endmacro %}

{# A property's value, as JSON text `v` (not null), passes its schema `prop`. #}
{% macro json_text_passes(prop, v) -%}
    {%- set kind = prop['type'] -%}
    {%- if kind == 'array' -%}
        {%- set items = prop.get('items', {'type': 'string'}) -%}
        {%- set item = bedrock_ext.json_item_pattern(items) -%}
        {%- if item -%}regexp_full_match({{ v }}, {{ bedrock_ext.sql_string('\\[(?:' ~ item ~ '(?:,' ~ item ~ ')*)?\\]') }})
        {%- else -%}{{ v }} = '[]'{%- endif -%}
        {%- if 'maxItems' in prop %} and json_array_length({{ v }}) <= {{ prop['maxItems'] | int }}{% endif -%}
        {%- if 'minItems' in prop %} and json_array_length({{ v }}) >= {{ prop['minItems'] | int }}{% endif -%}
    {%- else -%}
        {#- One of the enum's JSON texts is of the declared type (task.check_schema refuses an enum
            value of another type), so the enum alone is the type's check. #}
        {%- if 'enum' in prop -%}{{ v }} in {{ bedrock_ext.sql_list(bedrock_ext.json_texts(prop['enum'])) }}
        {%- elif kind == 'string' -%}starts_with({{ v }}, '"')
        {%- elif kind == 'boolean' -%}{{ v }} in ('true', 'false')
        {%- else -%}regexp_full_match({{ v }}, {{ bedrock_ext.sql_string(bedrock_ext.json_item_pattern({'type': kind})) }})
        {%- endif -%}
        {#- A string's JSON text is never shorter than the string (its quotes, its escapes); it is
            exactly two longer without a backslash. #}
        {%- if 'maxLength' in prop %} and length({{ v }}) - 2 <= {{ prop['maxLength'] | int }}{% endif -%}
        {%- if 'minLength' in prop %} and length({{ v }}) - 2 >= {{ prop['minLength'] | int }} and not contains({{ v }}, '\'){% endif -%}
        {%- if 'minimum' in prop %} and try_cast({{ v }} as double) >= {{ prop['minimum'] }}{% endif -%}
        {%- if 'maximum' in prop %} and try_cast({{ v }} as double) <= {{ prop['maximum'] }}{% endif -%}
    {%- endif -%}
{%- endmacro %}

{# A regular expression for the JSON text of one value of the scalar schema `prop`, as DuckDB
   writes it (compact): only what is surely valid; none when a bound on the items of an array
   (a range, a length over RE2's repeat limit) cannot be written as one, then only [] passes. #}
{% macro json_item_pattern(prop) -%}
    {%- set kind = prop['type'] -%}
    {%- if 'enum' in prop -%}
        {%- set patterns = [] -%}
        {%- for text in bedrock_ext.json_texts(prop['enum']) %}{% do patterns.append(modules.re.escape(text)) %}{% endfor -%}
        {{ return('(?:' ~ patterns | join('|') ~ ')') }}
    {%- elif kind == 'string' and prop.get('maxLength', 0) > 1000 -%}
        {{ return(none) }}
    {%- elif kind == 'string' and 'minLength' in prop -%}
        {{ return('"[^"\\\\]{' ~ prop['minLength'] ~ ',' ~ prop.get('maxLength', '') ~ '}"') }}
    {%- elif kind == 'string' and 'maxLength' in prop -%}
        {{ return('"(?:[^"\\\\]|\\\\.){0,' ~ prop['maxLength'] ~ '}"') }}
    {%- elif kind == 'string' -%}
        {{ return('"(?:[^"\\\\]|\\\\.)*"') }}
    {%- elif 'minimum' in prop or 'maximum' in prop -%}
        {{ return(none) }}
    {%- elif kind == 'integer' -%}
        {{ return('-?[0-9]{1,18}') }}
    {%- elif kind == 'number' -%}
        {{ return('-?[0-9][0-9.eE+-]*') }}
    {%- elif kind == 'boolean' -%}
        {{ return('(?:true|false)') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{# Values as the JSON text DuckDB writes for them (strings quoted; a string with characters JSON
   escapes, or outside ASCII, may be written otherwise, and then only fails the quick test). #}
{% macro json_texts(values) -%}
    {%- set texts = [] -%}
    {%- for value in values %}{% do texts.append(tojson(value)) %}{% endfor -%}
    {{ return(texts) }}
{%- endmacro %}

{% macro sql_type(kind) -%}
    {{ return({'string': 'varchar', 'integer': 'bigint', 'number': 'double', 'boolean': 'boolean'}.get(kind, 'json')) }}
{%- endmacro %}

{# The answer's fields as typed columns, one per property of the task's schema. #}
{% macro answer_columns(name, j) -%}
    {%- for key, prop in bedrock_ext.answer_properties(name).items() %}
        {%- if prop['type'] == 'array' %}
        from_json({{ j }} -> '$.{{ key }}', '["{{ bedrock_ext.sql_type(prop.get('items', {}).get('type', 'string')) | upper }}"]') as {{ adapter.quote(key) }}
        {%- else %}
        try_cast({{ j }} ->> '$.{{ key }}' as {{ bedrock_ext.sql_type(prop['type']) }}) as {{ adapter.quote(key) }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{# A task's typed result model: one row per row of its input, its status, the answer's fields as
   typed columns (from answer_schema), why there is no answer, tokens and cost, and the task's
   passthrough_columns. Use it as the whole body of a model: {{ bedrock_ext.task_results('my_task') }} #}
{% macro task_results(name) -%}
{#- In an incremental model that keeps computed_at (see fct_call_summaries), only the results
   computed since that model's last build, and only their input rows are read. #}
{%- set incremental = bedrock_ext.has_column(this, 'computed_at') %}
with

results as (

    select * from {{ ref('fct_bedrock_results') }}
    where task_name = {{ bedrock_ext.sql_string(name) }}
    {%- if incremental %}
        and computed_at > (select coalesce(max(computed_at), '-infinity'::timestamptz) from {{ this }})
    {%- endif %}

),

inputs as (

    {{ bedrock_ext.task_input_rows(name, passthrough=true,
                                   only_ids='select input_id from results' if incremental else none) }}

),

final as (

    select
        ---------- ids
        results.input_row_id,
        results.input_id,
        results.request_key,
        results.record_id,
        results.batch_job_id,

        ---------- the answer (typed from answer_schema)
        results.status,
        {{ bedrock_ext.answer_columns(name, 'results.answer') }},

        ---------- why there is none
        results.skip_reason,
        results.failure_code,
        results.failure_message,
        results.pending_reason,
        results.raw_answer_text,

        ---------- how it was asked, what it cost
        results.model_id,
        results.prompt_version,
        results.inference_mode,
        results.input_tokens,
        results.output_tokens,
        results.batch_cost_usd,
        results.on_demand_cost_usd,
        results.billed_cost_usd,
        results.attempt_count,
        results.is_text_truncated,
        results.is_retry_due,
        results.computed_at,

        ---------- passthrough (the input's own columns)
        {%- for column in bedrock_ext.passthrough_columns(name) %}
        inputs.{{ adapter.quote(column) }},
        {%- endfor %}
        results.task_name

    from results
    left join inputs on inputs.input_row_id = results.input_row_id

)

select * from final
{%- endmacro %}

{# Post-hook of an incremental model built on task_results: deletes its rows whose input row is no
   longer in fct_bedrock_results (the row left the task's input). key: the model's column that
   holds input_row_id. #}
{% macro delete_departed_rows(name, key='input_row_id') -%}
    delete from {{ this }} as kept
    where not exists (
        select 1 from {{ ref('fct_bedrock_results') }} as results
        where results.task_name = {{ bedrock_ext.sql_string(name) }}
            and results.input_row_id = kept.{{ adapter.quote(key) }}
    )
{%- endmacro %}
