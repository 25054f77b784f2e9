{#- A full select of every column of the relation except those classed direct_identifier in its meta. -#}
{% macro drop_direct_identifiers(relation, except=[]) %}
  {{ return(adapter.dispatch('drop_direct_identifiers', 'privacy_guard')(relation, except)) }}
{% endmacro %}

{% macro default__drop_direct_identifiers(relation, except) %}
  {%- if relation is string -%}
    {{ exceptions.raise_compiler_error('privacy_guard.drop_direct_identifiers(' ~ relation ~ '): needs a relation (ref/source) whose meta classes its columns, not a CTE name') }}
  {%- endif -%}
  {%- if not execute -%}
    {{ return('select * from ' ~ relation) }}
  {%- endif -%}
  {%- set target = privacy_guard._resolve_target(relation, 'drop_direct_identifiers', 'macro') -%}
  {%- if not target.found -%}
    {{ exceptions.raise_compiler_error('privacy_guard.drop_direct_identifiers(' ~ relation ~ '): no model, seed, snapshot or source of this project builds this relation, so no meta says which columns are direct identifiers') }}
  {%- endif -%}
  {%- set kept = privacy_guard._as_list(except) | map('lower') | list -%}
  {%- set dropped = privacy_guard._columns_of_class(target.column_policies, 'direct_identifier') | reject('in', kept) | list -%}
  {%- set select_list = [] -%}
  {%- for column in privacy_guard._relation_columns(relation).values() if column.name | lower not in dropped -%}
    {%- do select_list.append(privacy_guard._quote_identifier(column.name)) -%}
  {%- endfor -%}
  {%- if not select_list -%}
    {{ exceptions.raise_compiler_error('privacy_guard.drop_direct_identifiers(' ~ relation ~ '): no column would remain') }}
  {%- endif -%}
  select {{ select_list | join(', ') }} from {{ relation }}
{% endmacro %}
