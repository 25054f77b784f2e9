{#-
  Fails the build with a one-line message before any SQL calls the HMAC UDF: when the model is a
  view (the UDF exists only on dbt's connection, so every other reader of the view would fail),
  when the plugin is not in the profile, when the key variable is unusable, or when the project
  would copy the key somewhere (privacy_guard._refuse_key_exposure). Messages name the variable,
  never its value.
-#}
{% macro _check_pseudonymization_key() %}
  {%- set wanted = privacy_guard._settings().key_env_var -%}
  {%- set prefix = 'privacy_guard.pseudonymize: ' -%}
  {%- if config.get('materialized') == 'view' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'materialize this model as a table: a view would call the connection-only function privacy_guard_hmac_sha256 whenever it is read, which fails outside dbt') }}
  {%- endif -%}
  {%- do privacy_guard._refuse_key_exposure() -%}
  {%- set registered = run_query("select count(*) from duckdb_functions() where function_name = 'privacy_guard_key_status'").columns[0].values()[0] -%}
  {%- if registered == 0 -%}
    {{ exceptions.raise_compiler_error(prefix ~ "the DuckDB connection has no privacy_guard_hmac_sha256 function: add `plugins: [{module: python_checks.duckdb_plugin}]` to this target's output in profiles.yml") }}
  {%- endif -%}
  {%- set state, env_var = (run_query('select privacy_guard_key_status()').columns[0].values()[0]).split(':', 1) -%}
  {%- if env_var != wanted -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'vars.privacy_guard.key_env_var is ' ~ wanted ~ ' but the duckdb plugin reads ' ~ env_var ~ ': set `config: {key_env_var: ' ~ wanted ~ '}` on the python_checks.duckdb_plugin entry in profiles.yml') }}
  {%- elif state == 'missing' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'environment variable ' ~ env_var ~ ' is not set; export the pseudonymization key in it before running dbt') }}
  {%- elif state == 'empty' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'environment variable ' ~ env_var ~ ' is empty; export the pseudonymization key in it before running dbt') }}
  {%- elif state == 'short' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'the key in environment variable ' ~ env_var ~ ' is shorter than 16 characters; use a random key (e.g. python -c "import secrets; print(secrets.token_hex(32))")') }}
  {%- elif state != 'ok' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'unexpected key status ' ~ state ~ ' for ' ~ env_var) }}
  {%- endif -%}
{% endmacro %}
