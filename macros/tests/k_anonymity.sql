{#- One row per equivalence class smaller than k: its size only, never its QI values. -#}
{% test k_anonymity(model, k=none, quasi_identifiers=none) %}
  {{ return(adapter.dispatch('test_k_anonymity', 'privacy_guard')(model, k, quasi_identifiers)) }}
{% endtest %}

{% macro default__test_k_anonymity(model, k, quasi_identifiers) %}
  {%- set target = privacy_guard._resolve_target(model, 'k_anonymity', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set k = privacy_guard._resolve_threshold(target, 'k', k) -%}
select count(*) as class_size
from {{ model }}
group by {{ privacy_guard._columns_sql(quasi_identifiers) }}
having count(*) < {{ k }}
{% endmacro %}
