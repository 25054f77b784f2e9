{#-
  `dbt run-operation privacy_guard.purge_expired`: per relation the project owns, the rows past
  its effective retention (the cutoff of within_retention / retention_limit). Dry run by default:
  counts and the oldest date, never rows. With `dry_run: false` the rows are deleted in one
  transaction, and with the audit enabled each relation purged is recorded in
  `privacy_guard_purges` (audit schema). Deleting by the cutoff makes a second run delete 0.
-#}

{#- Whether `node` is picked by `select`/`exclude`: each a name, unique id or `tag:<tag>`, or a list of them. -#}
{% macro _purge_selected(node, select, exclude) %}
  {%- set keys = [node.name, node.unique_id] -%}
  {%- for tag in node.get('tags') or [] -%}
    {%- do keys.append('tag:' ~ tag) -%}
  {%- endfor -%}
  {%- set picked = select is none or (privacy_guard._as_list(select) | select('in', keys) | list | length > 0) -%}
  {%- set dropped = exclude is not none and (privacy_guard._as_list(exclude) | select('in', keys) | list | length > 0) -%}
  {{ return(picked and not dropped) }}
{% endmacro %}

{#-
  The nodes the purge may touch, selected: the project's own tables, incremental models, snapshots
  and seeds (a view or ephemeral model holds no rows of its own); its sources only when
  vars.privacy_guard.purge.sources is true (another system loads them).
-#}
{% macro _purge_candidates(select, exclude) %}
  {%- set candidates = [] -%}
  {%- for node in graph.nodes.values() if node.package_name == project_name
        and node.resource_type in ['model', 'seed', 'snapshot']
        and node.config.materialized in ['table', 'incremental', 'snapshot', 'seed'] -%}
    {%- do candidates.append(node) -%}
  {%- endfor -%}
  {%- if (privacy_guard._settings().get('purge') or {}).get('sources') -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
      {%- do candidates.append(node) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set selected = [] -%}
  {%- for node in candidates | sort(attribute='unique_id') if privacy_guard._purge_selected(node, select, exclude) -%}
    {%- do selected.append(node) -%}
  {%- endfor -%}
  {{ return(selected) }}
{% endmacro %}

{#- (name, type) of the purge audit table, in order. -#}
{% macro _purge_audit_columns() %}
  {{ return([
    ('invocation_id', dbt.type_string()),
    ('purged_at', dbt.type_timestamp()),
    ('user_name', dbt.type_string()),
    ('target_name', dbt.type_string()),
    ('unique_id', dbt.type_string()),
    ('relation_name', dbt.type_string()),
    ('retention_days', dbt.type_int()),
    ('cutoff', 'date'),
    ('rows_deleted', dbt.type_int()),
  ]) }}
{% endmacro %}

{% macro purge_expired(dry_run=true, select=none, exclude=none) %}
  {{ return(adapter.dispatch('purge_expired', 'privacy_guard')(dry_run, select, exclude)) }}
{% endmacro %}

{% macro default__purge_expired(dry_run, select, exclude) %}
  {%- if not execute -%}
    {{ return('') }}
  {%- endif -%}
  {%- if dry_run not in [true, false] -%}
    {{ exceptions.raise_compiler_error('privacy_guard.purge_expired: dry_run must be true or false (got ' ~ (dry_run | tojson) ~ ')') }}
  {%- endif -%}
  {%- set plan = [] -%}
  {%- for node in privacy_guard._purge_candidates(select, exclude) -%}
    {%- set target = privacy_guard._target_of(node, none, 'purge_expired', 'macro') -%}
    {%- set days = privacy_guard._effective_of(target).retention_days -%}
    {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.identifier if node.resource_type == 'source' else node.alias) if days is not none else none -%}
    {%- set date_column = (target.policy.get('retention') or {}).get('date_column') -%}
    {%- if relation is not none and not date_column -%}
      {#- An aggregate inheriting a retention has no row date: said, not guessed (retention_conflict reports the missing declaration). -#}
      {{ log('privacy_guard.purge_expired: ' ~ node.unique_id ~ ' (' ~ relation ~ '): not aged, ' ~ days ~ '-day retention but no privacy.retention.date_column', info=true) }}
    {%- elif relation is not none -%}
      {%- do target.update({'relation': relation}) -%}
      {%- set retention = privacy_guard._resolve_retention(target, days, none) -%}
      {%- if date_column | lower not in adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {{ privacy_guard._raise_for_target(target, 'privacy.retention.date_column ' ~ (date_column | tojson) ~ ' is not a column of ' ~ relation) }}
      {%- endif -%}
      {%- set cutoff = privacy_guard._retention_cutoff(retention.days) -%}
      {%- set found = run_query('select count(*), cast(min(' ~ retention.row_date ~ ') as ' ~ dbt.type_string() ~ '), cast(' ~ cutoff ~ ' as ' ~ dbt.type_string() ~ ') from ' ~ relation ~ ' where ' ~ retention.row_date ~ ' < ' ~ cutoff) -%}
      {%- do plan.append({'node': node, 'relation': relation, 'days': retention.days, 'row_date': retention.row_date, 'cutoff_sql': cutoff,
          'expired': found.rows[0][0] | int, 'oldest': found.rows[0][1], 'cutoff': found.rows[0][2]}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- for step in plan -%}
    {{ log('privacy_guard.purge_expired: ' ~ step.node.unique_id ~ ' (' ~ step.relation ~ '): ' ~ step.expired
           ~ ' rows past ' ~ step.days ~ ' days (cutoff ' ~ step.cutoff ~ (', oldest ' ~ step.oldest if step.oldest else '') ~ ')'
           ~ (' would be deleted' if dry_run else ' deleted'), info=true) }}
  {%- endfor -%}
  {%- if dry_run -%}
    {{ log('privacy_guard.purge_expired: dry run, nothing deleted (' ~ plan | sum(attribute='expired') ~ ' rows in ' ~ plan | length ~ ' relations); pass --args "{dry_run: false}" to delete', info=true) }}
    {{ return('') }}
  {%- endif -%}
  {%- set statements = [] -%}
  {%- for step in plan if step.expired > 0 -%}
    {%- do statements.append('delete from ' ~ step.relation ~ ' where ' ~ step.row_date ~ ' < ' ~ step.cutoff_sql) -%}
  {%- endfor -%}
  {%- if privacy_guard._audit_settings().enabled -%}
    {%- do statements.extend(privacy_guard._purge_audit_sql(plan)) -%}
  {%- endif -%}
  {%- if statements -%}
    {%- call statement('privacy_guard_purge', auto_begin=true) -%}
      {{ statements | join(';\n') }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
  {%- endif -%}
  {{ log('privacy_guard.purge_expired: deleted ' ~ plan | sum(attribute='expired') ~ ' rows in ' ~ plan | length ~ ' relations', info=true) }}
{% endmacro %}

{#-
  Spark: the dry run as everywhere; deleting is refused before anything runs. Plain Spark tables
  (parquet, the dbt-spark default) have no DELETE, and Spark has no transaction over several
  tables, so a purge could stop half-done. Rebuild the models with within_retention instead.
-#}
{% macro spark__purge_expired(dry_run, select, exclude) %}
  {%- if execute and dry_run == false -%}
    {{ exceptions.raise_compiler_error('privacy_guard.purge_expired: deleting is not supported on Spark (plain Spark tables have no DELETE and Spark has no transaction over several tables): run it with dry_run: true to count the expired rows, and rebuild the models with privacy_guard.within_retention() to drop them') }}
  {%- endif -%}
  {{ return(privacy_guard.default__purge_expired(dry_run, select, exclude)) }}
{% endmacro %}

{#- DDL of the purge audit table and one insert with a row per relation examined (rows_deleted 0 included). -#}
{% macro _purge_audit_sql(plan) %}
  {%- do privacy_guard._refuse_key_exposure() -%}
  {%- set relation = privacy_guard._audit_relation('privacy_guard_purges') -%}
  {%- set definitions = [] -%}
  {%- set names = [] -%}
  {%- for name, type in privacy_guard._purge_audit_columns() -%}
    {%- do definitions.append(name ~ ' ' ~ type) -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {%- set statements = [
    privacy_guard._create_audit_schema_sql(relation),
    'create table if not exists ' ~ relation ~ ' (' ~ definitions | join(', ') ~ ')',
  ] -%}
  {%- set user_name = privacy_guard._audit_user() -%}
  {%- set now = modules.datetime.datetime.now(modules.pytz.utc) -%}
  {%- for step in plan -%}
    {%- set values = [
      privacy_guard._audit_literal(invocation_id),
      privacy_guard._audit_timestamp(now),
      privacy_guard._audit_literal(user_name),
      privacy_guard._audit_literal(target.name),
      privacy_guard._audit_literal(step.node.unique_id),
      privacy_guard._audit_literal(step.relation | string),
      step.days,
      'cast(' ~ privacy_guard._audit_literal(step.cutoff) ~ ' as date)',
      step.expired,
    ] -%}
    {%- do statements.append('insert into ' ~ relation ~ ' (' ~ names | join(', ') ~ ') values (' ~ values | join(', ') ~ ')') -%}
  {%- endfor -%}
  {{ return(statements) }}
{% endmacro %}
