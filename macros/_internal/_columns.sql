{#- Column names as SQL, and the columns of a built relation: shared by the tests and the macros. -#}

{#- A column name as SQL: plain identifiers stay as written, others (`marital-status`) are quoted. -#}
{% macro _column_sql(name) %}
  {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', name) -%}
    {{ return(name) }}
  {%- endif -%}
  {{ return(adapter.quote(name)) }}
{% endmacro %}

{#- Several column names as a comma-separated SQL list. -#}
{% macro _columns_sql(names) %}
  {%- set parts = [] -%}
  {%- for name in names -%}
    {%- do parts.append(privacy_guard._column_sql(name)) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}

{#- lower-case column name -> dbt Column of the built relation ({} when it cannot be looked up). -#}
{% macro _relation_columns(relation) %}
  {%- set columns = {} -%}
  {%- if execute and relation is not string -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
      {%- do columns.update({column.name | lower: column}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(columns) }}
{% endmacro %}
