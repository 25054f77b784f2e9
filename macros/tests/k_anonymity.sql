{#-
  One row per equivalence class smaller than k: the measure, k, its size (distinct people when a
  privacy unit is set, else rows) and its rows, never its QI values. One GROUP BY over the QIs.
-#}
{% test k_anonymity(model, k=none, quasi_identifiers=none, privacy_unit=none) %}
  {{ return(adapter.dispatch('test_k_anonymity', 'privacy_guard')(model, k, quasi_identifiers, privacy_unit)) }}
{% endtest %}

{% macro default__test_k_anonymity(model, k, quasi_identifiers, privacy_unit) %}
  {%- set target = privacy_guard._resolve_target(model, 'k_anonymity', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set k = privacy_guard._resolve_threshold(target, 'k', k) -%}
  {%- set unit = privacy_guard._resolve_privacy_unit(target, privacy_unit) -%}
  {%- set size = privacy_guard._class_size_sql(unit) -%}
  {%- set test_sql -%}
select 'k' as measure, {{ k }} as threshold, {{ size }} as class_size, count(*) as class_rows
from {{ model }}
group by {{ privacy_guard._columns_sql(quasi_identifiers) }}
having {{ size }} < {{ k }}
  {%- endset -%}
  {{ privacy_guard._explained_test_sql(target, test_sql, {
    'measure': 'k=' ~ k, 'quasi_identifiers': quasi_identifiers, 'unit': unit, 'below': 'below k',
    'drop_one': {'model': model, 'k': k, 'size': size} if quasi_identifiers | length > 1 else none,
  }) }}
{% endmacro %}
