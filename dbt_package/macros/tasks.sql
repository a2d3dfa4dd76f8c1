{# ---------- Tasks: declared in the global var bedrock_ext_tasks: {<name>: {...}} (README "Declare a task").
   Global, not under vars: bedrock_ext:, because dbt shows a package's own vars only to the package's
   nodes, and the typed result models (bedrock_ext.task_results) are yours. #}

{% macro tasks() -%}
    {%- set declared = var('bedrock_ext_tasks', {}) -%}
    {%- if declared is not mapping or declared | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "bedrock_ext: no task is declared. Set vars: bedrock_ext_tasks: {<name>: {input, id_column, "
            ~ "text_column, prompt: {system, user}, answer_schema}} in your dbt_project.yml (a global var: "
            ~ "your typed result models read it too; README 'Declare a task').") }}
    {%- endif -%}
    {{ return(declared) }}
{%- endmacro %}

{# A declared task's spec, an evaluation candidate's (<task>:<candidate>) or a judge's (<task>:judge;
   macros/evaluation.sql). #}
{% macro task(name) -%}
    {%- if name.endswith(':judge') -%}
        {%- set declared = bedrock_ext.judge_tasks() -%}
    {%- elif ':' in name -%}
        {%- set declared = bedrock_ext.request_tasks() -%}
    {%- else -%}
        {%- set declared = bedrock_ext.tasks() -%}
    {%- endif -%}
    {%- if name not in declared -%}
        {{ exceptions.raise_compiler_error("bedrock_ext: task '" ~ name ~ "' is not declared; declared: "
                                           ~ (declared.keys() | list | join(', '))) }}
    {%- endif -%}
    {{ return(declared[name]) }}
{%- endmacro %}

