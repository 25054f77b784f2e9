{#-
  The run audit log: who ran which node, when, with what result, under which privacy settings.

  A consumer opts in with `vars.privacy_guard.audit.enabled: true` and the hook
      on-run-end: ["{{ privacy_guard.write_audit_log(results) }}"]
  The hook renders to SQL that dbt executes outside a transaction (on-run-end hooks run with
  auto_begin off), so the rows are committed on every adapter; nothing is run from inside the
  macro itself.
-#}

{#- vars.privacy_guard.audit over its defaults (user_env_vars: the first one set names the user). -#}
{% macro _audit_settings() %}
  {%- set audit = {'enabled': false, 'schema': none, 'user_env_vars': ['DBT_USER', 'USER']} -%}
  {%- do audit.update(privacy_guard._settings().get('audit') or {}) -%}
  {{ return(audit) }}
{% endmacro %}

{% macro _audit_relation() %}
  {%- set schema = privacy_guard._audit_settings().schema or target.schema -%}
  {{ return(api.Relation.create(database=target.database, schema=schema, identifier='privacy_guard_audit')) }}
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

{#- DDL that creates the audit schema and table when missing (idempotent). -#}
{% macro _audit_table_ddl() %}
  {%- set relation = privacy_guard._audit_relation() -%}
  {%- set columns = [] -%}
  {%- for name, type in privacy_guard._audit_columns() -%}
    {%- do columns.append(name ~ ' ' ~ type) -%}
  {%- endfor -%}
  {{ return('create schema if not exists ' ~ relation.without_identifier() ~ ';\n'
            ~ 'create table if not exists ' ~ relation ~ ' (' ~ columns | join(', ') ~ ')') }}
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
  {%- if not execute or not results or flags.WHICH not in ['build', 'run', 'test', 'seed', 'snapshot']
        or not privacy_guard._audit_settings().enabled -%}
    {{ return('') }}
  {%- endif -%}
  {%- set relation = privacy_guard._audit_relation() -%}
  {%- set names = [] -%}
  {%- for name, type in privacy_guard._audit_columns() -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {%- set user_name = privacy_guard._audit_user() -%}
  {%- set statements = [privacy_guard._audit_table_ddl()] -%}
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
