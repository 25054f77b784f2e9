{#-
  Retention: one definition of the cutoff, shared by the `retention_limit` test (rows before it
  fail) and the `within_retention` filter (rows on or after it are kept).
-#}

{#-
  days: the most protective (smallest) of the `days` argument and the node's effective retention
  (its own privacy.retention.days or a shorter one of an ancestor, _effective_policy), so a model
  that forgets to restate a parent's retention is still held to it and an argument can only
  tighten it. date_column: the argument, else the node's privacy.retention.date_column. Returns
  `days` and `row_date`, the row's date as SQL of type DATE (a TIMESTAMP column is truncated).
-#}
{% macro _resolve_retention(target, days, date_column) %}
  {%- set retention = target.policy.get('retention') or {} -%}
  {%- set inherited = privacy_guard._effective_of(target).retention_days if target.found else none -%}
  {%- if days is none or (days is integer and days >= 0 and inherited is not none and inherited < days) -%}
    {%- set days = inherited if inherited is not none else retention.get('days') -%}
  {%- endif -%}
  {%- set date_column = retention.get('date_column') if date_column is none else date_column -%}
  {%- if execute and (days is not integer or days < 0) -%}
    {{ privacy_guard._raise_for_target(target, 'needs privacy.retention.days (a whole number of days) in the model meta or a `days` argument (got ' ~ (days | tojson) ~ ')') }}
  {%- endif -%}
  {%- if execute and not date_column -%}
    {{ privacy_guard._raise_for_target(target, 'needs privacy.retention.date_column in the model meta or a `date_column` argument') }}
  {%- endif -%}
  {#- The placeholders only reach parse-time SQL, which dbt discards. -#}
  {{ return({'days': days or 0, 'row_date': 'cast(' ~ privacy_guard._column_sql(date_column or 'null') ~ ' as date)'}) }}
{% endmacro %}

{#-
  The oldest date still inside a retention of `days` days: today - days, so a row exactly `days`
  old is kept. Today is vars.privacy_guard.today when set (a frozen day), else current_date. Cast
  back to DATE: dateadd on a DATE gives a TIMESTAMP on some adapters (DuckDB).
-#}
{% macro _retention_cutoff(days) -%}
  {%- set today = privacy_guard._settings().get('today') -%}
  {%- if today is not none and not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', today | string) -%}
    {{ exceptions.raise_compiler_error('privacy_guard: vars.privacy_guard.today must be a date YYYY-MM-DD (got ' ~ (today | tojson) ~ ')') }}
  {%- endif -%}
  {{ adapter.dispatch('_days_before', 'privacy_guard')("cast('" ~ today ~ "' as date)" if today else 'current_date', days) }}
{%- endmacro %}

{#- The DATE `days` days before the DATE expression `day`. -#}
{% macro default___days_before(day, days) -%}
  cast({{ dbt.dateadd('day', -days, day) }} as date)
{%- endmacro %}

{#- dbt-spark's dateadd goes through unix timestamps and the session time zone; date_sub stays a DATE. -#}
{% macro spark___days_before(day, days) -%}
  date_sub({{ day }}, {{ days }})
{%- endmacro %}
