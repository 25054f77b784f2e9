{#-
  quasi_identifiers and k of a suppression macro: the argument, else the meta of the relation's
  node (columns classed quasi_identifier; privacy.k), else settings.default_k. Resolution is shared
  with the generic tests (macros/_internal/_arguments.sql). A CTE name has no node, so it needs
  both arguments; that is known at parse time and fails there.
-#}
{% macro _suppression_arguments(macro_name, relation, quasi_identifiers, k) %}
  {%- if relation is string and (quasi_identifiers is none or k is none) -%}
    {{ exceptions.raise_compiler_error('privacy_guard.' ~ macro_name ~ '(' ~ relation ~ '): a CTE name has no meta to default from; pass quasi_identifiers=[...] and k=... explicitly') }}
  {%- endif -%}
  {%- set target = privacy_guard._resolve_target(relation, macro_name, 'macro') -%}
  {{ return({
    'quasi_identifiers': privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers),
    'k': privacy_guard._resolve_threshold(target, 'k', k),
  }) }}
{% endmacro %}

{#-
  The relation's column names (for adapters without `select * exclude/replace`); [] at parse time.
  A CTE name fails only when run: the same project must still parse on every adapter.
-#}
{% macro _suppression_columns(macro_name, relation) %}
  {%- if relation is string and execute -%}
    {{ exceptions.raise_compiler_error('privacy_guard.' ~ macro_name ~ '(' ~ relation ~ '): on ' ~ adapter.type() ~ ' the columns must be listed, which needs a relation (ref/source), not a CTE name') }}
  {%- endif -%}
  {{ return(privacy_guard._relation_columns(relation).values() | map(attribute='name') | list) }}
{% endmacro %}

{#- A subquery over the relation with each row's equivalence-class size added. -#}
{% macro _with_class_size(relation, quasi_identifiers) %}
  (select *, count(*) over (partition by {{ privacy_guard._columns_sql(quasi_identifiers) }}) as privacy_guard_class_size
     from {{ relation }}) as privacy_guard_sized
{% endmacro %}
