{#- Column names as SQL, and the columns of a built relation: shared by the tests and the macros. -#}

{#-
  A column name as SQL: plain identifiers stay as written, others (`marital-status`, `zip"; --`)
  are quoted with the adapter's quote character, that character doubled inside: a name can never
  end the identifier and change the query.
-#}
{% macro _column_sql(name) %}
  {%- if modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', name) -%}
    {{ return(name) }}
  {%- endif -%}
  {{ return(privacy_guard._quote_identifier(name)) }}
{% endmacro %}

{#- Any identifier quoted and escaped (adapter.quote does not escape the quote character itself). -#}
{% macro _quote_identifier(name) %}
  {%- set quote = adapter.quote('')[0] -%}
  {{ return(quote ~ (name | string).replace(quote, quote ~ quote) ~ quote) }}
{% endmacro %}

{#- A text value (a column name reported in a test's rows) as an SQL string literal. -#}
{% macro _string_literal(value) %}
  {{ return(adapter.dispatch('_string_literal', 'privacy_guard')(value)) }}
{% endmacro %}

{#- Standard SQL: `'` doubled. -#}
{% macro default___string_literal(value) %}
  {{ return("'" ~ (value | string).replace("'", "''") ~ "'") }}
{% endmacro %}

{#- Spark reads a backslash in a literal as an escape: double it too. -#}
{% macro spark___string_literal(value) %}
  {{ return("'" ~ (value | string).replace("\\", "\\\\").replace("'", "''") ~ "'") }}
{% endmacro %}

{#- Several column names as a comma-separated SQL list. -#}
{% macro _columns_sql(names) %}
  {%- set parts = [] -%}
  {%- for name in names -%}
    {%- do parts.append(privacy_guard._column_sql(name)) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}

{#- The size of a group of rows: its distinct (non-NULL) privacy units, else its rows. -#}
{% macro _class_size_sql(unit) %}
  {{ return('count(distinct ' ~ privacy_guard._column_sql(unit) ~ ')' if unit else 'count(*)') }}
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
