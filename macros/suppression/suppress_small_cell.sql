{#- An aggregate cell's value when its count reaches k, else NULL (small-cell suppression). -#}
{% macro suppress_small_cell(value, count, k=none) %}
  {{ return(adapter.dispatch('suppress_small_cell', 'privacy_guard')(value, count, k)) }}
{% endmacro %}

{#- k defaults from the meta of the model being built (the aggregate), else settings.default_k. -#}
{% macro default__suppress_small_cell(value, count, k) %}
  {%- if k is none -%}
    {%- set k = privacy_guard._privacy_of(model or {}).get('k') or privacy_guard._settings().default_k -%}
  {%- endif -%}
  case when ({{ count }}) >= {{ k }} then {{ value }} end
{% endmacro %}
