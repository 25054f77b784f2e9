{#- The level-`level` ancestor of a value, looked up in a hierarchy relation (ARX format). -#}
{% macro generalize_hierarchy(column, hierarchy, level) %}
  {{ return(adapter.dispatch('generalize_hierarchy', 'privacy_guard')(column, hierarchy, level)) }}
{% endmacro %}

{#-
  A scalar subquery keeps this an expression usable in any select list. Both sides are compared as
  text because level_0 holds the original value as text while a seed loader may have typed it.
  A value missing from the hierarchy becomes NULL (suppressed, never passed through); a value
  listed twice fails the query (more than one row from a scalar subquery).
-#}
{% macro default__generalize_hierarchy(column, hierarchy, level) %}
  {%- if level is not integer or level is boolean or level < 0 -%}
    {{ exceptions.raise_compiler_error('privacy_guard.generalize_hierarchy(' ~ column ~ '): level must be an integer >= 0 (got ' ~ level ~ ')') }}
  {%- endif -%}
  (select cast(privacy_guard_hierarchy.level_{{ level }} as {{ dbt.type_string() }})
     from {{ hierarchy }} as privacy_guard_hierarchy
    where cast(privacy_guard_hierarchy.level_0 as {{ dbt.type_string() }}) = cast({{ column }} as {{ dbt.type_string() }}))
{% endmacro %}
