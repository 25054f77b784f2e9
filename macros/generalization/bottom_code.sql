{#- Bottom coding: values below min_value become min_value. -#}
{% macro bottom_code(column, min_value) %}
  {{ return(adapter.dispatch('bottom_code', 'privacy_guard')(column, min_value)) }}
{% endmacro %}

{#- CASE rather than greatest(): greatest() skips NULLs on some adapters. -#}
{% macro default__bottom_code(column, min_value) %}
  case when ({{ column }}) < {{ min_value }} then {{ min_value }} else {{ column }} end
{% endmacro %}
