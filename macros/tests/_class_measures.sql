{#-
  Helpers of the privacy tests (k_anonymity, l_diversity, t_closeness, min_cell_size). Argument
  resolution and column SQL shared with the macros live in macros/_internal/.
-#}

{#- Absolute slack on real-valued measures (entropy-l, t): SQL and Python sum floats in different
    orders, so a class that is exactly at the threshold must not fail by one ulp. -#}
{% macro _measure_tolerance() %}
  {{ return(1e-9) }}
{% endmacro %}

{#-
  One CTE `<prefix>_cells` over `model`, grouped directly by the quasi-identifiers (no sort of the
  table): a row per (class, sensitive value) with is_class = 0 and the cell's size, plus a row per
  class with is_class = 1, its size (people or rows) and its rows. The QI and sensitive values stay
  inside the test's CTEs; `sensitive_value` is only ever joined on, never returned.
-#}
{% macro _class_cells_cte(model, quasi_identifiers, sensitive_column, unit, prefix) %}
  {%- set qis = privacy_guard._columns_sql(quasi_identifiers) -%}
  {{ prefix }}_cells as (
    select {{ privacy_guard._qi_aliases(quasi_identifiers) }},
      {{ privacy_guard._column_sql(sensitive_column) }} as sensitive_value,
      grouping({{ privacy_guard._column_sql(sensitive_column) }}) as is_class,
      {{ privacy_guard._class_size_sql(unit) }} as cell_size,
      count(*) as cell_rows
    from {{ model }}
    group by grouping sets (({{ qis }}, {{ privacy_guard._column_sql(sensitive_column) }}), ({{ qis }}))
  )
{% endmacro %}

{#- The QIs renamed qi_1..qi_n: later CTEs name them without quoting, whatever the columns are called. -#}
{% macro _qi_aliases(quasi_identifiers) %}
  {%- set parts = [] -%}
  {%- for name in quasi_identifiers -%}
    {%- do parts.append(privacy_guard._column_sql(name) ~ ' as qi_' ~ loop.index) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}

{% macro _qi_names(quasi_identifiers) %}
  {%- set parts = [] -%}
  {%- for name in quasi_identifiers -%}
    {%- do parts.append('qi_' ~ loop.index) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}
