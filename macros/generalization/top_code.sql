{#- Top coding: values above max_value become max_value (an outlier no longer singles a person out). -#}
{% macro top_code(column, max_value) %}
  {{ return(adapter.dispatch('top_code', 'privacy_guard')(column, max_value)) }}
{% endmacro %}

{#- CASE rather than least(): least() skips NULLs on some adapters and would turn NULL into the bound. -#}
{% macro default__top_code(column, max_value) %}
  case when ({{ column }}) > {{ max_value }} then {{ max_value }} else {{ column }} end
{% endmacro %}
