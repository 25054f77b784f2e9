{#-
  One row per (sensitive column, equivalence class) whose value distribution is farther than t from
  the whole table's (Earth Mover's Distance; Li, Li & Venkatasubramanian 2007): the class size and
  the distance, never the values.
    equal   (categorical): 1/2 * sum_i |p_i - q_i|
    ordered (numeric):     sum_i |sum_{j<=i} (p_j - q_j)| / (m - 1) over the m sorted distinct values
  `distance` defaults to ordered for numeric columns of the built relation, else equal.
-#}
{% test t_closeness(model, t=none, distance=none, quasi_identifiers=none, sensitive_column=none) %}
  {{ return(adapter.dispatch('test_t_closeness', 'privacy_guard')(model, t, distance, quasi_identifiers, sensitive_column)) }}
{% endtest %}

{#- equal | ordered for one sensitive column: the argument, else from the built column's type
    (`built`: the relation's columns, introspected once per test). -#}
{% macro _t_closeness_distance(target, built, column, distance) %}
  {%- if distance is not none -%}
    {%- if distance not in ['equal', 'ordered'] -%}
      {{ privacy_guard._raise_for_target(target, 'distance must be equal or ordered (got ' ~ (distance | tojson) ~ ')') }}
    {%- endif -%}
    {{ return(distance) }}
  {%- endif -%}
  {%- set column = built.get(column | lower) -%}
  {%- set numeric = column is not none and (column.is_numeric() or column.is_integer() or column.is_float()) -%}
  {{ return('ordered' if numeric else 'equal') }}
{% endmacro %}

{% macro default__test_t_closeness(model, t, distance, quasi_identifiers, sensitive_column) %}
  {%- set target = privacy_guard._resolve_target(model, 't_closeness', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set sensitive_columns = privacy_guard._resolve_sensitive_columns(target, sensitive_column) -%}
  {%- set t = privacy_guard._resolve_threshold(target, 't', t) -%}
  {%- set built = privacy_guard._relation_columns(model) if distance is none else {} -%}
with
  {%- for column in sensitive_columns %}
  {%- set s = 's' ~ loop.index %}
  {{ privacy_guard._class_cells_ctes(model, quasi_identifiers, column, s) }},
  {{ s }}_classes as (
    select class_id, sum(cell_size) as class_size from {{ s }}_cells group by class_id
  ),
  {{ s }}_table as (
    select value_position, cast(sum(cell_size) as double precision) / (select sum(cell_size) from {{ s }}_cells) as table_share
    from {{ s }}_cells
    group by value_position
  ),
  {{ s }}_shares as (
    select cells.class_id, cells.value_position,
      cast(cells.cell_size as double precision) / classes.class_size as class_share
    from {{ s }}_cells as cells
    inner join {{ s }}_classes as classes on cells.class_id = classes.class_id
  ),
  {% if privacy_guard._t_closeness_distance(target, built, column, distance) == 'ordered' %}
  {#- Every class against every value: the cumulative difference runs over all m positions. -#}
  {{ s }}_cumulative as (
    select classes.class_id,
      sum(coalesce(shares.class_share, 0) - whole.table_share)
        over (partition by classes.class_id order by whole.value_position rows between unbounded preceding and current row) as running_difference
    from {{ s }}_classes as classes
    cross join {{ s }}_table as whole
    left join {{ s }}_shares as shares
      on shares.class_id = classes.class_id and shares.value_position = whole.value_position
  ),
  {{ s }}_distances as (
    select class_id,
      coalesce(sum(abs(running_difference)) / nullif((select count(*) from {{ s }}_table) - 1, 0), 0) as distance
    from {{ s }}_cumulative
    group by class_id
  ),
  {%- else %}
  {#- Values absent from a class add their table share: 1/2 (sum over present |p-q| + 1 - sum present q). -#}
  {{ s }}_distances as (
    select shares.class_id,
      0.5 * (sum(abs(shares.class_share - whole.table_share)) + 1 - sum(whole.table_share)) as distance
    from {{ s }}_shares as shares
    inner join {{ s }}_table as whole on shares.value_position = whole.value_position
    group by shares.class_id
  ),
  {%- endif %}
  {%- endfor %}
  violations as (
  {%- for column in sensitive_columns %}
    select '{{ column }}' as sensitive_column, classes.class_size, distances.distance
    from s{{ loop.index }}_distances as distances
    inner join s{{ loop.index }}_classes as classes on distances.class_id = classes.class_id
    where distances.distance > cast({{ t }} as double precision) + {{ privacy_guard._measure_tolerance() }}
    {% if not loop.last %}union all{% endif %}
  {%- endfor %}
  )
select * from violations
{% endmacro %}
