{#-
  Finding the node behind a relation, and reading its privacy meta.

  Inside a generic test `config.meta_get()` sees the test node, so tests look the tested node up
  in `graph`. The lookup guesses the unique id from the relation first (model/seed/snapshot of
  the root project: three dict look-ups) and scans `graph.nodes`/`graph.sources` only on a miss: a
  scan per test walks every node, which adds up on a project with thousands of tests.
-#}
{% macro _relation_key(relation) %}
  {%- if relation is string -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return([relation.database or '', relation.schema or '', relation.identifier or ''] | join('.') | lower) }}
{% endmacro %}

{% macro _node_key(node) %}
  {%- set identifier = node.get('alias') or node.get('identifier') or node.get('name') -%}
  {{ return([node.get('database') or '', node.get('schema') or '', identifier or ''] | join('.') | lower) }}
{% endmacro %}

{% macro _node_for_relation(relation) %}
  {%- if not execute or relation is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set wanted = privacy_guard._relation_key(relation) -%}
  {%- if wanted is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set identifier = relation.identifier -%}
  {%- for resource_type in ['model', 'seed', 'snapshot'] -%}
    {%- set candidate = graph.nodes.get(resource_type ~ '.' ~ project_name ~ '.' ~ identifier) -%}
    {%- if candidate and privacy_guard._node_key(candidate) == wanted -%}
      {{ return(candidate) }}
    {%- endif -%}
  {%- endfor -%}
  {#- Miss (alias, other package, source): one scan. -#}
  {%- for node in graph.nodes.values() if node.resource_type in ['model', 'seed', 'snapshot'] and privacy_guard._node_key(node) == wanted -%}
    {{ return(node) }}
  {%- endfor -%}
  {%- for node in graph.sources.values() if privacy_guard._node_key(node) == wanted -%}
    {{ return(node) }}
  {%- endfor -%}
  {{ return(none) }}
{% endmacro %}

{#- The `privacy` block of a node or column: `config.meta` (dbt >= 1.10) over top-level `meta`. -#}
{% macro _privacy_of(entry) %}
  {%- set namespace = privacy_guard._contract().meta_namespace -%}
  {%- set config_meta = (entry.get('config') or {}).get('meta') or {} -%}
  {%- set top_meta = entry.get('meta') or {} -%}
  {{ return(config_meta.get(namespace) or top_meta.get(namespace) or {}) }}
{% endmacro %}

{#- column name (lower case) -> its privacy block, for the columns that declare one. -#}
{% macro _column_policies(node) %}
  {%- set policies = {} -%}
  {%- for name, column in (node.get('columns') or {}).items() -%}
    {%- set policy = privacy_guard._privacy_of(column) -%}
    {%- if policy -%}
      {%- do policies.update({(column.get('name') or name) | lower: policy}) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(policies) }}
{% endmacro %}

{#- Names of the columns declared with `class: <column_class>`, in declaration order. Takes
    _column_policies(node), which callers that need several classes read only once. -#}
{% macro _columns_of_class(column_policies, column_class) %}
  {%- set names = [] -%}
  {%- for name, policy in column_policies.items() if policy.get('class') == column_class -%}
    {%- do names.append(name) -%}
  {%- endfor -%}
  {{ return(names) }}
{% endmacro %}
