{#-
  One summary row when rows are older than the retention: how many, never which. A row is expired
  when its date is before current_date - days (a row exactly `days` old is kept). NULL dates cannot
  be aged and are not counted.
-#}
{% test retention_limit(model, days=none, date_column=none) %}
  {{ return(adapter.dispatch('test_retention_limit', 'privacy_guard')(model, days, date_column)) }}
{% endtest %}

{% macro default__test_retention_limit(model, days, date_column) %}
  {%- set target = privacy_guard._test_target(model, 'retention_limit') -%}
  {%- set retention = target.policy.get('retention') or {} -%}
  {%- set days = retention.get('days') if days is none else days -%}
  {%- set date_column = retention.get('date_column') if date_column is none else date_column -%}
  {%- if execute and (days is not integer or days < 0) -%}
    {{ privacy_guard._test_fail(target, 'needs privacy.retention.days (a whole number of days) in the model meta or a `days` argument (got ' ~ (days | tojson) ~ ')') }}
  {%- endif -%}
  {%- if execute and not date_column -%}
    {{ privacy_guard._test_fail(target, 'needs privacy.retention.date_column in the model meta or a `date_column` argument') }}
  {%- endif -%}
select count(*) as expired_rows, {{ days }} as retention_days
from {{ model }}
where cast({{ privacy_guard._column_sql(date_column or 'null') }} as date) < cast({{ dbt.dateadd('day', -(days or 0), 'current_date') }} as date)
having count(*) > 0
{% endmacro %}
