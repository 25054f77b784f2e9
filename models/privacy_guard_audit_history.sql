{#-
  The audit log (written by the on-run-end hook `write_audit_log`) as a view, newest run first by
  `runs_ago`. The pre-hook creates the table when no run has written it yet, so the view builds on
  a project's very first run. `enabled` is set here, not in dbt_project.yml: a package's
  dbt_project.yml is rendered with `--vars` only, while a model's config() sees the root's vars.
-#}
{{ config(
    materialized='view',
    enabled=privacy_guard._audit_settings().enabled,
    pre_hook="{{ privacy_guard._audit_table_ddl() }}",
) }}

-- The columns are the audit table's (one home: privacy_guard._audit_columns), hence the star.
select
    audit_log.*,  -- noqa: AM04
    dense_rank() over (order by audit_log.run_started_at desc, audit_log.invocation_id desc) - 1 as runs_ago
from {{ privacy_guard._audit_relation() }} as audit_log
