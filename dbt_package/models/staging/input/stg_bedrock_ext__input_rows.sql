{# One row per row of the input relation (var `input`), nothing dropped: its identity, its id and
   text as text, and whether it can be requested. A row that cannot (null or empty id, an id with
   a control character, a value that is not text, blank text, a duplicate id) gets a skip reason;
   every other row proceeds. #}
with

source as (

    select * from {{ bedrock_ext.input_relation() }}

),

extracted as (

    select
        *,
        {{ bedrock_ext.input_column('id_column') }}::varchar as _id,
        {# Text columns pass as they are; a JSON column passes its string values; anything else
           (numbers, structs, lists) is not text and is skipped, never sent as its rendering. #}
        case
            when typeof({{ bedrock_ext.input_column('text_column') }}) = 'VARCHAR'
                then {{ bedrock_ext.input_column('text_column') }}::varchar
            when typeof({{ bedrock_ext.input_column('text_column') }}) = 'JSON'
                and json_type({{ bedrock_ext.input_column('text_column') }}::json) = 'VARCHAR'
                then {{ bedrock_ext.input_column('text_column') }}::json ->> '$'
        end as _text,
        typeof({{ bedrock_ext.input_column('text_column') }}) in ('VARCHAR', 'JSON')
            and ({{ bedrock_ext.input_column('text_column') }} is null
                 or typeof({{ bedrock_ext.input_column('text_column') }}) = 'VARCHAR'
                 or json_type({{ bedrock_ext.input_column('text_column') }}::json) in ('VARCHAR', 'NULL'))
            as _is_text
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

),

ranked as (

    select
        *,
        {# Per id, usable rows first, then the latest by order_by_column: rank 1 is the one requested. #}
        row_number() over (
            partition by _id_key
            order by
                _row_problem is not null,
                {%- if var('order_by_column') %} {{ bedrock_ext.input_column('order_by_column') }} desc nulls last,{% endif %}
                _text desc nulls last
        ) as _rank,
        count(*) filter (where _row_problem is null) over (partition by _id_key) as _usable_rows
    from keyed

),

final as (

    select
        ---------- ids
        {# Unique and readable: the id and the row's rank among the rows with that id (1 = the one
           requested); rows without a usable id are '#<n>'. No file or row-position metadata. #}
        coalesce(_id_key, '') || '#' || _rank::varchar as input_row_id,
        _id as input_id,

        ---------- strings
        _text as input_text,
        case
            when _row_problem = 'null_id' then 'null_id: the id column is null or empty'
            when _row_problem = 'invalid_id' then 'invalid_id: the id contains a control character'
            when _row_problem = 'non_text_value'
                then 'non_text_value: the text column holds ' || typeof({{ bedrock_ext.input_column('text_column') }})
            when _rank > 1 then 'duplicate_id: another row with this id is requested'
            when _text is null or regexp_full_match(_text, '[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]*') then 'blank_text'
        end as skip_reason,

        ---------- numerics
        coalesce(length(_text), 0) as input_char_count,

        ---------- booleans
        _usable_rows > 1 and _row_problem is null as is_duplicate_id,

        ---------- passthrough
        {%- for column in bedrock_ext.passthrough_columns() %}
        {{ adapter.quote(column) }},
        {%- endfor %}

        _rank as id_rank

    from ranked

)

select *, skip_reason is null as is_requestable from final
