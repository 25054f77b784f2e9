{#- One row: the re-identification risk of a relation over its quasi-identifiers (prosecutor, marketer; journalist against a population). -#}
{% macro reidentification_risk_summary(relation, quasi_identifiers=none, privacy_unit=none, max_risk=none, population=none) %}
  {{ return(adapter.dispatch('reidentification_risk_summary', 'privacy_guard')(relation, quasi_identifiers, privacy_unit, max_risk, population)) }}
{% endmacro %}

{% macro default__reidentification_risk_summary(relation, quasi_identifiers, privacy_unit, max_risk, population) %}
  {%- set target = privacy_guard._resolve_target(relation, 'reidentification_risk_summary', 'macro') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set max_risk = privacy_guard._resolve_risk_thresholds(target, max_risk).max_risk -%}
  {%- set privacy_unit = privacy_guard._resolve_privacy_unit(target, privacy_unit) -%}
  {%- set float = privacy_guard._double_type() -%}
  {%- if execute and population is not none and privacy_unit -%}
    {{ privacy_guard._raise_for_target(target, 'population counts rows: it cannot be combined with privacy_unit') }}
  {%- endif -%}
with
  {{ privacy_guard._risk_ctes(relation, quasi_identifiers, privacy_unit) }},
  privacy_guard_summary as (
    select
      (select count(*) from privacy_guard_classes) as classes,
      sum(weight) as records,
      min(class_size) as smallest_class,
      sum(case when class_size <= 1 then weight else 0 end) as sample_uniques,
      {{ privacy_guard._risk_of_sql('min(class_size)') }} as max_risk,
      sum({{ privacy_guard._risk_of_sql('class_size', 'weight') }}) / sum(weight) as average_risk,
      sum(case when {{ privacy_guard._at_risk_sql('class_size', max_risk) }} then weight else 0 end) as records_at_risk
    from privacy_guard_records
  ){% if population is not none %},
  privacy_guard_population as (
    select {{ privacy_guard._columns_sql(quasi_identifiers) }}, count(*) as population_size
    from {{ population }}
    group by {{ privacy_guard._columns_sql(quasi_identifiers) }}
  ),
  privacy_guard_journalist as (
    select
      1 / cast(min(population.population_size) as {{ float }}) as journalist_max_risk,
      count(*) / cast(sum(population.population_size) as {{ float }}) as classes_over_population,
      sum(sample.class_size / cast(population.population_size as {{ float }})) as marketer_sum,
      sum(case when {{ privacy_guard._at_risk_sql('population.population_size', max_risk) }} then sample.class_size else 0 end) as journalist_records_at_risk
    from privacy_guard_classes as sample
    inner join privacy_guard_population as population
      on {{ privacy_guard._same_columns_sql('sample', 'population', quasi_identifiers) }}
  ){% endif %}
select
  summary.classes,
  summary.records,
  summary.smallest_class,
  summary.sample_uniques,
  summary.max_risk,
  summary.average_risk,
  cast({{ max_risk }} as {{ float }}) as risk_threshold,
  summary.records_at_risk,
  {%- if population is not none %}
  journalist.marketer_sum / summary.records as marketer_risk,
  journalist.journalist_max_risk,
  greatest(journalist.classes_over_population, journalist.marketer_sum / summary.records) as journalist_average_risk,
  journalist.journalist_records_at_risk
from privacy_guard_summary as summary
cross join privacy_guard_journalist as journalist
  {%- else %}
  summary.classes / cast(summary.records as {{ float }}) as marketer_risk
from privacy_guard_summary as summary
  {%- endif %}
{% endmacro %}
