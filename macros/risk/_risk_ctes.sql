{#-
  Two CTEs over `relation`, shared by reidentification_risk_summary and the reidentification_risk
  test. `privacy_guard_classes`: one row per equivalence class (GROUP BY the quasi-identifiers, NULL
  is one value) with its size, in rows or in distinct `privacy_unit`s. `privacy_guard_records`:
  what each record weighs and the size of its class; with a privacy unit a record is a person and
  the size is that of their smallest class (a person is as exposed as their most exposed row).
  The quasi-identifier values never leave the first CTE.
-#}
{% macro _risk_ctes(relation, quasi_identifiers, privacy_unit) %}
  privacy_guard_classes as (
    select
      {{ privacy_guard._columns_sql(quasi_identifiers) }},
      {% if privacy_unit %}count(distinct {{ privacy_guard._column_sql(privacy_unit) }}){% else %}count(*){% endif %} as class_size
    from {{ relation }}
    group by {{ privacy_guard._columns_sql(quasi_identifiers) }}
  ),
  privacy_guard_records as (
  {%- if privacy_unit %}
    select min(privacy_guard_class.class_size) as class_size, 1 as weight
    from {{ relation }} as privacy_guard_row
    inner join privacy_guard_classes as privacy_guard_class
      on {% for column in quasi_identifiers -%}
        {%- if not loop.first %} and {% endif -%}
        privacy_guard_row.{{ privacy_guard._column_sql(column) }} is not distinct from privacy_guard_class.{{ privacy_guard._column_sql(column) }}
      {%- endfor %}
    where privacy_guard_row.{{ privacy_guard._column_sql(privacy_unit) }} is not null
    group by privacy_guard_row.{{ privacy_guard._column_sql(privacy_unit) }}
  {%- else %}
    select class_size, class_size as weight
    from privacy_guard_classes
  {%- endif %}
  )
{% endmacro %}

{#- SQL true when a class of this size carries a re-identification risk (1/size) above max_risk. -#}
{% macro _at_risk_sql(class_size_sql, max_risk) %}
  {{ return(class_size_sql ~ ' * cast(' ~ max_risk ~ ' as ' ~ privacy_guard._double_type() ~ ') < 1') }}
{% endmacro %}

{#- max_risk: the argument, else 1/k with k from the meta or settings; checked to be a probability. -#}
{% macro _resolve_max_risk(target, max_risk) %}
  {%- if max_risk is none -%}
    {%- set k = privacy_guard._resolve_threshold(target, 'k', none) -%}
    {%- set max_risk = (1.0 / k) if k is number and k > 0 else none -%}
  {%- endif -%}
  {%- if execute and (max_risk is not number or max_risk is boolean or max_risk <= 0 or max_risk > 1) -%}
    {{ privacy_guard._raise_for_target(target, 'max_risk must be a probability in (0, 1] (got ' ~ (max_risk | tojson) ~ ')') }}
  {%- endif -%}
  {{ return(max_risk) }}
{% endmacro %}

{#- A double-precision type for risks (dbt.type_float() is 4-byte `float` on DuckDB). -#}
{% macro _double_type() %}
  {{ return(adapter.dispatch('_double_type', 'privacy_guard')()) }}
{% endmacro %}

{% macro default___double_type() %}
  {{ return('double precision') }}
{% endmacro %}

{% macro duckdb___double_type() %}
  {{ return('double') }}
{% endmacro %}
