{#-
  Prosecutor re-identification risk (1 / class size) per record stays at most max_risk, allowing a
  share max_records_at_risk of records above it; optionally the average risk (classes / records)
  at most max_average_risk. One failure row per class above max_risk (`measure` 'record_risk',
  `class_size`, `risk`) when too many records are at risk, plus one row 'average_risk' when the
  average is too high. Sizes and risks only, never quasi-identifier values.
-#}
{% test reidentification_risk(model, quasi_identifiers=none, privacy_unit=none, max_risk=none, max_records_at_risk=none, max_average_risk=none) %}
  {{ return(adapter.dispatch('test_reidentification_risk', 'privacy_guard')(model, quasi_identifiers, privacy_unit, max_risk, max_records_at_risk, max_average_risk)) }}
{% endtest %}

{% macro default__test_reidentification_risk(model, quasi_identifiers, privacy_unit, max_risk, max_records_at_risk, max_average_risk) %}
  {%- set target = privacy_guard._resolve_target(model, 'reidentification_risk', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set thresholds = privacy_guard._resolve_risk_thresholds(target, max_risk, max_records_at_risk, max_average_risk) -%}
  {%- set max_risk, max_records_at_risk, max_average_risk = thresholds.max_risk, thresholds.max_records_at_risk, thresholds.max_average_risk -%}
  {%- set privacy_unit = privacy_guard._resolve_privacy_unit(target, privacy_unit) -%}
  {%- set float = privacy_guard._double_type() -%}
with
  {{ privacy_guard._risk_ctes(model, quasi_identifiers, privacy_unit) }},
  privacy_guard_totals as (
    select
      sum(weight) as records,
      sum(case when {{ privacy_guard._at_risk_sql('class_size', max_risk) }} then weight else 0 end) as records_at_risk,
      sum({{ privacy_guard._risk_of_sql('class_size', 'weight') }}) / sum(weight) as average_risk
    from privacy_guard_records
  )
select
  'record_risk' as measure,
  classes.class_size,
  {{ privacy_guard._risk_of_sql('classes.class_size') }} as risk
from privacy_guard_classes as classes
cross join privacy_guard_totals as totals
where {{ privacy_guard._at_risk_sql('classes.class_size', max_risk) }}
  and totals.records_at_risk > cast({{ max_records_at_risk }} as {{ float }}) * totals.records
{%- if max_average_risk is not none %}
union all
select
  'average_risk' as measure,
  cast(null as {{ dbt.type_bigint() }}) as class_size,
  totals.average_risk as risk
from privacy_guard_totals as totals
where totals.average_risk > {{ max_average_risk }} + {{ privacy_guard._measure_tolerance() }}
{%- endif %}
{% endmacro %}
