{#-
  Fail-closed mode (`vars.privacy_guard.enforce: true`), run by validate_meta before any node:
  every model, snapshot, seed and source that holds or reads personal data must carry a privacy
  block of its own, and a node whose (inherited) policy is personal must have a department, a
  consent and a retention along its lineage. One problem per node, in unique-id order.

  "Holds personal data" without a block: a column name matching vars.privacy_guard.
  personal_column_patterns (the checker's list; default in _contract) among the YAML columns, a
  source table's columns in the warehouse, a seed's CSV header (duckdb) or column_types, or any
  identifier of a model's SQL (comments, string
  literals and Jinja removed: the rendered SQL does not exist before the run, and a name anywhere
  in the SQL is enough to ask for a block); "reads" it: a parent that is personal.
-#}
{% macro _fail_closed_problems() %}
  {%- set contract = privacy_guard._contract() -%}
  {%- set settings = privacy_guard._settings() -%}
  {%- set pattern = privacy_guard._personal_name_regex(settings.get('personal_column_patterns') or contract.personal_column_patterns) -%}
  {%- set personal_classes = contract.column_classes | reject('equalto', 'none') | list -%}
  {%- set nodes = {} -%}
  {%- for node in graph.nodes.values() if node.resource_type in ['model', 'seed', 'snapshot'] -%}
    {%- do nodes.update({node.unique_id: node}) -%}
  {%- endfor -%}
  {%- do nodes.update(graph.sources) -%}
  {%- set state = {} -%}
  {%- set problems = {} -%}
  {%- for unique_id in privacy_guard._topological_order(nodes).order -%}
    {%- set node = nodes[unique_id] -%}
    {%- set declared = privacy_guard._privacy_of(node) -%}
    {%- set column_policies = privacy_guard._column_policies(node) -%}
    {%- set parents = [] -%}
    {%- for parent_id in (node.get('depends_on') or {}).get('nodes') or [] if parent_id in state -%}
      {%- do parents.append(state[parent_id]) -%}
    {%- endfor -%}
    {%- set classed = column_policies.values() | map(attribute='class', default='none') | select('in', personal_classes) | list -%}
    {%- set current = {
      'personal': (parents | selectattr('personal') | list | length > 0) or classed | length > 0 or declared.get('consent') is not none or declared.get('department') is not none,
      'department': declared.get('department') is not none or (parents | selectattr('department') | list | length > 0),
      'consent': declared.get('consent') is not none or (parents | selectattr('consent') | list | length > 0),
      'retention': declared.get('retention') is not none or (parents | selectattr('retention') | list | length > 0),
    } -%}
    {%- set looking = [] -%}
    {%- if not current.personal -%}
      {%- for name in privacy_guard._names_of(node) | unique | sort if name not in column_policies and modules.re.match(pattern, name) -%}
        {%- do looking.append(name) -%}
      {%- endfor -%}
    {%- endif -%}
    {%- if not declared and not column_policies -%}
      {%- set read = [] -%}
      {%- for parent_id in (node.get('depends_on') or {}).get('nodes') or [] if parent_id in state and state[parent_id].personal -%}
        {%- do read.append(nodes[parent_id].name) -%}
      {%- endfor -%}
      {%- if looking or read -%}
        {%- do current.update({'personal': true}) -%}
        {%- do problems.update({unique_id: ('holds columns that look personal (' ~ looking | join(', ') ~ ')' if looking else 'reads personal data of ' ~ read | unique | sort | join(', '))
            ~ ' but has no privacy block of its own'}) -%}
      {%- endif -%}
    {%- elif looking -%}
      {%- do current.update({'personal': true}) -%}
      {%- do problems.update({unique_id: 'holds columns that look personal (' ~ looking | join(', ') ~ ') that its privacy block does not classify'}) -%}
    {%- elif current.personal -%}
      {%- set lacking = [] -%}
      {%- for key in ['department', 'consent', 'retention'] if not current[key] -%}
        {%- do lacking.append(key) -%}
      {%- endfor -%}
      {%- if lacking -%}
        {%- do problems.update({unique_id: 'holds personal data but declares no ' ~ lacking | join(', ') ~ ' (neither it nor any node upstream)'}) -%}
      {%- endif -%}
    {%- endif -%}
    {%- do state.update({unique_id: current}) -%}
  {%- endfor -%}
  {%- set lines = [] -%}
  {%- for unique_id, problem in problems | dictsort -%}
    {%- do lines.append(unique_id ~ ': ' ~ problem ~ ' (enforce: true)') -%}
  {%- endfor -%}
  {{ return(lines) }}
{% endmacro %}

{#- One regex for shell-style name patterns (`*` any characters; whole name; names are lower-cased before matching). -#}
{% macro _personal_name_regex(patterns) %}
  {%- set alternatives = [] -%}
  {%- for pattern in patterns -%}
    {%- do alternatives.append(modules.re.escape(pattern | lower) | replace('\\*', '.*')) -%}
  {%- endfor -%}
  {{ return('^(?:' ~ (alternatives | join('|') or '(?!)') ~ ')$') }}
{% endmacro %}

{#- Lower-case names a node is known to have before it is built (see _fail_closed_problems). -#}
{% macro _names_of(node) %}
  {%- set names = [] -%}
  {%- for name, column in (node.get('columns') or {}).items() -%}
    {%- do names.append((column.get('name') or name) | lower) -%}
  {%- endfor -%}
  {%- for name in ((node.get('config') or {}).get('column_types') or {}).keys() -%}
    {%- do names.append(name | lower) -%}
  {%- endfor -%}
  {%- if node.resource_type == 'source' -%}
    {#- Another system loaded it: its table is there before the run. -#}
    {%- do names.extend(privacy_guard._existing_columns(node.database, node.schema, node.identifier or node.name)) -%}
  {%- elif node.resource_type == 'seed' -%}
    {%- do names.extend(privacy_guard._seed_header(node)) -%}
  {%- elif node.resource_type in ['model', 'snapshot'] -%}
    {%- set sql = node.get('raw_code') or node.get('raw_sql') or '' -%}
    {%- set sql = modules.re.sub('(?s)\\x7b#.*?#\\x7d|\\x7b%.*?%\\x7d|\\x7b\\x7b.*?\\x7d\\x7d|--[^\\n]*|/\\*.*?\\*/|\'(?:[^\']|\'\')*\'', ' ', sql) -%}
    {%- for quoted, bare in modules.re.findall('"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)', sql) -%}
      {%- do names.append((quoted or bare) | lower) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(names) }}
{% endmacro %}

{#- The column names (lower case) of a seed's CSV header; [] where the adapter cannot read the file. -#}
{% macro _seed_header(node) %}
  {{ return(adapter.dispatch('_seed_header', 'privacy_guard')(node)) }}
{% endmacro %}

{#- Portable: the loaded seed's columns, when an earlier run created it. -#}
{% macro default___seed_header(node) %}
  {{ return(privacy_guard._existing_columns(node.database, node.schema, node.alias or node.name)) }}
{% endmacro %}

{#- Lower-case column names of a relation in the warehouse; [] when it does not exist. -#}
{% macro _existing_columns(database, schema, identifier) %}
  {%- set relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
  {{ return(privacy_guard._relation_columns(relation).keys() | list if relation else []) }}
{% endmacro %}

{#- DuckDB reads the file itself: the header row only (`limit 0`), so a first build is judged too. -#}
{% macro duckdb___seed_header(node) %}
  {%- set path = (node.root_path ~ '/' ~ node.original_file_path) | replace("'", "''") -%}
  {%- set header = run_query("select * from read_csv('" ~ path ~ "', header = true, all_varchar = true) limit 0") -%}
  {{ return(header.column_names | map('lower') | list) }}
{% endmacro %}
