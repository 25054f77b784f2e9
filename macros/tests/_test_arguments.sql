{#-
  Argument resolution shared by the privacy generic tests: an explicit argument wins, else the
  tested node's `config.meta.privacy`, else the project settings. A default that is needed but
  missing fails at execute time only. At parse time `graph` is not there yet and dbt throws the
  rendered SQL away, so the helpers return empty values instead of raising and the tests do not
  bother to render valid SQL from them.
-#}

{#- Absolute slack on real-valued measures (entropy-l, t): SQL and Python sum floats in different
    orders, so a class that is exactly at the threshold must not fail by one ulp. -#}
{% macro _measure_tolerance() %}
  {{ return(1e-9) }}
{% endmacro %}

{#-
  What a test needs to know about the model it tests, looked up once per test: the graph lookup
  and meta reads are the cost of these tests on large projects (bench/bench_compile.py).
  `model` may be a relation or, with a `where:` config, a subquery string (no node then).
-#}
{% macro _test_target(model, test_name) %}
  {%- set node = privacy_guard._node_for_relation(model) -%}
  {{ return({
    'test_name': test_name,
    'model': model,
    'found': node is not none,
    'subject': node.unique_id if node else (model | string),
    'policy': privacy_guard._privacy_of(node) if node else {},
    'column_policies': privacy_guard._column_policies(node) if node else {},
  }) }}
{% endmacro %}

{% macro _test_fail(target, problem) %}
  {{ exceptions.raise_compiler_error('privacy_guard.' ~ target.test_name ~ ': ' ~ target.subject ~ ': ' ~ problem) }}
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
{% macro _test_threshold(target, key, value) %}
  {%- set value = target.policy.get(key) if value is none else value -%}
  {%- set value = privacy_guard._settings().get('default_' ~ key) if value is none else value -%}
  {%- if execute and (value is not number or value is boolean) -%}
    {{ privacy_guard._test_fail(target, key ~ ' must be a number (got ' ~ (value | tojson) ~ ')') }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#- Column names: the argument, else the node's columns declared with `class: <column_class>`
    (filtered from the target's column policies, like _columns_of_class, without a second read). -#}
{% macro _test_columns(target, column_class, argument_name, value, required=true) %}
  {%- if value is not none -%}
    {{ return(privacy_guard._as_list(value)) }}
  {%- endif -%}
  {%- set names = [] -%}
  {%- for name, policy in target.column_policies.items() if policy.get('class') == column_class -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {%- if execute and not target.found -%}
    {{ privacy_guard._test_fail(target, 'no dbt node found for this relation (a `where:` config hides it); pass `' ~ argument_name ~ '`') }}
  {%- elif execute and required and not names -%}
    {{ privacy_guard._test_fail(target, 'no column declares config.meta.privacy.class: ' ~ column_class ~ ' and the test has no `' ~ argument_name ~ '` argument') }}
  {%- endif -%}
  {{ return(names) }}
{% endmacro %}

{% macro _test_quasi_identifiers(target, value) %}
  {{ return(privacy_guard._test_columns(target, 'quasi_identifier', 'quasi_identifiers', value)) }}
{% endmacro %}

{% macro _test_sensitive_columns(target, value) %}
  {{ return(privacy_guard._test_columns(target, 'sensitive', 'sensitive_column', value)) }}
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