{# A task's setting, or the error that says it is missing. The answer schema's shape is checked
   here too, so no macro that reads it fails with a Jinja error; its full check (types, bounds,
   enums) is bedrock_ext.request.task.check_schema, before anything is uploaded. #}
{% macro task_setting(name, key, default=none) -%}
    {%- set value = bedrock_ext.task(name).get(key, default) -%}
    {%- if value is none or value == '' -%}
        {{ exceptions.raise_compiler_error("bedrock_ext: task '" ~ name ~ "' needs " ~ key) }}
    {%- endif -%}
    {%- if key == 'answer_schema' -%}
        {%- set where = "bedrock_ext: task '" ~ name ~ "' answer_schema" -%}
        {%- if value is not mapping or value.get('properties') is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ " must be a JSON Schema mapping with type: object and properties, got " ~ (value | string)[:200]) }}
        {%- endif -%}
        {%- for required in value.get('required', []) if required not in value['properties'] -%}
            {{ exceptions.raise_compiler_error(where ~ ": required names '" ~ required ~ "', which is not one of its properties (" ~ (value['properties'].keys() | join(', ')) ~ "): add the property or remove it from required") }}
        {%- endfor -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{# The input relation of a task: a model or seed of the root project (its name), or a source
   ({source: <name>, table: <name>}). dbt resolves it at parse time, so the dependency is in the
   DAG like any ref; the ref names the root project, so the package never shadows it. #}
{% macro task_relation(name) -%}
    {%- set input = bedrock_ext.task(name).get('input') -%}
    {%- if input is mapping and 'source' in input and 'table' in input -%}
        {{ source(input['source'], input['table']) }}
    {%- elif input is string and input | trim != '' -%}
        {{ ref(project_name, input) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "bedrock_ext: task '" ~ name ~ "' input must name the relation with the rows: a model or seed of "
            ~ "your project (input: my_model) or a source (input: {source: my_source, table: my_table}); got "
            ~ (input | string)) }}
    {%- endif -%}
{%- endmacro %}

{# The columns the task's prompt.user template uses ({column} placeholders), in order. #}
{% macro prompt_columns(name) -%}
    {%- set user = bedrock_ext.task_setting(name, 'prompt')['user'] -%}
    {%- set found = [] -%}
    {%- for column in modules.re.findall('\{([A-Za-z_][A-Za-z0-9_]*)\}', user) -%}
        {%- if column not in found %}{% do found.append(column) %}{% endif -%}
    {%- endfor -%}
    {%- if found | length == 0 -%}
        {{ exceptions.raise_compiler_error("bedrock_ext: task '" ~ name ~ "' prompt.user must use at least one input column as {column_name}") }}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{# The task's text column: text_column, else the template's first column. #}
{% macro text_column(name) -%}
    {{ return(bedrock_ext.task(name).get('text_column') or bedrock_ext.prompt_columns(name)[0]) }}
{%- endmacro %}

{# The user message of a row, in SQL: the template's literal parts and its columns concatenated in
   one pass (a value containing {name} stays as it is). The text column reads `text_sql`. Twin of
   bedrock_ext.request.record_sql.render_sql. #}
{% macro render_prompt(name, text_sql) -%}
    {%- set user = bedrock_ext.task_setting(name, 'prompt')['user'] -%}
    {%- set pieces = modules.re.split('\{([A-Za-z_][A-Za-z0-9_]*)\}', user) -%}
    {%- set text_column = bedrock_ext.text_column(name) -%}
    concat(
    {%- for piece in pieces -%}
        {%- if loop.index is odd -%}
            {{ bedrock_ext.sql_string(piece) }}
        {%- elif piece == text_column -%}
            coalesce({{ text_sql }}, '')
        {%- else -%}
            coalesce({{ adapter.quote(piece) }}::varchar, '')
        {%- endif -%}
        {{- ", " if not loop.last -}}
    {%- endfor -%}
    )
{%- endmacro %}

{# The task's passthrough_columns as a list of names. #}
{% macro passthrough_columns(name) -%}
    {%- set names = bedrock_ext.task(name).get('passthrough_columns') or [] -%}
    {{ return([names] if names is string else names) }}
{%- endmacro %}

{# The package-level request settings a task may override, as JSON for the fingerprint function. #}
{% macro request_defaults_json() -%}
    {{ bedrock_ext.sql_string(tojson({
        'bedrock_model_id': bedrock_ext.bedrock_setting('bedrock_model_id'),
        'invocation_type': var('invocation_type'), 'max_tokens': var('max_tokens'),
        'temperature': var('temperature'), 'top_p': var('top_p'), 'top_k': var('top_k'),
        'overlong_policy': var('overlong_policy')})) }}
{%- endmacro %}

{# The model a task's requests go to: its own bedrock_model_id, else the package's. #}
{% macro task_model_id(name) -%}
    {{ return(bedrock_ext.task(name).get('bedrock_model_id') or bedrock_ext.bedrock_setting('bedrock_model_id')) }}
{%- endmacro %}

{# One row per row of the task's input, nothing dropped: identity, id and text as text, the user
   message, and a skip reason when the row cannot be requested. With passthrough, the task's
   passthrough_columns too. only_ids: a subquery of ids; then only the rows with those ids (and
   the rows without an id) are read, with the same identities (ranks are per id). columns: more
   input columns to keep (an evaluation's stratum and labels). #}
{% macro task_input_rows(name, passthrough=false, only_ids=none, columns=none) -%}
    {%- set id_col = adapter.quote(bedrock_ext.task_setting(name, 'id_column')) -%}
    {%- set text_col = adapter.quote(bedrock_ext.text_column(name)) -%}
    {%- set order_col = bedrock_ext.task(name).get('order_by_column') -%}
    with

    source as (

        select * from {{ bedrock_ext.task_relation(name) }}

    ),

    extracted as (

        select
            *,
            {{ id_col }}::varchar as _id,
            {# Text passes as it is; a JSON column passes its string values; anything else (numbers,
               structs, lists) is not text and is skipped, never sent as its rendering. #}
            case
                when typeof({{ text_col }}) = 'VARCHAR' then {{ text_col }}::varchar
                when typeof({{ text_col }}) = 'JSON' and json_type({{ text_col }}::json) = 'VARCHAR'
                    then {{ text_col }}::json ->> '$'
            end as _text,
            typeof({{ text_col }}) in ('VARCHAR', 'JSON')
                and ({{ text_col }} is null or typeof({{ text_col }}) = 'VARCHAR'
                     or json_type({{ text_col }}::json) in ('VARCHAR', 'NULL')) as _is_text
        from source

    ),

    checked as (

        select
            *,
            case
                when _id is null or _id = '' then 'null_id'
                when regexp_matches(_id, '[\x00-\x1f\x7f]') then 'invalid_id'
                when not _is_text then 'non_text_value'
            end as _row_problem
        from extracted

    ),

    keyed as (

        select *, case when _row_problem = 'null_id' then null else _id end as _id_key
        from checked
        {%- if only_ids %}
        where _id_key is null or _id_key in ({{ only_ids }})
        {%- endif %}

    ),

    ranked as (

        select
            *,
            {# Per id, usable rows first, then the latest by order_by_column: rank 1 is requested. #}
            row_number() over (
                partition by _id_key
                order by
                    _row_problem is not null,
                    {%- if order_col %} {{ adapter.quote(order_col) }} desc nulls last,{% endif %}
                    _text desc nulls last
            ) as _rank,
            count(*) filter (where _row_problem is null) over (partition by _id_key) as _usable_rows
        from keyed

    )

    select
        {# Unique within the task and readable: the id and the row's rank among the rows with that
           id (1 = the one requested); rows without a usable id are '#<n>'. No file metadata. #}
        coalesce(_id_key, '') || '#' || _rank::varchar as input_row_id,
        _id as input_id,
        _text as text_value,
        {{ bedrock_ext.render_prompt(name, '_text') }} as input_text,
        case
            when _row_problem = 'null_id' then 'null_id: the id column is null or empty'
            when _row_problem = 'invalid_id' then 'invalid_id: the id contains a control character'
            when _row_problem = 'non_text_value' then 'non_text_value: the text column holds ' || typeof({{ text_col }})
            when _rank > 1 then 'duplicate_id: another row with this id is requested'
            when _text is null or regexp_full_match(_text, '[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]*') then 'blank_text'
        end as skip_reason,
        coalesce(length(_text), 0) as input_char_count,
        _usable_rows > 1 and _row_problem is null as is_duplicate_id,
        {%- set passthrough_names = bedrock_ext.passthrough_columns(name) %}
        {%- if passthrough_names %}
        hash({% for column in passthrough_names %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor %})
        {%- else %}
        0::ubigint
        {%- endif %} as passthrough_hash,
        {%- if passthrough %}
        {%- for column in passthrough_names %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        {%- endif %}
        {%- for column in columns or [] %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        _rank as id_rank
    from ranked
{%- endmacro %}
