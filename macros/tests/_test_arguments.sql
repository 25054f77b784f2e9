{#-
  Argument resolution shared by the privacy generic tests: an explicit argument wins, else the
  tested node's `config.meta.privacy`, else the project settings. A default that is needed but
  missing fails at execute time only (at parse time `graph` is not there yet and the rendered SQL
  is thrown away, so the helpers return empty values instead of raising).
-#}

{#- Absolute slack on real-valued measures (entropy-l, t): SQL and Python sum floats in different
    orders, so a class that is exactly at the threshold must not fail by one ulp. -#}
{% macro _measure_tolerance() %}
  {{ return(1e-9) }}
{% endmacro %}

{#- `model` may be a relation or, with a `where:` config, a subquery string (no node then). -#}
{% macro _tested_node(model) %}
  {{ return(privacy_guard._node_for_relation(model)) }}
{% endmacro %}

{% macro _test_subject(model) %}
  {%- set node = privacy_guard._tested_node(model) -%}
  {{ return(node.unique_id if node else (model | string)) }}
{% endmacro %}

{% macro _test_fail(model, test_name, problem) %}
  {{ exceptions.raise_compiler_error('privacy_guard.' ~ test_name ~ ': ' ~ privacy_guard._test_subject(model) ~ ': ' ~ problem) }}
{% endmacro %}

{#- A column name as SQL: plain identifiers stay as written, others (`marital-status`) are quoted. -#}
{% macro _column_sql(name) %}
  {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', name) -%}
    {{ return(name) }}
  {%- endif -%}
  {{ return(adapter.quote(name)) }}
{% endmacro %}

{#- Several column names as a comma-separated SQL list. -#}
{% macro _columns_sql(names) %}
  {%- set parts = [] -%}
  {%- for name in names -%}
    {%- do parts.append(privacy_guard._column_sql(name)) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}

{#- A string argument or a list of them -> list. -#}
{% macro _as_list(value) %}
  {{ return([value] if value is string else (value | list)) }}
{% endmacro %}

{#- k / l / t: the argument, else privacy.<key> of the node, else settings.default_<key>. -#}
{% macro _test_threshold(model, test_name, key, value) %}
  {%- if value is none -%}
    {%- set node = privacy_guard._tested_node(model) -%}
    {%- set value = privacy_guard._privacy_of(node or {}).get(key) -%}
  {%- endif -%}
  {%- if value is none -%}
    {%- set value = privacy_guard._settings().get('default_' ~ key) -%}
  {%- endif -%}
  {%- if execute and (value is not number or value is boolean) -%}
    {{ privacy_guard._test_fail(model, test_name, key ~ ' must be a number (got ' ~ (value | tojson) ~ ')') }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#- Column names: the argument, else the node's columns declared with `class: <column_class>`. -#}
{% macro _test_columns(model, test_name, column_class, argument_name, value) %}
  {%- if value is not none -%}
    {{ return(privacy_guard._as_list(value)) }}
  {%- endif -%}
  {%- if not execute -%}
    {{ return([]) }}
  {%- endif -%}
  {%- set node = privacy_guard._tested_node(model) -%}
  {%- set names = privacy_guard._columns_of_class(node, column_class) if node else [] -%}
  {%- if not names -%}
    {{ privacy_guard._test_fail(model, test_name, 'no column declares config.meta.privacy.class: ' ~ column_class ~ ' and the test has no `' ~ argument_name ~ '` argument') }}
  {%- endif -%}
  {{ return(names) }}
{% endmacro %}

{% macro _test_quasi_identifiers(model, test_name, value) %}
  {{ return(privacy_guard._test_columns(model, test_name, 'quasi_identifier', 'quasi_identifiers', value)) }}
{% endmacro %}

{% macro _test_sensitive_columns(model, test_name, value) %}
  {{ return(privacy_guard._test_columns(model, test_name, 'sensitive', 'sensitive_column', value)) }}
{% endmacro %}

{#- lower-case column name -> dbt Column of the built relation ({} when it cannot be looked up). -#}
{% macro _relation_columns(model) %}
  {%- set columns = {} -%}
  {%- if execute and model is not string -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
      {%- do columns.update({column.name | lower: column}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(columns) }}
{% endmacro %}

{#-
  Two CTEs over `model`, named <prefix>_labelled and <prefix>_cells: every row labelled with an
  integer class id (dense rank over the quasi-identifiers: NULL is one value, like GROUP BY) and the
  position of its sensitive value among the sorted distinct values (NULL last); then the count of
  rows per (class_id, position). The QI values themselves never leave the first CTE.
-#}
{% macro _class_cells_ctes(model, quasi_identifiers, sensitive_column, prefix) %}
  {{ prefix }}_labelled as (
    select
      dense_rank() over (order by {{ privacy_guard._columns_sql(quasi_identifiers) }}) as class_id,
      dense_rank() over (order by {{ privacy_guard._column_sql(sensitive_column) }} nulls last) as value_position
    from {{ model }}
  ),
  {{ prefix }}_cells as (
    select class_id, value_position, count(*) as cell_size
    from {{ prefix }}_labelled
    group by class_id, value_position
  )
{% endmacro %}
