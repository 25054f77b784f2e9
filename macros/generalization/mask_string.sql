{#- The first `keep` characters, every further character replaced by mask_char (length kept). -#}
{% macro mask_string(column, keep=1, mask_char='*') %}
  {{ return(adapter.dispatch('mask_string', 'privacy_guard')(column, keep, mask_char)) }}
{% endmacro %}

{% macro default__mask_string(column, keep, mask_char) %}
  {%- if keep is not integer or keep is boolean or keep < 0 -%}
    {{ exceptions.raise_compiler_error('privacy_guard.mask_string(' ~ column ~ '): keep must be an integer >= 0 (got ' ~ keep ~ ')') }}
  {%- endif -%}
  {%- if mask_char is not string or mask_char | length != 1 -%}
    {{ exceptions.raise_compiler_error('privacy_guard.mask_string(' ~ column ~ '): mask_char must be a single character (got ' ~ mask_char ~ ')') }}
  {%- endif -%}
  {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' -%}
  substr({{ text }}, 1, {{ keep }})
    || repeat({{ dbt.string_literal(dbt.escape_single_quotes(mask_char)) }}, case when length({{ text }}) > {{ keep }} then length({{ text }}) - {{ keep }} else 0 end)
{% endmacro %}
