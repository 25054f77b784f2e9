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
  {{ return(privacy_guard._target_of(privacy_guard._node_for_relation(relation), relation, name, kind)) }}
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

{#- k / l / t: the argument, else privacy.<key> of the node, else settings.default_<key>. -#}
{% macro _resolve_threshold(target, key, value) %}
  {%- set value = target.policy.get(key) if value is none else value -%}
  {%- set value = privacy_guard._settings().get('default_' ~ key) if value is none else value -%}
  {%- if execute and (value is not number or value is boolean) -%}
    {{ privacy_guard._raise_for_target(target, key ~ ' must be a number (got ' ~ (value | tojson) ~ ')') }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#- Column names: the argument, else the node's columns declared with `class: <column_class>`. -#}
{% macro _resolve_columns(target, column_class, argument_name, value, required=true) %}
  {%- if value is not none -%}
    {{ return(privacy_guard._as_list(value)) }}
  {%- endif -%}
  {%- set names = privacy_guard._columns_of_class(target.column_policies, column_class) -%}
  {%- if execute and not target.found -%}
    {#- A test's subquery string comes from its `where:` config. -#}
    {%- set reason = ' (a `where:` config hides it)' if target.kind == 'test' and target.relation is string else '' -%}
    {{ privacy_guard._raise_for_target(target, 'no dbt node found for this relation' ~ reason ~ '; pass `' ~ argument_name ~ '`') }}
  {%- elif execute and required and not names -%}
    {{ privacy_guard._raise_for_target(target, 'no column declares config.meta.privacy.class: ' ~ column_class ~ ' and the ' ~ target.kind ~ ' has no `' ~ argument_name ~ '` argument') }}
  {%- endif -%}
  {{ return(names) }}
{% endmacro %}

{% macro _resolve_quasi_identifiers(target, value) %}
  {{ return(privacy_guard._resolve_columns(target, 'quasi_identifier', 'quasi_identifiers', value)) }}
{% endmacro %}

{% macro _resolve_sensitive_columns(target, value) %}
  {{ return(privacy_guard._resolve_columns(target, 'sensitive', 'sensitive_column', value)) }}
{% endmacro %}
