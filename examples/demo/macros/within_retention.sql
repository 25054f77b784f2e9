{#-
  The filter that keeps a model's rows inside its own declared retention
  (config.meta.privacy.retention.days), so the number of days has one home: the model's YAML.
  The cutoff is the one the package's `retention_limit` test applies: a row exactly `days` old
  is kept.
-#}
{% macro within_retention(date_column) %}
  {%- set retention = ((config.get('meta') or {}).get('privacy') or {}).get('retention') or {} -%}
  {%- if execute and retention.get('days') is not integer -%}
    {{ exceptions.raise_compiler_error(model.unique_id ~ ': within_retention needs config.meta.privacy.retention.days') }}
  {%- endif -%}
  cast({{ date_column }} as date) >= cast({{ dbt.dateadd('day', -(retention.get('days') or 0), 'current_date') }} as date)
{%- endmacro %}
