{#- An aggregate cell's value when its count reaches k, else NULL (small-cell suppression). -#}
{% macro suppress_small_cell(value, count, k=none) %}
  {{ return(adapter.dispatch('suppress_small_cell', 'privacy_guard')(value, count, k)) }}
{% endmacro %}

{#- k defaults from the meta of the model being built (the aggregate), else settings.default_k. -#}
{% macro default__suppress_small_cell(value, count, k) %}
  {%- set k = privacy_guard._resolve_threshold(privacy_guard._model_target('suppress_small_cell'), 'k', k) -%}
  case when ({{ count }}) >= {{ k }} then {{ value }} end
{% endmacro %}
