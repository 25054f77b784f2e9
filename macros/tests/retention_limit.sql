{#-
  One summary row when rows are older than the retention: how many, never which. A row is expired
  when its date is before current_date - days (a row exactly `days` old is kept). NULL dates cannot
  be aged and are not counted.
-#}
{% test retention_limit(model, days=none, date_column=none) %}
  {{ return(adapter.dispatch('test_retention_limit', 'privacy_guard')(model, days, date_column)) }}
{% endtest %}

{% macro default__test_retention_limit(model, days, date_column) %}
  {%- set target = privacy_guard._resolve_target(model, 'retention_limit', 'test') -%}
  {%- set retention = privacy_guard._resolve_retention(target, days, date_column) -%}
select count(*) as expired_rows, {{ retention.days }} as retention_days
from {{ model }}
where {{ retention.row_date }} < {{ privacy_guard._retention_cutoff(retention.days) }}
having count(*) > 0
{% endmacro %}
