{#-
  A full select of the relation where the rows whose quasi-identifier combination is shared by
  fewer than k people (distinct privacy units; rows when no unit is set) get NULL in `columns` (default: the quasi-identifiers); other rows and columns are unchanged.
-#}
{% macro local_suppression(relation, quasi_identifiers=none, k=none, columns=none, privacy_unit=none) %}
  {{ return(adapter.dispatch('local_suppression', 'privacy_guard')(relation, quasi_identifiers, k, columns, privacy_unit)) }}
{% endmacro %}

{#- The columns to blank, lower case (names are matched case-insensitively). -#}
{% macro _blanked_columns(arguments, columns) %}
  {%- set names = [] -%}
  {%- for name in (arguments.quasi_identifiers if columns is none else privacy_guard._as_list(columns)) -%}
    {%- do names.append(name | lower) -%}
  {%- endfor -%}
  {{ return(names) }}
{% endmacro %}

{% macro _blanked(column, k) %}
  case when privacy_guard_class_size < {{ k }} then null else {{ column }} end
{% endmacro %}

{% macro default__local_suppression(relation, quasi_identifiers, k, columns, privacy_unit=none) %}
  {%- set arguments = privacy_guard._suppression_arguments('local_suppression', relation, quasi_identifiers, k, privacy_unit) -%}
  {%- set blanked = privacy_guard._blanked_columns(arguments, columns) -%}
  {%- set select_list = [] -%}
  {%- for name in privacy_guard._suppression_columns('local_suppression', relation) -%}
    {%- set column = privacy_guard._quote_identifier(name) -%}
    {%- do select_list.append(privacy_guard._blanked(column, arguments.k) ~ ' as ' ~ column if name | lower in blanked else column) -%}
  {%- endfor -%}
  select {{ select_list | join(', ') or '*' }}
    from {{ privacy_guard._with_class_size(relation, arguments) }}
{% endmacro %}

{#- * exclude/replace need no column list, so a CTE name works too. -#}
{% macro duckdb__local_suppression(relation, quasi_identifiers, k, columns, privacy_unit=none) %}
  {%- set arguments = privacy_guard._suppression_arguments('local_suppression', relation, quasi_identifiers, k, privacy_unit) -%}
  {%- set replacements = [] -%}
  {%- for name in privacy_guard._blanked_columns(arguments, columns) -%}
    {%- set column = privacy_guard._column_sql(name) -%}
    {%- do replacements.append(privacy_guard._blanked(column, arguments.k) ~ ' as ' ~ column) -%}
  {%- endfor -%}
  select * exclude (privacy_guard_class_size) replace ({{ replacements | join(', ') }})
    from {{ privacy_guard._with_class_size(relation, arguments) }}
{% endmacro %}
