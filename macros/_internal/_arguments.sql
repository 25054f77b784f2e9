{#-
  Argument resolution shared by the generic tests and the de-identification macros: an explicit
  argument wins, else the `config.meta.privacy` of the node behind the relation, else the project
  settings. A default that is needed but missing fails at execute time only. At parse time `graph`
  is not there yet and dbt throws the rendered SQL away, so the resolvers return empty values
  instead of raising and callers need not render valid SQL from them.
-#}

{#-
  What a test or macro needs to know about the node it works on, looked up once per call: the
  graph lookup and meta reads are the cost of the tests on large projects (bench/bench_compile.py).
  `relation` may be a relation, a CTE name (macros) or, with a `where:` config, a subquery string
  (tests); a string has no node. `name` names the test or macro in error messages; `kind` is
  'test' or 'macro'.
-#}
{% macro _resolve_target(relation, name, kind) %}
  {%- set node = privacy_guard._node_for_relation(relation) -%}
  {#- A `where:` subquery string, or an ephemeral model's CTE name: the test node says which model it is. -#}
  {%- if node is none and kind == 'test' -%}
    {%- set node = privacy_guard._tested_node() -%}
  {%- endif -%}
  {{ return(privacy_guard._target_of(node, relation, name, kind)) }}
{% endmacro %}

{#-
  The node a generic test is attached to, read from the test node itself (the context's `model`):
  with a `where:` config the test gets a subquery string, on an ephemeral model a CTE name, and the
  meta must still be the model's.
-#}
{% macro _tested_node() %}
  {%- set test_node = model if model is mapping else {} -%}
  {%- set tested_id = test_node.get('attached_node') or (((test_node.get('depends_on') or {}).get('nodes') or [none]) | first) -%}
  {%- if not execute or test_node.get('resource_type') != 'test' or not tested_id -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return(graph.nodes.get(tested_id) or graph.sources.get(tested_id)) }}
{% endmacro %}

{#- The target of a macro that reads the meta of the model calling it (the model being built). -#}
{% macro _model_target(name) %}
  {{ return(privacy_guard._target_of(model or none, this, name, 'macro')) }}
{% endmacro %}

{% macro _target_of(node, relation, name, kind) %}
  {{ return({
    'name': name,
    'kind': kind,
    'relation': relation,
    'node': node,
    'found': node is not none,
    'subject': node.unique_id if node else (relation | string),
    'policy': privacy_guard._privacy_of(node) if node else {},
    'column_policies': privacy_guard._column_policies(node) if node else {},
  }) }}
{% endmacro %}

{#- Compiler error `privacy_guard.<name>: <node or relation>: <problem>`. -#}
{% macro _raise_for_target(target, problem) %}
  {{ exceptions.raise_compiler_error('privacy_guard.' ~ target.name ~ ': ' ~ target.subject ~ ': ' ~ problem) }}
{% endmacro %}

{#- A string argument or a list of them -> list. -#}
{% macro _as_list(value) %}
  {{ return([value] if value is string else (value | list)) }}
{% endmacro %}

{#-
  The node's effective policy (macros/_internal/_lineage.sql), computed on first use and kept on
  the target: the lineage walk is the costly part of resolving defaults.
-#}
{% macro _effective_of(target) %}
  {%- if 'effective' not in target -%}
    {%- do target.update({'effective': privacy_guard._effective_policy(target.node)}) -%}
  {%- endif -%}
  {{ return(target.effective) }}
{% endmacro %}

{#- The built relation of the target, for introspection: the relation, or the node's when a test got a `where:` subquery. -#}
{% macro _target_relation(target) %}
  {%- if target.relation is not string or not target.found -%}
    {{ return(target.relation) }}
  {%- endif -%}
  {%- set node = target.node -%}
  {{ return(api.Relation.create(database=node.get('database'), schema=node.get('schema'), identifier=node.get('alias') or node.get('identifier') or node.get('name'))) }}
{% endmacro %}

{#-
  k / l / t: the argument, else the node's (k: its effective k, the maximum along its lineage, as
  privacy-guard check computes it; l, t: privacy.<key> of the node), else settings.default_<key>.
-#}
{% macro _resolve_threshold(target, key, value) %}
  {%- if value is none -%}
    {%- set value = privacy_guard._effective_of(target).k if key == 'k' else target.policy.get(key) -%}
  {%- endif -%}
  {%- set value = privacy_guard._settings().get('default_' ~ key) if value is none else value -%}
  {%- if execute and (value is not number or value is boolean) -%}
    {{ privacy_guard._raise_for_target(target, key ~ ' must be a number (got ' ~ (value | tojson) ~ ')') }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#-
  Column names: the argument, else the node's columns declared with `class: <column_class>`, then
  (inherit=true) the columns of the built relation that its ancestors class so by name.
-#}
{% macro _resolve_columns(target, column_class, argument_name, value, required=true, inherit=false) %}
  {%- if value is not none -%}
    {{ return(privacy_guard._as_list(value)) }}
  {%- endif -%}
  {%- set names = privacy_guard._columns_of_class(target.column_policies, column_class) -%}
  {%- if inherit and target.found -%}
    {%- set names = names + privacy_guard._inherited_columns(target, column_class, names) -%}
  {%- endif -%}
  {%- if execute and not target.found -%}
    {#- A test's subquery string comes from its `where:` config. -#}
    {%- set reason = ' (a `where:` config hides it)' if target.kind == 'test' and target.relation is string else '' -%}
    {{ privacy_guard._raise_for_target(target, 'no dbt node found for this relation' ~ reason ~ '; pass `' ~ argument_name ~ '`') }}
  {%- elif execute and required and not names -%}
    {{ privacy_guard._raise_for_target(target, 'no column declares config.meta.privacy.class: ' ~ column_class ~ ' and the ' ~ target.kind ~ ' has no `' ~ argument_name ~ '` argument') }}
  {%- endif -%}
  {{ return(names) }}
{% endmacro %}

{#-
  Columns of one class that the node does not declare itself but inherits by name: those of the
  built relation (in its order), or every inherited name (sorted) when it cannot be introspected.
-#}
{% macro _inherited_columns(target, column_class, declared) %}
  {%- set effective = privacy_guard._effective_of(target).columns -%}
  {%- set names = [] -%}
  {%- for name, effective_class in effective.items() if effective_class == column_class and name not in declared -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {%- if not names -%}
    {{ return([]) }}  {#- nothing inherited: no need to introspect the relation -#}
  {%- endif -%}
  {%- set built = privacy_guard._built_columns(target) -%}
  {%- if not built -%}
    {{ return(names | sort) }}
  {%- endif -%}
  {%- set inherited = [] -%}
  {%- for column in built.values() if column.name | lower in names -%}
    {%- do inherited.append(column.name) -%}
  {%- endfor -%}
  {{ return(inherited) }}
{% endmacro %}

{#- lower-case name -> Column of the target's built relation, introspected once per target. -#}
{% macro _built_columns(target) %}
  {%- if 'built_columns' not in target -%}
    {%- do target.update({'built_columns': privacy_guard._relation_columns(privacy_guard._target_relation(target))}) -%}
  {%- endif -%}
  {{ return(target.built_columns) }}
{% endmacro %}

{% macro _resolve_quasi_identifiers(target, value) %}
  {{ return(privacy_guard._resolve_columns(target, 'quasi_identifier', 'quasi_identifiers', value, inherit=true)) }}
{% endmacro %}

{% macro _resolve_sensitive_columns(target, value) %}
  {{ return(privacy_guard._resolve_columns(target, 'sensitive', 'sensitive_column', value, inherit=true)) }}
{% endmacro %}

{#-
  The column naming the person a row is about: the argument, else the node's effective
  privacy.privacy_unit (own or inherited); none means the measures count rows. A unit the built
  relation lacks fails at execute time: counting rows instead would silently weaken the test
  (in_relation=false: the unit is counted in another relation, e.g. the input of an aggregate).
-#}
{% macro _resolve_privacy_unit(target, value, in_relation=true) %}
  {%- set declared = privacy_guard._effective_of(target).privacy_unit if target.found else none -%}
  {%- set unit = declared if value is none else value -%}
  {#- Another column than the model's unit (a visit id is "unique people" too) would weaken the test. -#}
  {%- if execute and declared is not none and value is not none and (value | string | lower) != (declared | lower) -%}
    {{ privacy_guard._raise_for_target(target, 'privacy_unit argument ' ~ (value | tojson) ~ " differs from the model's privacy.privacy_unit " ~ (declared | tojson) ~ '; change the meta, not the test') }}
  {%- endif -%}
  {%- if execute and unit is not none -%}
    {%- if unit is not string or not unit -%}
      {{ privacy_guard._raise_for_target(target, 'privacy_unit must be a column name (got ' ~ (unit | tojson) ~ ')') }}
    {%- endif -%}
    {%- set built = privacy_guard._built_columns(target) if in_relation else {} -%}
    {%- if built and unit | lower not in built -%}
      {{ privacy_guard._raise_for_target(target, 'privacy unit ' ~ (unit | tojson) ~ ' is not a column of the relation; keep it in the model, or set privacy.privacy_unit to the column that names the person') }}
    {%- endif -%}
  {%- endif -%}
  {{ return(unit) }}
{% endmacro %}
