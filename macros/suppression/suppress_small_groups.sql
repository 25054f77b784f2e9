{#- A full select of the relation without the rows whose quasi-identifier combination occurs < k times. -#}
{% macro suppress_small_groups(relation, quasi_identifiers=none, k=none) %}
  {{ return(adapter.dispatch('suppress_small_groups', 'privacy_guard')(relation, quasi_identifiers, k)) }}
{% endmacro %}

{% macro default__suppress_small_groups(relation, quasi_identifiers, k) %}
  {%- set arguments = privacy_guard._suppression_arguments('suppress_small_groups', relation, quasi_identifiers, k) -%}
  {%- set select_list = [] -%}
  {%- for name in privacy_guard._suppression_columns('suppress_small_groups', relation) -%}
    {%- do select_list.append(adapter.quote(name)) -%}
  {%- endfor -%}
  select {{ select_list | join(', ') or '*' }}
    from {{ privacy_guard._with_class_size(relation, arguments.quasi_identifiers) }}
   where privacy_guard_class_size >= {{ arguments.k }}
{% endmacro %}

{#- qualify needs no column list, so a CTE name works too. -#}
{% macro duckdb__suppress_small_groups(relation, quasi_identifiers, k) %}
  {%- set arguments = privacy_guard._suppression_arguments('suppress_small_groups', relation, quasi_identifiers, k) -%}
  select * from {{ relation }}
  qualify count(*) over (partition by {{ privacy_guard._columns_sql(arguments.quasi_identifiers) }}) >= {{ arguments.k }}
{% endmacro %}
