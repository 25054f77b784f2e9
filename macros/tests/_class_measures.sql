{#-
  Helpers of the class-distribution tests (l_diversity, t_closeness). Argument resolution and
  column SQL shared with the macros live in macros/_internal/.
-#}

{#- Absolute slack on real-valued measures (entropy-l, t): SQL and Python sum floats in different
    orders, so a class that is exactly at the threshold must not fail by one ulp. -#}
{% macro _measure_tolerance() %}
  {{ return(1e-9) }}
{% endmacro %}

{#-
  Two CTEs over `model`, named <prefix>_labelled and <prefix>_cells: every row labelled with an
  integer class id (dense rank over the quasi-identifiers: NULL is one value, like GROUP BY) and the
  position of its sensitive value among the sorted distinct values (NULL last); then the count of
  rows per (class_id, position). The QI values themselves never leave the first CTE.
-#}
{% macro _class_cells_ctes(model, quasi_identifiers, sensitive_column, prefix) %}
  {{ prefix }}_labelled as (
    select
      dense_rank() over (order by {{ privacy_guard._columns_sql(quasi_identifiers) }}) as class_id,
      dense_rank() over (order by {{ privacy_guard._column_sql(sensitive_column) }} nulls last) as value_position
    from {{ model }}
  ),
  {{ prefix }}_cells as (
    select class_id, value_position, count(*) as cell_size
    from {{ prefix }}_labelled
    group by class_id, value_position
  )
{% endmacro %}
