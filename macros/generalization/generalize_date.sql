{#- A date or timestamp truncated to the first day of its week (Monday), month, quarter or year. -#}
{% macro generalize_date(column, grain) %}
  {{ return(adapter.dispatch('generalize_date', 'privacy_guard')(column, grain)) }}
{% endmacro %}

{#- date_trunc returns a timestamp even for a date: cast back so the column stays a DATE. -#}
{% macro default__generalize_date(column, grain) %}
  {%- if grain not in ['week', 'month', 'quarter', 'year'] -%}
    {{ exceptions.raise_compiler_error('privacy_guard.generalize_date(' ~ column ~ '): grain must be one of week, month, quarter, year (got ' ~ grain ~ ')') }}
  {%- endif -%}
  cast(date_trunc('{{ grain }}', {{ column }}) as date)
{% endmacro %}
