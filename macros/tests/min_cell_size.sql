{#-
  One row per cell of an aggregate whose count is 1..k-1: the measure, k, the count column's name
  and the count, never the cell's dimension values. NULL (a suppressed cell) and 0 (describes
  nobody) pass. Count columns default to the built relation's columns named n, cnt, count, n_*,
  *_count or *_cnt.
  With `cells` (the dimension columns of a release not yet aggregated) the test counts each cell
  itself: one GROUP BY over `cells` counting distinct privacy units (people), else rows. Every such
  cell is published, so one whose rows all have a NULL unit (0 people) fails like any small cell.
-#}
{% test min_cell_size(model, k=none, count_column=none, cells=none, privacy_unit=none) %}
  {{ return(adapter.dispatch('test_min_cell_size', 'privacy_guard')(model, k, count_column, cells, privacy_unit)) }}
{% endtest %}

{% macro _is_count_column(name) %}
  {{ return(modules.re.match('^(n|cnt|count|n_.+|.+_count|.+_cnt)$', name | lower) is not none) }}
{% endmacro %}

{% macro default__test_min_cell_size(model, k, count_column, cells, privacy_unit) %}
  {%- set target = privacy_guard._resolve_target(model, 'min_cell_size', 'test') -%}
  {%- set k = privacy_guard._resolve_threshold(target, 'k', k) -%}
  {%- if cells is not none -%}
    {%- set unit = privacy_guard._resolve_privacy_unit(target, privacy_unit) -%}
    {%- set size = privacy_guard._class_size_sql(unit) -%}
select 'k' as measure, {{ k }} as threshold, {{ privacy_guard._string_literal('people' if unit else 'rows') }} as count_column,
  {{ size }} as cell_count
from {{ model }}
group by {{ privacy_guard._columns_sql(privacy_guard._as_list(cells)) }}
having {{ size }} < {{ k }}
  {%- else -%}
  {%- if count_column is none -%}
    {%- set count_columns = [] -%}
    {%- for name, column in privacy_guard._built_columns(target).items() if privacy_guard._is_count_column(column.name) -%}
      {%- do count_columns.append(column.name) -%}
    {%- endfor -%}
    {%- if execute and not count_columns -%}
      {{ privacy_guard._raise_for_target(target, 'no count column (n, cnt, count, n_*, *_count, *_cnt) in the relation and no `count_column` argument') }}
    {%- endif -%}
  {%- else -%}
    {%- set count_columns = privacy_guard._as_list(count_column) -%}
  {%- endif -%}
with small_cells as (
  {%- for name in count_columns %}
  select 'k' as measure, {{ k }} as threshold, {{ privacy_guard._string_literal(name) }} as count_column, {{ privacy_guard._column_sql(name) }} as cell_count
  from {{ model }}
  where {{ privacy_guard._column_sql(name) }} > 0 and {{ privacy_guard._column_sql(name) }} < {{ k }}
  {% if not loop.last %}union all{% endif %}
  {%- endfor %}
)
select * from small_cells
  {%- endif %}
{% endmacro %}
