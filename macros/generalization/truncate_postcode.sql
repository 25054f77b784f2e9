{#- The first `keep` characters of a postcode, spaces removed (`SW1A 1AA` -> `SW1`). -#}
{% macro truncate_postcode(column, keep=3) %}
  {{ return(adapter.dispatch('truncate_postcode', 'privacy_guard')(column, keep)) }}
{% endmacro %}

{% macro default__truncate_postcode(column, keep) %}
  {%- if keep is not integer or keep is boolean or keep < 1 -%}
    {{ exceptions.raise_compiler_error('privacy_guard.truncate_postcode(' ~ column ~ '): keep must be a positive integer (got ' ~ keep ~ ')') }}
  {%- endif -%}
  substr(replace(cast({{ column }} as {{ dbt.type_string() }}), ' ', ''), 1, {{ keep }})
{% endmacro %}
