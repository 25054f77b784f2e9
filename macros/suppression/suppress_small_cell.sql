{#-
  An aggregate cell's value when its count reaches k, else NULL (small-cell suppression). Without a
  `count` the cell's own size is counted: distinct privacy units of the rows it aggregates (the
  model's privacy.privacy_unit, own or inherited), else its rows.
-#}
{% macro suppress_small_cell(value, count=none, k=none) %}
  {{ return(adapter.dispatch('suppress_small_cell', 'privacy_guard')(value, count, k)) }}
{% endmacro %}

{#- k defaults from the meta of the model being built (the aggregate), else settings.default_k. -#}
{% macro default__suppress_small_cell(value, count, k) %}
  {%- set target = privacy_guard._model_target('suppress_small_cell') -%}
  {%- set k = privacy_guard._resolve_threshold(target, 'k', k) -%}
  {%- if count is none -%}
    {%- set count = privacy_guard._class_size_sql(privacy_guard._resolve_privacy_unit(target, none, in_relation=false)) -%}
  {%- endif -%}
  case when ({{ count }}) >= {{ k }} then {{ value }} end
{% endmacro %}
