{#-
  A reproducible uniform draw in (0, 1) per row: md5 of (seed, value expression, row key), its
  first 13 hex digits n (52 bits: exact in a double), u = (n + 0.5) / 16^13. The value expression
  is part of the hash so two measures noised in the same row get independent draws. Never random():
  its sequence depends on threads and row order.
-#}
{% macro _noise_uniform(macro_name, value, seed, row_key) %}
  {%- if row_key is none -%}
    {{ exceptions.raise_compiler_error('privacy_guard.' ~ macro_name ~ '(' ~ value ~ '): pass row_key, an expression (or list of them, e.g. the group-by columns) unique per row, so that a re-run draws the same noise') }}
  {%- endif -%}
  {%- set key_parts = [] -%}
  {%- for part in privacy_guard._as_list(row_key) -%}
    {%- do key_parts.append("coalesce(cast(" ~ part ~ " as " ~ dbt.type_string() ~ "), '')") -%}
  {%- endfor -%}
  {%- set hashed = 'md5(' ~ dbt.string_literal(dbt.escape_single_quotes(seed ~ '|' ~ value ~ '|')) ~ ' || ' ~ key_parts | join(" || '|' || ") ~ ')' -%}
  {{ return(adapter.dispatch('_noise_uniform', 'privacy_guard')(hashed)) }}
{% endmacro %}

{#- Hex to integer without adapter-specific casts: each digit's position in '0123456789abcdef'. -#}
{% macro default___noise_uniform(hashed) %}
  {%- set digits = [] -%}
  {%- for i in range(13) -%}
    {%- do digits.append("(position(substr(" ~ hashed ~ ", " ~ (i + 1) ~ ", 1) in '0123456789abcdef') - 1) * " ~ 16 ** (12 - i) ~ '.0') -%}
  {%- endfor -%}
  (({{ digits | join(' + ') }}) + 0.5) / {{ 16 ** 13 }}.0
{% endmacro %}

{% macro duckdb___noise_uniform(hashed) %}
  ((cast(('0x' || substr({{ hashed }}, 1, 13)) as bigint) + 0.5) / {{ 16 ** 13 }}.0)
{% endmacro %}

{#- epsilon and sensitivity are literal positive numbers: they are the privacy parameters. -#}
{% macro _check_noise_parameters(macro_name, value, epsilon, sensitivity) %}
  {%- for name, parameter in [('epsilon', epsilon), ('sensitivity', sensitivity)] -%}
    {%- if parameter is not number or parameter is boolean or parameter <= 0 -%}
      {{ exceptions.raise_compiler_error('privacy_guard.' ~ macro_name ~ '(' ~ value ~ '): ' ~ name ~ ' must be a number > 0 (got ' ~ parameter ~ ')') }}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
