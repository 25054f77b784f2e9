{#-
  Two CTEs over `relation`, shared by reidentification_risk_summary and the reidentification_risk
  test. `privacy_guard_classes`: one row per equivalence class (GROUP BY the quasi-identifiers, NULL
  is one value) with its size, in rows or in distinct `privacy_unit`s. `privacy_guard_records`:
  what each record weighs and the size of its class; with a privacy unit a record is a person and
  the size is that of their smallest class (a person is as exposed as their most exposed row), found
  by joining their rows back to the classes (`privacy_guard_sized`). A NULL unit never makes the data
  look safer: it adds nobody to a class's size (a class of such rows only has size 0, risk 1), and
  each such row is still a record of its own. The quasi-identifier values never leave these CTEs.
-#}
{% macro _risk_ctes(relation, quasi_identifiers, privacy_unit) %}
  {%- set columns = privacy_guard._columns_sql(quasi_identifiers) -%}
  {%- set unit = privacy_guard._column_sql(privacy_unit) if privacy_unit else none %}
  privacy_guard_classes as (
    select
      {{ columns }},
      {{ privacy_guard._class_size_sql(privacy_unit) }} as class_size
    from {{ relation }}
    group by {{ columns }}
  ),
  {%- if unit %}
  privacy_guard_sized as (
    select privacy_guard_row.{{ unit }} as privacy_guard_unit, privacy_guard_class.class_size
    from {{ relation }} as privacy_guard_row
    inner join privacy_guard_classes as privacy_guard_class
      on {{ privacy_guard._same_columns_sql('privacy_guard_row', 'privacy_guard_class', quasi_identifiers) }}
  ),
  {%- endif %}
  privacy_guard_records as (
  {%- if unit %}
    select min(privacy_guard_sized.class_size) as class_size, 1 as weight
    from privacy_guard_sized
    where privacy_guard_sized.privacy_guard_unit is not null
    group by privacy_guard_sized.privacy_guard_unit
    union all
    select privacy_guard_sized.class_size, 1 as weight
    from privacy_guard_sized
    where privacy_guard_sized.privacy_guard_unit is null
  {%- else %}
    select class_size, class_size as weight
    from privacy_guard_classes
  {%- endif %}
  )
{% endmacro %}

{#- Join condition: the columns equal on both sides, NULL matching NULL (as GROUP BY groups it); `1 = 1` for no columns. -#}
{% macro _same_columns_sql(left_alias, right_alias, columns) %}
  {%- set parts = [] -%}
  {%- for column in columns -%}
    {%- set name = privacy_guard._column_sql(column) -%}
    {%- do parts.append(left_alias ~ '.' ~ name ~ ' is not distinct from ' ~ right_alias ~ '.' ~ name) -%}
  {%- endfor -%}
  {{ return(parts | join(' and ') or '1 = 1') }}
{% endmacro %}

{#- SQL true when a class of this size carries a re-identification risk (1/size) above max_risk. -#}
{% macro _at_risk_sql(class_size_sql, max_risk) %}
  {{ return(class_size_sql ~ ' * cast(' ~ max_risk ~ ' as ' ~ privacy_guard._double_type() ~ ') < 1') }}
{% endmacro %}

{#- The risk 1/size of a class of this size; a class of no known person (NULL units only) is as exposed as a unique: 1. -#}
{% macro _risk_of_sql(class_size_sql, weight_sql='1') %}
  {{ return(weight_sql ~ ' / cast(greatest(' ~ class_size_sql ~ ', 1) as ' ~ privacy_guard._double_type() ~ ')') }}
{% endmacro %}

{#-
  Thresholds of the risk macros: each argument, else the node's `privacy.risk` block, else the
  default (max_risk 1/k with k from the meta or settings; max_records_at_risk 0; max_average_risk
  none = not checked). Checked to be probabilities.
-#}
{% macro _resolve_risk_thresholds(target, max_risk, max_records_at_risk=none, max_average_risk=none) %}
  {%- set declared = target.policy.get('risk') if target.policy.get('risk') is mapping else {} -%}
  {%- set max_risk = declared.get('max_risk') if max_risk is none else max_risk -%}
  {%- if max_risk is none -%}
    {%- set k = privacy_guard._resolve_threshold(target, 'k', none) -%}
    {%- set max_risk = (1.0 / k) if k is number and k > 0 else none -%}
  {%- endif -%}
  {%- set thresholds = {
    'max_risk': max_risk,
    'max_records_at_risk': [max_records_at_risk, declared.get('max_records_at_risk'), 0] | reject('none') | first,
    'max_average_risk': [max_average_risk, declared.get('max_average_risk')] | reject('none') | first | default(none),
  } -%}
  {%- for name, value in thresholds.items() if execute and (value is not none or name == 'max_risk') -%}
    {%- set low_ok = value is number and value is not boolean and (value >= 0 if name == 'max_records_at_risk' else value > 0) -%}
    {%- if not low_ok or value > 1 -%}
      {{ privacy_guard._raise_for_target(target, name ~ ' must be a probability in ' ~ ('[0, 1]' if name == 'max_records_at_risk' else '(0, 1]') ~ ' (got ' ~ (value | tojson) ~ ')') }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(thresholds) }}
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

{% macro spark___double_type() %}
  {{ return('double') }}
{% endmacro %}
