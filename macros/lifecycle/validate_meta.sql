{#-
  Checks every privacy block of the project (models, seeds, snapshots, sources and their columns,
  exposures, and vars.privacy_guard's defaults) against privacy_guard._contract() and fails with
  one line per problem, naming the node and the key. With vars.privacy_guard.enforce: true it also
  fails closed on personal data without a policy (_internal/_fail_closed.sql). Run it with `dbt run-operation privacy_guard.validate_meta`
  or as an `on-run-start` hook; it never runs by itself.
-#}
{% macro validate_meta() %}
  {{ return(adapter.dispatch('validate_meta', 'privacy_guard')()) }}
{% endmacro %}

{% macro default__validate_meta() %}
  {%- if not execute -%}
    {{ return('') }}
  {%- endif -%}
  {%- do privacy_guard._refuse_key_exposure() -%}
  {%- set contract = privacy_guard._contract() -%}
  {%- set problems = [] -%}
  {%- set nodes = (graph.nodes.values() | selectattr('resource_type', 'in', ['model', 'seed', 'snapshot']) | list) + (graph.sources.values() | list) + (graph.exposures.values() | list) -%}
  {%- set nodes = nodes | sort(attribute='unique_id') -%}
  {%- for node in nodes -%}
    {%- set node_problems = privacy_guard._block_problems(privacy_guard._privacy_of(node), contract.node_keys, {'sensitivity': contract.sensitivity_levels}, contract.meta_namespace) -%}
    {%- for name, column in (node.get('columns') or {}).items() -%}
      {%- do node_problems.extend(privacy_guard._block_problems(privacy_guard._privacy_of(column), contract.column_keys, {'class': contract.column_classes, 'protection': contract.protections}, 'columns.' ~ name ~ '.' ~ contract.meta_namespace)) -%}
    {%- endfor -%}
    {%- for problem in node_problems -%}
      {%- do problems.append(node.unique_id ~ ': ' ~ problem) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if privacy_guard._settings().get('enforce') is true -%}
    {%- do problems.extend(privacy_guard._fail_closed_problems()) -%}
  {%- endif -%}
  {%- set configured = var(contract.vars_namespace, {}) or {} -%}
  {%- for key, default in contract.defaults.items() if configured.get(key) is not none -%}
    {%- set problem = privacy_guard._value_problem(configured[key], 'integer' if default is integer else ('number' if default is number else 'string')) -%}
    {%- if problem -%}
      {%- do problems.append('vars.' ~ contract.vars_namespace ~ ': ' ~ key ~ ' ' ~ problem) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if problems -%}
    {%- set lines = [] -%}
    {%- for problem in problems -%}
      {%- do lines.append('privacy_guard.validate_meta: ' ~ problem) -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(lines | join('\n')) }}
  {%- endif -%}
  {{ log('privacy_guard.validate_meta: ' ~ nodes | length ~ ' nodes, no problems', info=true) }}
  {{ return('') }}
{% endmacro %}

{#- A value as the message shows it: strings quoted, like the YAML a user wrote. -#}
{% macro _shown(value) %}
  {{ return("'" ~ value ~ "'" if value is string else value | string) }}
{% endmacro %}

{#- 'must be ... (got ...)' when `value` is not of the contract type, else ''. -#}
{% macro _value_problem(value, type) %}
  {%- set ok = {
    'string': value is string,
    'integer': value is integer,
    'number': value is number and value is not boolean,
    'boolean': value is boolean,
    'list_of_strings': value is iterable and value is not string and value is not mapping and (value | reject('string') | list | length == 0),
    'mapping': value is mapping,
    'list_of_mappings': value is iterable and value is not string and value is not mapping and (value | reject('mapping') | list | length == 0),
  }[type] -%}
  {%- set article = 'an' if type in ['integer'] else 'a' -%}
  {{ return('' if ok else 'must be ' ~ article ~ ' ' ~ type | replace('_', ' ') ~ ' (got ' ~ privacy_guard._shown(value) ~ ')') }}
{% endmacro %}

{#- Problems of one privacy block (`prefix` is its key path, e.g. `privacy` or `columns.x.privacy`). -#}
{% macro _block_problems(block, key_types, enums, prefix) %}
  {%- set contract = privacy_guard._contract() -%}
  {%- set problems = [] -%}
  {%- if block is not mapping -%}
    {{ return([prefix ~ ' must be a mapping (got ' ~ privacy_guard._shown(block) ~ ')']) }}
  {%- endif -%}
  {%- for key, value in block.items() -%}
    {%- set path = prefix ~ '.' ~ key -%}
    {%- set type = key_types.get(key) -%}
    {%- set type_problem = privacy_guard._value_problem(value, type) if type else '' -%}
    {%- if not type -%}
      {%- do problems.append(path ~ ' is not a known key (allowed: ' ~ key_types.keys() | sort | join(', ') ~ ')') -%}
    {%- elif type_problem -%}
      {%- do problems.append(path ~ ' ' ~ type_problem) -%}
    {%- elif key in enums and value not in enums[key] -%}
      {%- do problems.append(path ~ ' must be one of ' ~ enums[key] | join(', ') ~ ' (got ' ~ privacy_guard._shown(value) ~ ')') -%}
    {%- elif key == 'retention' -%}
      {%- if 'days' not in value -%}
        {%- do problems.append(path ~ '.days is required') -%}
      {%- endif -%}
      {%- do problems.extend(privacy_guard._block_problems(value, contract.retention_keys, {}, path)) -%}
    {%- elif key == 'risk' -%}
      {%- do problems.extend(privacy_guard._block_problems(value, contract.risk_keys, {}, path)) -%}
    {%- elif key == 'waivers' -%}
      {%- for waiver in value -%}
        {%- set waiver_path = path ~ '.' ~ loop.index0 -%}
        {%- for required in contract.waiver_keys if required not in waiver -%}
          {%- do problems.append(waiver_path ~ '.' ~ required ~ ' is required') -%}
        {%- endfor -%}
        {%- if waiver.expires is string and not modules.re.match(contract.date_pattern, waiver.expires) -%}
          {%- do problems.append(waiver_path ~ '.expires must be a date YYYY-MM-DD (got ' ~ privacy_guard._shown(waiver.expires) ~ ')') -%}
        {%- endif -%}
        {%- do problems.extend(privacy_guard._block_problems(waiver, contract.waiver_keys, {}, waiver_path)) -%}
      {%- endfor -%}
    {%- elif key in ['purpose', 'consent'] -%}
      {%- for purpose in ([value] if value is string else value) if not modules.re.match(contract.purpose_pattern, purpose) -%}
        {%- do problems.append(path ~ (' must be a purpose name' if value is string else ' must hold purpose names') ~ ' matching ' ~ contract.purpose_pattern ~ ' (got ' ~ privacy_guard._shown(purpose) ~ ')') -%}
      {%- endfor -%}
    {%- elif type == 'string' and key != 'rationale' and value | length == 0 -%}
      {%- do problems.append(path ~ ' must not be empty') -%}
    {%- endif -%}
    {#- Bounds are keyed by the path below `privacy` (`k`, `retention.days`). -#}
    {%- set bounds = contract.number_bounds.get(path.split('.', 1)[1]) if type and not type_problem else none -%}
    {%- if bounds and not privacy_guard._within(value, bounds) -%}
      {%- do problems.append(path ~ ' must be ' ~ privacy_guard._bounds_text(bounds) ~ ' (got ' ~ privacy_guard._shown(value) ~ ')') -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(problems) }}
{% endmacro %}

{% macro _within(value, bounds) %}
  {{ return((bounds.get('minimum') is none or value >= bounds.minimum)
    and (bounds.get('exclusiveMinimum') is none or value > bounds.exclusiveMinimum)
    and (bounds.get('maximum') is none or value <= bounds.maximum)) }}
{% endmacro %}

{% macro _bounds_text(bounds) %}
  {%- set parts = [] -%}
  {%- if bounds.get('minimum') is not none -%}{%- do parts.append('>= ' ~ bounds.minimum) -%}{%- endif -%}
  {%- if bounds.get('exclusiveMinimum') is not none -%}{%- do parts.append('> ' ~ bounds.exclusiveMinimum) -%}{%- endif -%}
  {%- if bounds.get('maximum') is not none -%}{%- do parts.append('<= ' ~ bounds.maximum) -%}{%- endif -%}
  {{ return(parts | join(' and ')) }}
{% endmacro %}
