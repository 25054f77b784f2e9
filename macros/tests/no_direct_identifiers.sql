{#-
  One row per column classed direct_identifier that survives in the built relation unprotected: its
  name, the problem and how many rows show it (never the values). A declared column the relation no
  longer has was dropped and passes. Checked protections:
    none declared  -> every non-NULL value is a violation
    pseudonymized  -> values must look like privacy_guard.pseudonymize output (64 lower-case hex)
    suppressed     -> values must be NULL
    generalized / masked / noised -> trusted as declared (no generic way to verify them)
-#}
{% test no_direct_identifiers(model, direct_identifiers=none) %}
  {{ return(adapter.dispatch('test_no_direct_identifiers', 'privacy_guard')(model, direct_identifiers)) }}
{% endtest %}

{#- SQL condition: `value` is not a pseudonym (64 lower-case hex characters). -#}
{% macro _not_a_pseudonym(value) %}
  {{ return(adapter.dispatch('_not_a_pseudonym', 'privacy_guard')(value)) }}
{% endmacro %}

{#- Portable: no regex, only length and ltrim(value, characters). -#}
{% macro default___not_a_pseudonym(value) %}
  {{ return('(length(' ~ value ~ ') <> 64 or ltrim(' ~ value ~ ", '0123456789abcdef') <> '')") }}
{% endmacro %}

{#- Spark's two-argument ltrim takes the characters first: a regex says it unambiguously. -#}
{% macro spark___not_a_pseudonym(value) %}
  {{ return('(length(' ~ value ~ ') <> 64 or not ' ~ value ~ " rlike '^[0-9a-f]*$')") }}
{% endmacro %}

{% macro default__test_no_direct_identifiers(model, direct_identifiers) %}
  {%- set target = privacy_guard._resolve_target(model, 'no_direct_identifiers', 'test') -%}
  {%- set policies = target.column_policies -%}
  {#- No direct identifier declared means none to protect: not an error. -#}
  {%- set declared = privacy_guard._resolve_columns(target, 'direct_identifier', 'direct_identifiers', direct_identifiers, required=false) -%}
  {#- A subquery (`where:` config) cannot be introspected: check every declared column then. -#}
  {%- set built = privacy_guard._relation_columns(model) -%}
  {%- set checks = [] -%}
  {%- for name in declared if model is string or name | lower in built -%}
    {%- set protection = (policies.get(name | lower) or {}).get('protection') -%}
    {%- set value = 'cast(' ~ privacy_guard._column_sql(name) ~ ' as ' ~ dbt.type_string() ~ ')' -%}
    {%- if protection is none -%}
      {%- do checks.append((name, 'no protection declared', value ~ ' is not null')) -%}
    {%- elif protection == 'pseudonymized' -%}
      {%- do checks.append((name, 'declared pseudonymized but values are not 64 lower-case hex characters', value ~ ' is not null and ' ~ privacy_guard._not_a_pseudonym(value))) -%}
    {%- elif protection == 'suppressed' -%}
      {%- do checks.append((name, 'declared suppressed but has values', value ~ ' is not null')) -%}
    {%- endif -%}
  {%- endfor -%}
with checks as (
  {%- for name, problem, condition in checks %}
  select {{ privacy_guard._string_literal(name) }} as column_name, '{{ problem }}' as problem, count(*) as offending_rows
  from {{ model }}
  where {{ condition }}
  {% if not loop.last %}union all{% endif %}
  {%- endfor %}
  {%- if not checks %}
  select cast(null as {{ dbt.type_string() }}) as column_name, cast(null as {{ dbt.type_string() }}) as problem, 0 as offending_rows
  {%- endif %}
)
select * from checks where offending_rows > 0
{% endmacro %}
