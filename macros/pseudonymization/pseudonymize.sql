{#- Lower-case hex HMAC-SHA256 of the column's text under the pseudonymization key. -#}
{% macro pseudonymize(column) %}
  {{ return(adapter.dispatch('pseudonymize', 'privacy_guard')(column)) }}
{% endmacro %}

{#- No portable keyed hash exists that keeps the key out of SQL; fail when run, never at parse. -#}
{% macro default__pseudonymize(column) %}
  {%- if execute -%}
    {{ exceptions.raise_compiler_error('privacy_guard.pseudonymize is not implemented for adapter ' ~ adapter.type() ~ ' (implemented: duckdb, postgres, spark)') }}
  {%- endif -%}
  cast(null as {{ dbt.type_string() }})
{% endmacro %}

{#-
  The HMAC runs in a connection UDF of the dbt-duckdb plugin python_checks.duckdb_plugin, which
  reads the key from the environment itself: the key is in no SQL, log or artifact dbt writes.
-#}
{% macro duckdb__pseudonymize(column) %}
  {%- if execute -%}
    {%- do privacy_guard._check_pseudonymization_key() -%}
  {%- endif -%}
  privacy_guard_hmac_sha256(cast({{ column }} as varchar))
{% endmacro %}

{#- pgcrypto's hmac under the session setting privacy_guard.key (set through PGOPTIONS, never in SQL). -#}
{% macro postgres__pseudonymize(column) %}
  {%- if execute -%}
    {%- do privacy_guard._check_pseudonymization_key() -%}
  {%- endif -%}
  encode(hmac(cast({{ column }} as text), current_setting('privacy_guard.key'), 'sha256'), 'hex')
{% endmacro %}

{#-
  Spark's built-in hmac(key, message) under the session setting spark.privacy_guard.key, which the
  profile passes (server_side_parameters) from the environment. Spark substitutes ${...} when it
  parses the statement, so dbt's SQL holds only the placeholder; r'' keeps the key's bytes as they are.
-#}
{% macro spark__pseudonymize(column) %}
  {%- if execute -%}
    {%- do privacy_guard._check_pseudonymization_key() -%}
  {%- endif -%}
  lower(hex(hmac(r'${spark.privacy_guard.key}', cast({{ column }} as string), 'SHA-256')))
{% endmacro %}
