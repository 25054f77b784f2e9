{#-
  One row per (sensitive column, equivalence class) that is not l-diverse: the measure, its
  threshold, the class's size (people when a privacy unit is set, else rows), rows and measured
  value, never the QI or sensitive values. Each person's value counts once per value.
    distinct:  number of distinct sensitive values (NULL counts as one)       >= l
    entropy:   exp(H), H the natural-log entropy of the class's values         >= l (- tolerance)
    recursive: r1 / (r_l + ... + r_m) over the counts sorted descending       <  c
  GROUP BY the QIs directly: (QI, value) cells, then classes (the plan of a bare count(distinct)).
  Recursive with l <= 2 needs no ranks (the tail is the class minus its top count); only l >= 3
  ranks each class's cells with a window.
-#}
{% test l_diversity(model, l=none, variant='distinct', c=none, quasi_identifiers=none, sensitive_column=none, privacy_unit=none) %}
  {{ return(adapter.dispatch('test_l_diversity', 'privacy_guard')(model, l, variant, c, quasi_identifiers, sensitive_column, privacy_unit)) }}
{% endtest %}

{% macro default__test_l_diversity(model, l, variant, c, quasi_identifiers, sensitive_column, privacy_unit) %}
  {%- set target = privacy_guard._resolve_target(model, 'l_diversity', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set sensitive_columns = privacy_guard._resolve_sensitive_columns(target, sensitive_column) -%}
  {%- set l = privacy_guard._resolve_threshold(target, 'l', l) -%}
  {%- set unit = privacy_guard._resolve_privacy_unit(target, privacy_unit) -%}
  {%- if variant not in ['distinct', 'entropy', 'recursive'] -%}
    {{ privacy_guard._raise_for_target(target, 'variant must be one of distinct, entropy, recursive (got ' ~ (variant | tojson) ~ ')') }}
  {%- endif -%}
  {%- if execute and variant == 'recursive' and (c is not number or c is boolean or l is not integer) -%}
    {{ privacy_guard._raise_for_target(target, 'variant recursive needs a number `c` and an integer `l` (got c=' ~ (c | tojson) ~ ', l=' ~ (l | tojson) ~ ')') }}
  {%- endif -%}
  {%- set measure = 'recursive c (l=' ~ l ~ ')' if variant == 'recursive' else variant ~ ' l' -%}
  {%- set threshold = c if variant == 'recursive' else l -%}
  {%- set qis = privacy_guard._qi_names(quasi_identifiers) -%}
  {%- set rank_cells = variant == 'recursive' and l is number and l > 2 -%}
  {%- set test_sql -%}
with
  {%- for column in sensitive_columns %}
  {%- set s = 's' ~ loop.index %}
  {{ privacy_guard._class_cells_cte(model, quasi_identifiers, column, unit, s) }},
  {%- if rank_cells %}
  {{ s }}_ranked as (
    select {{ qis }}, is_class, cell_size, cell_rows,
      row_number() over (partition by {{ qis }}, is_class order by cell_size desc) as value_rank
    from {{ s }}_cells
  ),
  {%- endif %}
  {{ s }}_classes as (
    select
      {{ privacy_guard._cells_class_size(unit) }} as class_size,
      {{ privacy_guard._cells_class_rows(unit) }} as class_rows,
    {%- set n = privacy_guard._cells_counted_size(unit) %}
    {%- if variant == 'distinct' %}
      {#- A NULL value is a cell like any other: one more value. Without a unit every cell counts, and
          count(*) lets the database drop the cell sizes when only failing classes are counted (dbt's
          count(*) over the test): the plan of a bare count(distinct). -#}
      count({{ n if unit else '*' }}) as measured
    from {{ s }}_cells
    {%- elif variant == 'entropy' %}
      {#- exp(H) with H = ln(N) - sum(n ln n) / N over the class's cells; a class of no person measures 0.
          Two sums per class, like the bare GROUP BY computing sum(n ln n); both in floating point, as an
          integer sum of counts is a 128-bit one on DuckDB (exact below 2^53 rows). -#}
      {%- set size = 'cast(' ~ n ~ ' as ' ~ privacy_guard._double_type() ~ ')' %}
      coalesce(exp(ln(sum({{ size }})) - sum({{ size }} * ln({{ size }})) / sum({{ size }})), 0) as measured
    from {{ s }}_cells
    {%- else %}
      max(case when is_class = 0 then cell_size end) as top_count,
      {%- if rank_cells %}
      sum(case when is_class = 0 and value_rank >= {{ l }} then cell_size else 0 end) as tail_count
    from {{ s }}_ranked
      {%- else %}
      {#- r_l + ... + r_m: every count for l <= 1, all but the largest for l = 2. #}
      sum(case when is_class = 0 then cell_size else 0 end){% if l == 2 %} - coalesce(max(case when is_class = 0 then cell_size end), 0){% endif %} as tail_count
    from {{ s }}_cells
      {%- endif %}
    {%- endif %}
    group by {{ qis }}
  ),
  {%- endfor %}
  violations as (
  {%- for column in sensitive_columns %}
    select '{{ measure }}' as measure, {{ threshold }} as threshold, {{ privacy_guard._string_literal(column) }} as sensitive_column,
      class_size, class_rows,
    {%- if variant == 'recursive' %}
      cast(top_count as {{ privacy_guard._double_type() }}) / nullif(tail_count, 0) as measured
    from s{{ loop.index }}_classes
    where tail_count = 0 or cast(top_count as {{ privacy_guard._double_type() }}) / tail_count >= cast({{ c }} as {{ privacy_guard._double_type() }})
    {%- else %}
      cast(measured as {{ privacy_guard._double_type() }}) as measured
    from s{{ loop.index }}_classes
    where measured < cast({{ l }} as {{ privacy_guard._double_type() }}){% if variant == 'entropy' %} - {{ privacy_guard._measure_tolerance() }}{% endif %}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
  {%- endfor %}
  )
select * from violations
  {%- endset -%}
  {{ privacy_guard._explained_test_sql(target, test_sql, {
    'measure': ('recursive l=' ~ l ~ ', c=' ~ c) if variant == 'recursive' else measure ~ '=' ~ threshold, 'quasi_identifiers': quasi_identifiers, 'unit': unit,
    'sensitive_columns': sensitive_columns, 'below': 'not ' ~ variant ~ ' l-diverse',
  }) }}
{% endmacro %}
