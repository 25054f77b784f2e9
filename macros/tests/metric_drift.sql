{#-
  Declared aggregates of an anonymized model stay within a relative tolerance of the same
  aggregates over its raw baseline, per group: the row count, the mean and the sum of columns.
  One failure row per (group, metric) that drifted, or whose group is missing on one side:
  `metric`, `baseline_value`, `anonymized_value`, `relative_drift` (NULL when a side is missing),
  `baseline_rows`. Group values are not returned: they may be quasi-identifiers of small groups.
-#}
{% test metric_drift(model, baseline, group_by=[], means=[], sums=[], count=true, tolerance=0.05) %}
  {{ return(adapter.dispatch('test_metric_drift', 'privacy_guard')(model, baseline, group_by, means, sums, count, tolerance)) }}
{% endtest %}

{#- (label, aggregate SQL, value when the group is missing) for each declared metric. -#}
{% macro _drift_metrics(means, sums, count) %}
  {%- set metrics = [] -%}
  {%- if count -%}
    {%- do metrics.append(('count', 'count(*)', '0')) -%}
  {%- endif -%}
  {%- for column in privacy_guard._as_list(means) -%}
    {%- do metrics.append(('mean(' ~ column ~ ')', 'avg(cast(' ~ privacy_guard._column_sql(column) ~ ' as ' ~ privacy_guard._double_type() ~ '))', 'null')) -%}
  {%- endfor -%}
  {%- for column in privacy_guard._as_list(sums) -%}
    {%- do metrics.append(('sum(' ~ column ~ ')', 'sum(cast(' ~ privacy_guard._column_sql(column) ~ ' as ' ~ privacy_guard._double_type() ~ '))', '0')) -%}
  {%- endfor -%}
  {{ return(metrics) }}
{% endmacro %}

{% macro default__test_metric_drift(model, baseline, group_by, means, sums, count, tolerance) %}
  {%- set target = privacy_guard._resolve_target(model, 'metric_drift', 'test') -%}
  {%- set group_by = privacy_guard._as_list(group_by) -%}
  {%- set metrics = privacy_guard._drift_metrics(means, sums, count) -%}
  {%- if execute and not metrics -%}
    {{ privacy_guard._raise_for_target(target, 'no metric declared: set count, means or sums') }}
  {%- endif -%}
  {%- if execute and (tolerance is not number or tolerance is boolean or tolerance < 0) -%}
    {{ privacy_guard._raise_for_target(target, 'tolerance must be a number >= 0 (got ' ~ (tolerance | tojson) ~ ')') }}
  {%- endif -%}
  {%- set groups = privacy_guard._columns_sql(group_by) -%}
with
  {%- for side, relation in [('baseline', baseline), ('anonymized', model)] %}
  privacy_guard_{{ side }} as (
    select
      {%- if group_by %} {{ groups }},{% endif %}
      count(*) as privacy_guard_rows
      {%- for metric in metrics %},
      {{ metric[1] }} as metric_{{ loop.index }}
      {%- endfor %}
    from {{ relation }}
    {%- if group_by %}
    group by {{ groups }}
    {%- endif %}
  ),
  {%- endfor %}
  privacy_guard_compared as (
    select
      coalesce(baseline.privacy_guard_rows, 0) as baseline_rows
      {%- for metric in metrics %},
      coalesce(baseline.metric_{{ loop.index }}, case when baseline.privacy_guard_rows is null then {{ metric[2] }} end) as baseline_{{ loop.index }},
      coalesce(anonymized.metric_{{ loop.index }}, case when anonymized.privacy_guard_rows is null then {{ metric[2] }} end) as anonymized_{{ loop.index }}
      {%- endfor %}
    from privacy_guard_baseline as baseline
    full outer join privacy_guard_anonymized as anonymized
      on {{ privacy_guard._same_columns_sql('baseline', 'anonymized', group_by) }}
  )
{%- for metric in metrics %}
select
  '{{ metric[0] }}' as metric,
  cast(baseline_{{ loop.index }} as {{ privacy_guard._double_type() }}) as baseline_value,
  cast(anonymized_{{ loop.index }} as {{ privacy_guard._double_type() }}) as anonymized_value,
  abs(anonymized_{{ loop.index }} - baseline_{{ loop.index }}) / nullif(abs(cast(baseline_{{ loop.index }} as {{ privacy_guard._double_type() }})), 0) as relative_drift,
  baseline_rows
from privacy_guard_compared
where baseline_{{ loop.index }} is null and anonymized_{{ loop.index }} is not null
   or baseline_{{ loop.index }} is not null and anonymized_{{ loop.index }} is null
   or abs(anonymized_{{ loop.index }} - baseline_{{ loop.index }}) > {{ tolerance }} * abs(baseline_{{ loop.index }}) + {{ privacy_guard._measure_tolerance() }} * abs(baseline_{{ loop.index }})
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{% endmacro %}
