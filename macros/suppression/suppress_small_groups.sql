{#-
  A full select of the relation without the rows whose quasi-identifier combination is shared by
  fewer than k people (distinct privacy units; rows when no unit is set).
-#}
{% macro suppress_small_groups(relation, quasi_identifiers=none, k=none, privacy_unit=none) %}
  {{ return(adapter.dispatch('suppress_small_groups', 'privacy_guard')(relation, quasi_identifiers, k, privacy_unit)) }}
{% endmacro %}

{% macro default__suppress_small_groups(relation, quasi_identifiers, k, privacy_unit=none) %}
  {%- set arguments = privacy_guard._suppression_arguments('suppress_small_groups', relation, quasi_identifiers, k, privacy_unit) -%}
  {%- set select_list = [] -%}
  {%- for name in privacy_guard._suppression_columns('suppress_small_groups', relation) -%}
    {%- do select_list.append(privacy_guard._quote_identifier(name)) -%}
  {%- endfor -%}
  select {{ select_list | join(', ') or '*' }}
    from {{ privacy_guard._with_class_size(relation, arguments) }}
   where privacy_guard_class_size >= {{ arguments.k }}
{% endmacro %}

{#- qualify needs no column list, so a CTE name works too. -#}
{% macro duckdb__suppress_small_groups(relation, quasi_identifiers, k, privacy_unit=none) %}
  {%- set arguments = privacy_guard._suppression_arguments('suppress_small_groups', relation, quasi_identifiers, k, privacy_unit) -%}
  select * from {{ relation }}
  qualify {{ privacy_guard._class_size_window(arguments.quasi_identifiers, arguments.privacy_unit) }} >= {{ arguments.k }}
{% endmacro %}
