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
  table): a row per (class, sensitive value) with is_class = 0, the cell's size (distinct people
  or rows) and rows. With a privacy unit a person with two values is in two cells, so the class's
  people are counted in the same scan (GROUPING SETS): one more row per class, is_class = 1.
  The QI and sensitive values stay inside the test's CTEs; `sensitive_value` is only joined on.
-#}
{% macro _class_cells_cte(model, quasi_identifiers, sensitive_column, unit, prefix) %}
  {%- set qis = privacy_guard._columns_sql(quasi_identifiers) -%}
  {%- set value = privacy_guard._column_sql(sensitive_column) -%}
  {{ prefix }}_cells as (
    select {{ privacy_guard._qi_aliases(quasi_identifiers) }}, {{ value }} as sensitive_value,
    {%- if unit %}
      grouping({{ value }}) as is_class, {{ privacy_guard._class_size_sql(unit) }} as cell_size, count(*) as cell_rows
    from {{ model }}
    group by grouping sets (({{ qis }}, {{ value }}), ({{ qis }}))
    {%- else %}
      0 as is_class, count(*) as cell_size, count(*) as cell_rows
    from {{ model }}
    group by {{ qis }}, {{ value }}
    {%- endif %}
  )
{% endmacro %}

{#- Aggregates over a class's rows of <prefix>_cells: its size (people: its is_class row; rows: the sum of its cells) and rows.
    Without a unit every row is a cell (is_class = 0): plain sums, which the database computes once for both. -#}
{% macro _cells_class_size(unit) %}
  {{ return('max(case when is_class = 1 then cell_size end)' if unit else privacy_guard._count_sum('cell_size')) }}
{% endmacro %}

{% macro _cells_class_rows(unit) %}
  {{ return(privacy_guard._count_sum('case when is_class = 0 then cell_rows end' if unit else 'cell_size')) }}
{% endmacro %}

{#- A sum of counts, as a bigint (NULL over no value). Summed in floating point, exact below 2^53: an
    integer sum is a 128-bit one on DuckDB when its input carries no statistics (a CTE) and a numeric
    on PostgreSQL, slower to add and, where the sum is a key downstream (t's class total), to group
    on. The same expression everywhere, so the database computes one aggregate for the class's rows,
    size and total. -#}
{% macro _count_sum(expression) %}
  {{ return('cast(sum(cast(' ~ expression ~ ' as ' ~ privacy_guard._double_type() ~ ')) as bigint)') }}
{% endmacro %}

{#- A cell's size where it holds someone, else NULL (aggregates skip it): with a unit the class rows and
    cells of NULL units only are left out; without one every row is such a cell. -#}
{% macro _cells_counted_size(unit) %}
  {{ return('case when is_class = 0 and cell_size > 0 then cell_size end' if unit else 'cell_size') }}
{% endmacro %}

{#- The QIs renamed qi_1..qi_n: later CTEs name them without quoting, whatever the columns are called. -#}
{% macro _qi_aliases(quasi_identifiers) %}
  {%- set parts = [] -%}
  {%- for name in quasi_identifiers -%}
    {%- do parts.append(privacy_guard._column_sql(name) ~ ' as qi_' ~ loop.index) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}

{#- qi_1, ..., qi_n (prefixed `alias.` when given); as_list: the names as a list. -#}
{% macro _qi_names(quasi_identifiers, alias=none, as_list=false) %}
  {%- set parts = [] -%}
  {%- for name in quasi_identifiers -%}
    {%- do parts.append((alias ~ '.' if alias else '') ~ 'qi_' ~ loop.index) -%}
  {%- endfor -%}
  {{ return(parts if as_list else parts | join(', ')) }}
{% endmacro %}
