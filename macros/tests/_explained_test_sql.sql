{#-
  The SQL a k_anonymity / l_diversity / t_closeness test runs, and what a failing one tells the
  engineer in dbt's console output (one `log` line, shown by `dbt build` / `dbt test` next to dbt's
  own "Got N results"): the node, the measure and threshold, the QIs (and sensitive columns),
  whether people or rows are counted, how many classes and people/rows fail, the smallest failing
  class, and for k the single QI whose removal leaves the fewest people/rows in classes below k.
  Counts only, never a value.

  In `build`/`test`/`retry` it runs the test's query first, wrapped in an aggregate (and, for k,
  one GROUP BY per QI left out, only when the test fails). When that run finds no failing row, the
  test runs the same query under `where 1 = 0`: the database answers it without reading anything
  (an empty result, the columns unchanged), so dbt counts 0 rows, as the query would have, and a
  passing test costs one run of its query, not two. A failing test runs it again for dbt (and
  --store-failures). Off with vars.privacy_guard.explain_failures: false: the query runs once, as
  dbt runs it, and nothing is logged.
-#}
{% macro _explained_test_sql(target, test_sql, facts) %}
  {%- if not execute or flags.WHICH not in ['build', 'test', 'retry'] or not privacy_guard._settings().explain_failures -%}
    {{ return(test_sql) }}
  {%- endif -%}
  {#- An ephemeral model is a CTE dbt injects after rendering: the test's SQL cannot run on its own here. -#}
  {%- if target.found and (target.node.get('config') or {}).get('materialized') == 'ephemeral' -%}
    {{ return(test_sql) }}
  {%- endif -%}
  {%- set summary = run_query('select count(*) as failing, coalesce(sum(class_size), 0) as failing_size, coalesce(sum(class_rows), 0) as failing_rows, min(class_size) as smallest from (' ~ test_sql ~ ') as failing') -%}
  {%- set failing, failing_size, failing_rows, smallest = summary.rows[0].values() -%}
  {%- if failing == 0 -%}
    {{ return('/* privacy_guard: this query found no failing class when the test ran it just before; it is not run again */\nselect * from (\n' ~ test_sql ~ '\n) as passed\nwhere 1 = 0') }}
  {%- endif -%}
  {%- set counted = 'people' if facts.unit else 'rows' -%}
  {%- set one = 'person' if facts.unit else 'row' -%}
  {%- set parts = [
    'privacy_guard.' ~ target.name ~ ' failed on ' ~ target.subject ~ ': ' ~ facts.measure,
    'quasi-identifiers ' ~ (facts.quasi_identifiers | join(', ')),
  ] -%}
  {%- if facts.sensitive_columns -%}
    {%- do parts.append('sensitive ' ~ (facts.sensitive_columns | join(', '))) -%}
  {%- endif -%}
  {%- do parts.append('counting ' ~ ('people (privacy_unit ' ~ facts.unit ~ ')' if facts.unit else 'rows')) -%}
  {%- set sizes = privacy_guard._counted(failing_size, one, counted) ~ ((' in ' ~ privacy_guard._counted(failing_rows, 'row', 'rows')) if facts.unit else '') -%}
  {%- do parts.append(privacy_guard._counted(failing, 'class', 'classes') ~ ' ' ~ facts.below ~ ' holding ' ~ sizes) -%}
  {%- do parts.append('smallest class ' ~ privacy_guard._counted(smallest, one, counted)) -%}
  {%- if facts.get('drop_one') -%}
    {%- do parts.append(privacy_guard._best_qi_to_drop(facts.quasi_identifiers, facts.drop_one, one, counted)) -%}
  {%- endif -%}
  {%- do log(parts | join('; '), info=true) -%}
  {{ return(test_sql) }}
{% endmacro %}

{#- For k: the QI whose removal leaves the fewest people/rows in classes below k (one GROUP BY per QI, one query). -#}
{% macro _best_qi_to_drop(quasi_identifiers, drop_one, one, counted) %}
  {%- set branches = [] -%}
  {%- for dropped in quasi_identifiers -%}
    {%- set kept = quasi_identifiers | reject('equalto', dropped) | list -%}
    {%- do branches.append(
      'select ' ~ loop.index0 ~ ' as dropped, count(*) as classes, coalesce(sum(class_size), 0) as below from ('
      ~ 'select ' ~ drop_one.size ~ ' as class_size from ' ~ drop_one.model
      ~ ' group by ' ~ privacy_guard._columns_sql(kept) ~ ' having ' ~ drop_one.size ~ ' < ' ~ drop_one.k ~ ') as small'
    ) -%}
  {%- endfor -%}
  {%- set best = run_query(branches | join(' union all ') ~ ' order by below, classes, dropped limit 1').rows[0] -%}
  {{ return('dropping or generalizing ' ~ quasi_identifiers[best[0]] ~ ' helps most: without it '
    ~ privacy_guard._counted(best[1], 'class', 'classes') ~ ' below k holding ' ~ privacy_guard._counted(best[2], one, counted)) }}
{% endmacro %}

{#- "1 class", "2 classes". -#}
{% macro _counted(number, singular, plural) %}
  {{ return(number ~ ' ' ~ (singular if number == 1 else plural)) }}
{% endmacro %}
