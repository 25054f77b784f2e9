{#-
  One row per (sensitive column, equivalence class) that is not l-diverse: the class size and the
  measured value, never the QI or sensitive values.
    distinct:  number of distinct sensitive values (NULL counts as one)       >= l
    entropy:   exp(H), H the natural-log entropy of the class's values         >= l (- tolerance)
    recursive: r1 / (r_l + ... + r_m) over the counts sorted descending       <  c
-#}
{% test l_diversity(model, l=none, variant='distinct', c=none, quasi_identifiers=none, sensitive_column=none) %}
  {{ return(adapter.dispatch('test_l_diversity', 'privacy_guard')(model, l, variant, c, quasi_identifiers, sensitive_column)) }}
{% endtest %}

{% macro default__test_l_diversity(model, l, variant, c, quasi_identifiers, sensitive_column) %}
  {%- set target = privacy_guard._resolve_target(model, 'l_diversity', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set sensitive_columns = privacy_guard._resolve_sensitive_columns(target, sensitive_column) -%}
  {%- set l = privacy_guard._resolve_threshold(target, 'l', l) -%}
  {%- if variant not in ['distinct', 'entropy', 'recursive'] -%}
    {{ privacy_guard._raise_for_target(target, 'variant must be one of distinct, entropy, recursive (got ' ~ (variant | tojson) ~ ')') }}
  {%- endif -%}
  {%- if execute and variant == 'recursive' and (c is not number or c is boolean or l is not integer) -%}
    {{ privacy_guard._raise_for_target(target, 'variant recursive needs a number `c` and an integer `l` (got c=' ~ (c | tojson) ~ ', l=' ~ (l | tojson) ~ ')') }}
  {%- endif -%}
with
  {%- for column in sensitive_columns %}
  {{ privacy_guard._class_cells_ctes(model, quasi_identifiers, column, 's' ~ loop.index) }},
  s{{ loop.index }}_classes as (
    select
      class_id,
      sum(cell_size) as class_size,
    {%- if variant == 'distinct' %}
      count(*) as measured
    {%- elif variant == 'entropy' %}
      {#- exp(H) with H = ln(N) - sum(n ln n) / N: one pass over the cells. -#}
      exp(ln(sum(cell_size)) - sum(cell_size * ln(cell_size)) / sum(cell_size)) as measured
    {%- else %}
      max(cell_size) as top_count,
      sum(case when value_rank >= {{ l }} then cell_size else 0 end) as tail_count
    {%- endif %}
    from (
      select class_id, cell_size, row_number() over (partition by class_id order by cell_size desc) as value_rank
      from s{{ loop.index }}_cells
    ) as ranked
    group by class_id
  ),
  {%- endfor %}
  violations as (
  {%- for column in sensitive_columns %}
    {%- if variant == 'recursive' %}
    select '{{ column }}' as sensitive_column, class_size,
      cast(top_count as double precision) / nullif(tail_count, 0) as measured
    from s{{ loop.index }}_classes
    where tail_count = 0 or cast(top_count as double precision) / tail_count >= cast({{ c }} as double precision)
    {%- else %}
    select '{{ column }}' as sensitive_column, class_size, cast(measured as double precision) as measured
    from s{{ loop.index }}_classes
    where measured < cast({{ l }} as double precision){% if variant == 'entropy' %} - {{ privacy_guard._measure_tolerance() }}{% endif %}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
  {%- endfor %}
  )
select * from violations
{% endmacro %}
