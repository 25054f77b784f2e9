{#-
  The run audit log: who ran which node, when, with what result, under which privacy settings.

  A consumer opts in with `vars.privacy_guard.audit.enabled: true` and the hooks
      on-run-start: ["{{ privacy_guard.start_audit_run() }}"]
      on-run-end: ["{{ privacy_guard.write_audit_log(results) }}"]
  The hooks render to SQL that dbt executes outside a transaction (hooks run with auto_begin
  off), so the rows are committed on every adapter; nothing is run from inside the macros.
  start_audit_run records the run in privacy_guard_audit_runs before any node; write_audit_log
  completes that record and appends one row per node. A run stopped by SIGINT/SIGTERM never
  reaches on-run-end: its record stays without an end, which the history model reports as
  `interrupted` once a later run has started.
-#}

{#- vars.privacy_guard.audit over its defaults (user_env_vars: the first one set names the user). -#}
{% macro _audit_settings() %}
  {%- set audit = {'enabled': false, 'schema': none, 'user_env_vars': ['DBT_USER', 'USER']} -%}
  {%- do audit.update(privacy_guard._settings().get('audit') or {}) -%}
  {%- do privacy_guard._refuse_key_in_audit(audit) -%}
  {{ return(audit) }}
{% endmacro %}

{#- target.get: Spark targets have no database (target.database is undefined there). -#}
{% macro _audit_relation(identifier='privacy_guard_audit') %}
  {%- set schema = privacy_guard._audit_settings().schema or target.schema -%}
  {{ return(api.Relation.create(database=target.get('database'), schema=schema, identifier=identifier)) }}
{% endmacro %}

{% macro _audit_runs_relation() %}
  {{ return(privacy_guard._audit_relation('privacy_guard_audit_runs')) }}
{% endmacro %}

{#- (name, type) of the runs table: one row per audited command, its end null until on-run-end. -#}
{% macro _audit_run_columns() %}
  {{ return([
    ('invocation_id', dbt.type_string()),
    ('run_started_at', dbt.type_timestamp()),
    ('run_finished_at', dbt.type_timestamp()),
    ('command', dbt.type_string()),
    ('dbt_version', dbt.type_string()),
    ('target_name', dbt.type_string()),
    ('user_name', dbt.type_string()),
  ]) }}
{% endmacro %}

{#- (name, type) of the audit table, in order: the table DDL and the inserts both read this. -#}
{% macro _audit_columns() %}
  {{ return([
    ('invocation_id', dbt.type_string()),
    ('run_started_at', dbt.type_timestamp()),
    ('node_started_at', dbt.type_timestamp()),
    ('node_finished_at', dbt.type_timestamp()),
    ('dbt_version', dbt.type_string()),
    ('target_name', dbt.type_string()),
    ('user_name', dbt.type_string()),
    ('unique_id', dbt.type_string()),
    ('resource_type', dbt.type_string()),
    ('status', dbt.type_string()),
    ('failures', dbt.type_int()),
    ('execution_time_s', dbt.type_numeric()),
    ('privacy_json', dbt.type_string()),
    ('column_privacy_json', dbt.type_string()),
  ]) }}
{% endmacro %}

{#- `create schema if not exists` for the schema of an audit relation. -#}
{% macro _create_audit_schema_sql(relation) %}
  {{ return(adapter.dispatch('_create_audit_schema_sql', 'privacy_guard')(relation)) }}
{% endmacro %}

{% macro default___create_audit_schema_sql(relation) %}
  {{ return('create schema if not exists ' ~ relation.without_identifier()) }}
{% endmacro %}

{#- PostgreSQL names a schema without its database (`db.schema` is a syntax error in CREATE SCHEMA). -#}
{% macro postgres___create_audit_schema_sql(relation) %}
  {{ return('create schema if not exists ' ~ relation.without_identifier().include(database=false)) }}
{% endmacro %}

{#- DDL that creates the audit schema, the node table and the runs table when missing (idempotent). -#}
{% macro _audit_table_ddl() %}
  {%- set statements = [privacy_guard._create_audit_schema_sql(privacy_guard._audit_relation())] -%}
  {%- for relation, columns in [(privacy_guard._audit_relation(), privacy_guard._audit_columns()), (privacy_guard._audit_runs_relation(), privacy_guard._audit_run_columns())] -%}
    {%- set definitions = [] -%}
    {%- for name, type in columns -%}
      {%- do definitions.append(name ~ ' ' ~ type) -%}
    {%- endfor -%}
    {%- do statements.append('create table if not exists ' ~ relation ~ ' (' ~ definitions | join(', ') ~ ')') -%}
  {%- endfor -%}
  {{ return(statements | join(';\n')) }}
{% endmacro %}

{#- Whether this command is audited: an enabled audit and a command that executes nodes. -#}
{% macro _audited_command() %}
  {{ return(execute and flags.WHICH in ['build', 'run', 'test', 'seed', 'snapshot'] and privacy_guard._audit_settings().enabled) }}
{% endmacro %}

{#- insert of this invocation's runs row; `finished_at` none while the run is going on. -#}
{% macro _audit_run_insert(finished_at) %}
  {%- set values = [
    privacy_guard._audit_literal(invocation_id),
    privacy_guard._audit_timestamp(run_started_at),
    privacy_guard._audit_timestamp(finished_at),
    privacy_guard._audit_literal(flags.WHICH),
    privacy_guard._audit_literal(dbt_version),
    privacy_guard._audit_literal(target.name),
    privacy_guard._audit_literal(privacy_guard._audit_user()),
  ] -%}
  {%- set names = [] -%}
  {%- for name, type in privacy_guard._audit_run_columns() -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {%- set relation = privacy_guard._audit_runs_relation() -%}
  {{ return('delete from ' ~ relation ~ ' where invocation_id = ' ~ privacy_guard._audit_literal(invocation_id) ~ ';\n'
            ~ 'insert into ' ~ relation ~ ' (' ~ names | join(', ') ~ ') values (' ~ values | join(', ') ~ ')') }}
{% endmacro %}

{% macro start_audit_run() %}
  {{ return(adapter.dispatch('start_audit_run', 'privacy_guard')()) }}
{% endmacro %}

{% macro default__start_audit_run() %}
  {%- if not privacy_guard._audited_command() -%}
    {{ return('') }}
  {%- endif -%}
  {%- do privacy_guard._refuse_key_exposure() -%}
  {{ return(privacy_guard._audit_table_ddl() ~ ';\n' ~ privacy_guard._audit_run_insert(none) ~ ';') }}
{% endmacro %}

{#- A SQL literal: NULL, a number as is, text quoted the adapter's way. -#}
{% macro _audit_literal(value, type=none) %}
  {%- if value is none -%}
    {{ return('null') }}
  {%- elif value is number -%}
    {{ return(value | string) }}
  {%- endif -%}
  {%- set text = "'" ~ dbt.escape_single_quotes(value | string) ~ "'" -%}
  {{ return('cast(' ~ text ~ ' as ' ~ type ~ ')' if type else text) }}
{% endmacro %}

{% macro _audit_timestamp(value) %}
  {{ return(privacy_guard._audit_literal(value.strftime('%Y-%m-%d %H:%M:%S.%f') if value else none, dbt.type_timestamp())) }}
{% endmacro %}

{% macro _audit_user() %}
  {%- for name in privacy_guard._audit_settings().user_env_vars if env_var(name, '') -%}
    {{ return(env_var(name, '')) }}
  {%- endfor -%}
  {{ return(none) }}
{% endmacro %}

{#- The values tuple of one executed node. The privacy settings come from `graph` (plain dicts). -#}
{% macro _audit_row(result, user_name) %}
  {%- set node = graph.nodes.get(result.node.unique_id) or {} -%}
  {%- set timing = result.timing or [] -%}
  {%- set values = [
    privacy_guard._audit_literal(invocation_id),
    privacy_guard._audit_timestamp(run_started_at),
    privacy_guard._audit_timestamp(timing[0].started_at if timing else none),
    privacy_guard._audit_timestamp(timing[-1].completed_at if timing else none),
    privacy_guard._audit_literal(dbt_version),
    privacy_guard._audit_literal(target.name),
    privacy_guard._audit_literal(user_name),
    privacy_guard._audit_literal(result.node.unique_id),
    privacy_guard._audit_literal(result.node.resource_type ~ ''),
    privacy_guard._audit_literal(result.status ~ ''),
    privacy_guard._audit_literal(result.failures),
    privacy_guard._audit_literal(result.execution_time),
    privacy_guard._audit_literal(tojson(privacy_guard._privacy_of(node), sort_keys=true)),
    privacy_guard._audit_literal(tojson(privacy_guard._column_policies(node), sort_keys=true)),
  ] -%}
  {{ return('(' ~ values | join(', ') ~ ')') }}
{% endmacro %}

{% macro write_audit_log(results) %}
  {{ return(adapter.dispatch('write_audit_log', 'privacy_guard')(results)) }}
{% endmacro %}

{% macro default__write_audit_log(results) %}
  {#- Only commands that execute nodes; `compile`/`docs generate` results are not runs. -#}
  {%- if not privacy_guard._audited_command() -%}
    {{ return('') }}
  {%- endif -%}
  {%- do privacy_guard._refuse_key_exposure() -%}
  {%- set relation = privacy_guard._audit_relation() -%}
  {%- set names = [] -%}
  {%- for name, type in privacy_guard._audit_columns() -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {%- set user_name = privacy_guard._audit_user() -%}
  {%- set statements = [privacy_guard._audit_table_ddl(), privacy_guard._audit_run_insert(modules.datetime.datetime.now(modules.pytz.utc))] -%}
  {#- Batches keep each statement within the size limits of warehouses that have them. -#}
  {%- for batch in results | batch(500) -%}
    {%- set rows = [] -%}
    {%- for result in batch -%}
      {%- do rows.append(privacy_guard._audit_row(result, user_name)) -%}
    {%- endfor -%}
    {%- do statements.append('insert into ' ~ relation ~ ' (' ~ names | join(', ') ~ ')\nvalues\n' ~ rows | join(',\n')) -%}
  {%- endfor -%}
  {{ return(statements | join(';\n') ~ ';') }}
{% endmacro %}
