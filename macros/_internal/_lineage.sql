{#-
  The effective policy of a node: what it declares combined with what flows in from its ancestors,
  by the same rules as python_checks/policy.py (its name-based path: columns keep their names):
    k             the maximum declared along the lineage; a personal node with none upstream gets
                  settings.default_k (and passes it on)
    privacy_unit  the node's own, else the one unit its parents agree on (none if they differ)
    columns       a column's class is the node's own declaration, else the most identifying class
                  its parents give that name
    personal      a parent is personal, a column is classed personal, or the node declares consent
    retention_days  the minimum of the node's own privacy.retention.days and its parents' (the most
                  protective), none when nobody along the lineage declares one
  tests/test_policy_agreement.py renders this and the Python side on one fixture and compares.
-#}

{#-
  Ancestors of `node` (itself included) in an order where every parent comes before its children,
  with each one's parents among them: {nodes, order, parents}.
-#}
{% macro _lineage_order(node) %}
  {%- set found = {node.unique_id: node} -%}
  {%- if not (node.get('depends_on') or {}).get('nodes') -%}
    {{ return({'nodes': found, 'order': [node.unique_id], 'parents': {node.unique_id: []}}) }}  {#- a root: nothing to walk -#}
  {%- endif -%}
  {%- set queue = [node] -%}
  {#- Jinja loops over a list see the items appended while looping: a breadth-first walk without recursion. -#}
  {%- for current in queue -%}
    {%- for parent_id in (current.get('depends_on') or {}).get('nodes') or [] if parent_id not in found -%}
      {%- set parent = graph.nodes.get(parent_id) or graph.sources.get(parent_id) -%}
      {%- if parent -%}
        {%- do found.update({parent_id: parent}) -%}
        {%- do queue.append(parent) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- set placed = privacy_guard._topological_order(found) -%}
  {{ return({'nodes': found, 'order': placed.order, 'parents': placed.parents}) }}
{% endmacro %}

{#-
  {order, parents} of `found` (unique_id -> node): every node after its parents among `found`
  (Kahn's algorithm: a node is ready once all of its parents are placed), and each one's parents.
-#}
{% macro _topological_order(found) %}
  {%- set waiting = {} -%}
  {%- set children = {} -%}
  {%- set ordered = [] -%}
  {%- set parents_of = {} -%}
  {%- for unique_id, current in found.items() -%}
    {%- set parents = privacy_guard._known_parents(current, found) -%}
    {%- do parents_of.update({unique_id: parents}) -%}
    {%- do waiting.update({unique_id: parents | length}) -%}
    {%- for parent_id in parents -%}
      {%- do children.setdefault(parent_id, []).append(unique_id) -%}
    {%- endfor -%}
    {%- if not parents -%}
      {%- do ordered.append(unique_id) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- for unique_id in ordered -%}
    {%- for child in children.get(unique_id, []) -%}
      {%- do waiting.update({child: waiting[child] - 1}) -%}
      {%- if waiting[child] == 0 -%}
        {%- do ordered.append(child) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return({'order': ordered, 'parents': parents_of}) }}
{% endmacro %}

{#- The parent ids of a node that are among `found`, without repeats. -#}
{% macro _known_parents(node, found) %}
  {%- set parents = [] -%}
  {%- for parent_id in (node.get('depends_on') or {}).get('nodes') or [] if parent_id in found and parent_id not in parents -%}
    {%- do parents.append(parent_id) -%}
  {%- endfor -%}
  {{ return(parents) }}
{% endmacro %}

{#-
  {k, privacy_unit, personal, columns: lower-case name -> class, retention_days} of `node` after inheritance
  (empty values at parse time, when `graph` is not there).
-#}
{% macro _effective_policy(node) %}
  {%- if not execute or node is none -%}
    {{ return({'k': none, 'privacy_unit': none, 'personal': false, 'columns': {}, 'retention_days': none}) }}
  {%- endif -%}
  {%- set contract = privacy_guard._contract() -%}
  {%- set classes = contract.column_classes -%}
  {%- set default_k = privacy_guard._settings().default_k -%}
  {%- set lineage = privacy_guard._lineage_order(node) -%}
  {%- set effective = {} -%}
  {%- for unique_id in lineage.order -%}
    {%- set current = lineage.nodes[unique_id] -%}
    {%- set declared = privacy_guard._privacy_of(current) -%}
    {%- set parents = [] -%}
    {%- for parent_id in lineage.parents[unique_id] -%}
      {%- do parents.append(effective[parent_id]) -%}
    {%- endfor -%}
    {%- set ks = parents | map(attribute='k') | reject('none') | list -%}
    {%- if declared.get('k') is number -%}
      {%- do ks.append(declared.k) -%}
    {%- endif -%}
    {%- set units = parents | map(attribute='privacy_unit') | reject('none') | unique | list -%}
    {%- set unit = declared.get('privacy_unit') or (units[0] if units | length == 1 else none) -%}
    {%- set columns = {} -%}
    {%- for parent in parents -%}
      {%- for name, column_class in parent.columns.items() -%}
        {%- set current_class = columns.get(name) -%}
        {%- if current_class is none or classes.index(column_class) < classes.index(current_class) -%}
          {%- do columns.update({name: column_class}) -%}
        {%- endif -%}
      {%- endfor -%}
    {%- endfor -%}
    {%- for name, policy in privacy_guard._column_policies(current).items() if policy.get('class') in classes -%}
      {%- do columns.update({name: policy.get('class')}) -%}
    {%- endfor -%}
    {%- set personal = (parents | selectattr('personal') | list | length > 0)
        or (columns.values() | reject('equalto', 'none') | list | length > 0)
        or 'consent' in declared -%}
    {%- set k = ks | max if ks else (default_k if personal else none) -%}
    {%- set retentions = parents | map(attribute='retention_days') | reject('none') | list -%}
    {%- if (declared.get('retention') or {}).get('days') is number -%}
      {%- do retentions.append(declared.retention.days) -%}
    {%- endif -%}
    {%- do effective.update({unique_id: {'k': k, 'privacy_unit': unit, 'personal': personal, 'columns': columns,
        'retention_days': retentions | min if retentions else none}}) -%}
  {%- endfor -%}
  {{ return(effective[node.unique_id]) }}
{% endmacro %}
