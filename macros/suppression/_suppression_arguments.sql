{#-
  quasi_identifiers, k and privacy unit of a suppression macro: the argument, else the effective
  meta of the relation's node (columns classed quasi_identifier; privacy.k, the maximum along its
  lineage; privacy.privacy_unit), else settings.default_k and row counts. Resolution is shared
  with the generic tests (macros/_internal/_arguments.sql). A CTE name has no node, so it needs
  both arguments; that is known at parse time and fails there.
-#}
{% macro _suppression_arguments(macro_name, relation, quasi_identifiers, k, privacy_unit=none) %}
  {%- if relation is string and (quasi_identifiers is none or k is none) -%}
    {{ exceptions.raise_compiler_error('privacy_guard.' ~ macro_name ~ '(' ~ relation ~ '): a CTE name has no meta to default from; pass quasi_identifiers=[...] and k=... explicitly') }}
  {%- endif -%}
  {%- set target = privacy_guard._resolve_target(relation, macro_name, 'macro') -%}
  {{ return({
    'quasi_identifiers': privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers),
    'k': privacy_guard._resolve_threshold(target, 'k', k),
    'privacy_unit': privacy_guard._resolve_privacy_unit(target, privacy_unit),
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

{#- A subquery over the relation with each row's equivalence-class size (people or rows) added. -#}
{% macro _with_class_size(relation, arguments) %}
  (select *, {{ privacy_guard._class_size_window(arguments.quasi_identifiers, arguments.privacy_unit) }} as privacy_guard_class_size
     from {{ relation }}) as privacy_guard_sized
{% endmacro %}

{#- The size of the row's equivalence class as a window: distinct non-NULL units, else rows. -#}
{% macro _class_size_window(quasi_identifiers, unit) %}
  {{ return(adapter.dispatch('_class_size_window', 'privacy_guard')(quasi_identifiers, unit)) }}
{% endmacro %}

{#- Portable: no DISTINCT in window aggregates (Postgres has none): ranks up plus ranks down - 1
    counts distinct values, less one when NULL is among them. NULL must sort at opposite ends of the
    two orders (last, then first), or the ranks do not add up to the count. -#}
{% macro default___class_size_window(quasi_identifiers, unit) %}
  {%- set partition = 'partition by ' ~ privacy_guard._columns_sql(quasi_identifiers) -%}
  {%- if not unit -%}
    {{ return('count(*) over (' ~ partition ~ ')') }}
  {%- endif -%}
  {%- set value = privacy_guard._column_sql(unit) -%}
  {{ return('(dense_rank() over (' ~ partition ~ ' order by ' ~ value ~ ' nulls last) + dense_rank() over (' ~ partition ~ ' order by ' ~ value ~ ' desc nulls first) - 1'
    ~ ' - max(case when ' ~ value ~ ' is null then 1 else 0 end) over (' ~ partition ~ '))') }}
{% endmacro %}

{% macro duckdb___class_size_window(quasi_identifiers, unit) %}
  {{ return(privacy_guard._class_size_sql(unit) ~ ' over (partition by ' ~ privacy_guard._columns_sql(quasi_identifiers) ~ ')') }}
{% endmacro %}
