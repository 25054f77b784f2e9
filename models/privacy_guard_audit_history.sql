{#-
  The audit log (written by the hooks start_audit_run / write_audit_log) as a view, newest run first
  by `runs_ago`, with each run's `run_status`: completed (on-run-end wrote it), interrupted (started,
  never ended, and a later run has started: stopped by SIGINT/SIGTERM or a crash) or running (the
  latest run, not ended yet). An unfinished run has no node rows (they are written at its end), so
  it shows as one row with null node columns: nodes it rebuilt before it stopped are not audited,
  but the run is visible. The pre-hook creates the tables when no run has written them yet, so the
  view builds on a project's very first run. `enabled` is set here, not in dbt_project.yml: a
  package's dbt_project.yml is rendered with `--vars` only, while a model's config() sees the root's vars.
-#}
{{ config(
    materialized='view',
    enabled=privacy_guard._audit_settings().enabled,
    pre_hook="{{ privacy_guard._audit_table_ddl() }}",
) }}

{#- An unfinished run's row: the runs table's values where it has the column, else null. -#}
{%- set run_columns = privacy_guard._audit_run_columns() | map(attribute=0) | list -%}
{%- set unfinished_columns = [] -%}
{%- for name, type in privacy_guard._audit_columns() -%}
    {%- set value = 'unfinished.' ~ name if name in run_columns else 'cast(null as ' ~ type ~ ')' -%}
    {%- do unfinished_columns.append(value ~ ' as ' ~ name) -%}
{%- endfor %}

with runs as (
    select
        runs.invocation_id,
        case
            when runs.run_finished_at is not null then 'completed'
            when runs.run_started_at < max(runs.run_started_at) over () then 'interrupted'
            else 'running'
        end as run_status
    from {{ privacy_guard._audit_runs_relation() }} as runs
),

node_rows as (
    -- The columns are the audit table's (one home: privacy_guard._audit_columns), hence the star.
    select
        audit_log.*,  -- noqa: AM04
        coalesce(runs.run_status, 'completed') as run_status
    from {{ privacy_guard._audit_relation() }} as audit_log
    left join runs on audit_log.invocation_id = runs.invocation_id
),

unfinished_runs as (
    select
        {{ unfinished_columns | join(',\n        ') }},
        runs.run_status
    from {{ privacy_guard._audit_runs_relation() }} as unfinished
    inner join runs on unfinished.invocation_id = runs.invocation_id
    where
        runs.run_status != 'completed'
        and unfinished.invocation_id not in (select node_rows.invocation_id from node_rows)
),

all_rows as (
    select * from node_rows  -- noqa: AM04
    union all
    select * from unfinished_runs  -- noqa: AM04
)

select
    all_rows.*,  -- noqa: AM04
    dense_rank() over (order by all_rows.run_started_at desc, all_rows.invocation_id desc) - 1 as runs_ago
from all_rows
