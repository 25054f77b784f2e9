{#-
  A `where` condition keeping the rows of the model being built that are inside its declared
  retention, so the number of days has one home: the model's `config.meta.privacy.retention`.
  The cutoff is the one the `retention_limit` test applies (a row exactly `days` old is kept), so a
  model filtered with it passes that test on the day it is built.
-#}
{% macro within_retention(date_column=none, days=none) %}
  {{ return(adapter.dispatch('within_retention', 'privacy_guard')(date_column, days)) }}
{% endmacro %}

{% macro default__within_retention(date_column, days) %}
  {%- set retention = privacy_guard._resolve_retention(privacy_guard._model_target('within_retention'), days, date_column) -%}
  {{ retention.row_date }} >= {{ privacy_guard._retention_cutoff(retention.days) }}
{%- endmacro %}
