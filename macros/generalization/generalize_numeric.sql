{#- Band label of a number: fixed-width bands (`30-39`) or bands between explicit breakpoints. -#}
{% macro generalize_numeric(column, width=none, breakpoints=none) %}
  {{ return(adapter.dispatch('generalize_numeric', 'privacy_guard')(column, width, breakpoints)) }}
{% endmacro %}

{% macro default__generalize_numeric(column, width, breakpoints) %}
  {%- if (width is none) == (breakpoints is none) -%}
    {{ exceptions.raise_compiler_error('privacy_guard.generalize_numeric(' ~ column ~ '): pass exactly one of width or breakpoints') }}
  {%- endif -%}
  {%- if width is not none -%}
    {%- if width is not integer or width is boolean or width < 1 -%}
      {{ exceptions.raise_compiler_error('privacy_guard.generalize_numeric(' ~ column ~ '): width must be a positive integer (got ' ~ width ~ ')') }}
    {%- endif -%}
    {#- floor over a real division: integer division truncates toward zero on some adapters. -#}
    {%- set lower_bound = 'cast(floor((' ~ column ~ ') * 1.0 / ' ~ width ~ ') * ' ~ width ~ ' as bigint)' -%}
    case when ({{ column }}) is null then null
      else cast({{ lower_bound }} as {{ dbt.type_string() }}) || '-' || cast({{ lower_bound }} + {{ width - 1 }} as {{ dbt.type_string() }})
    end
  {%- else -%}
    {%- if breakpoints is string or breakpoints | length == 0 or breakpoints | sort | list != breakpoints | list or breakpoints | unique | list | length != breakpoints | length -%}
      {{ exceptions.raise_compiler_error('privacy_guard.generalize_numeric(' ~ column ~ '): breakpoints must be a non-empty list of distinct ascending numbers (got ' ~ breakpoints ~ ')') }}
    {%- endif -%}
    case when ({{ column }}) is null then null
      when ({{ column }}) < {{ breakpoints[0] }} then '<{{ breakpoints[0] }}'
    {%- for lower in breakpoints[:-1] %}
      when ({{ column }}) < {{ breakpoints[loop.index] }} then '{{ lower }}-{{ breakpoints[loop.index] - 1 }}'
    {%- endfor %}
      else '{{ breakpoints[-1] }}+'
    end
  {%- endif -%}
{% endmacro %}
