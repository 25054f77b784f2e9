{#-
  Fails the build with a one-line message before any SQL calls the HMAC: when the model is a
  view (the key exists only on dbt's connection, so every other reader of the view would fail),
  when the adapter's key source is not set up, when the key is unusable, or when the project
  would copy the key somewhere (privacy_guard._refuse_key_exposure). Messages name where the key
  comes from, never its value.
-#}
{% macro _check_pseudonymization_key() %}
  {%- set prefix = 'privacy_guard.pseudonymize: ' -%}
  {%- if config.get('materialized') == 'view' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'materialize this model as a table: a view would need the pseudonymization key whenever it is read, which fails outside dbt') }}
  {%- endif -%}
  {%- do privacy_guard._refuse_key_exposure() -%}
  {%- set state, source, how = adapter.dispatch('_pseudonymization_key_status', 'privacy_guard')() -%}
  {%- if state == 'missing' -%}
    {{ exceptions.raise_compiler_error(prefix ~ source ~ ' is not set; ' ~ how) }}
  {%- elif state == 'empty' -%}
    {{ exceptions.raise_compiler_error(prefix ~ source ~ ' is empty; ' ~ how) }}
  {%- elif state == 'short' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'the key in ' ~ source ~ ' is shorter than 16 characters; use a random key (e.g. python -c "import secrets; print(secrets.token_hex(32))")') }}
  {%- elif state != 'ok' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'unexpected key status ' ~ state ~ ' for ' ~ source) }}
  {%- endif -%}
{% endmacro %}

{#- (state, where the key comes from, how to set it); state is ok, missing, empty or short. -#}
{% macro default___pseudonymization_key_status() %}
  {{ exceptions.raise_compiler_error('privacy_guard.pseudonymize is not implemented for adapter ' ~ adapter.type()) }}
{% endmacro %}

{#- The dbt-duckdb plugin python_checks.duckdb_plugin reads the key from the environment itself. -#}
{% macro duckdb___pseudonymization_key_status() %}
  {%- set prefix = 'privacy_guard.pseudonymize: ' -%}
  {%- set wanted = privacy_guard._settings().key_env_var -%}
  {%- set registered = run_query("select count(*) from duckdb_functions() where function_name = 'privacy_guard_key_status'").columns[0].values()[0] -%}
  {%- if registered == 0 -%}
    {{ exceptions.raise_compiler_error(prefix ~ "the DuckDB connection has no privacy_guard_hmac_sha256 function: add `plugins: [{module: python_checks.duckdb_plugin}]` to this target's output in profiles.yml") }}
  {%- endif -%}
  {%- set state, env_var = (run_query('select privacy_guard_key_status()').columns[0].values()[0]).split(':', 1) -%}
  {%- if env_var != wanted -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'vars.privacy_guard.key_env_var is ' ~ wanted ~ ' but the duckdb plugin reads ' ~ env_var ~ ': set `config: {key_env_var: ' ~ wanted ~ '}` on the python_checks.duckdb_plugin entry in profiles.yml') }}
  {%- endif -%}
  {{ return((state, 'environment variable ' ~ env_var, 'export the pseudonymization key in it before running dbt')) }}
{% endmacro %}

{#-
  The key is the session setting privacy_guard.key, passed by libpq from the environment
  (PGOPTIONS), so it is in no SQL text. pgcrypto provides hmac(). A model that reads the setting
  itself could store the key, so such code is refused.
-#}
{% macro postgres___pseudonymization_key_status() %}
  {%- set prefix = 'privacy_guard.pseudonymize: ' -%}
  {%- do privacy_guard._refuse_key_setting_readers('privacy_guard.key', 'privacy_guard\\.key[\'"]') -%}
  {%- if run_query("select count(*) from pg_extension where extname = 'pgcrypto'").columns[0].values()[0] == 0 -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'the database has no pgcrypto extension (hmac): run `create extension pgcrypto` as its owner') }}
  {%- endif -%}
  {%- set state = run_query("select case when current_setting('privacy_guard.key', true) is null then 'missing' when current_setting('privacy_guard.key', true) = '' then 'empty' when length(current_setting('privacy_guard.key', true)) < 16 then 'short' else 'ok' end").columns[0].values()[0] -%}
  {{ return((state, 'session setting privacy_guard.key', 'pass it through libpq: PGOPTIONS="-c privacy_guard.key=$PRIVACY_GUARD_KEY" dbt build')) }}
{% endmacro %}

{#-
  The key is the session setting spark.privacy_guard.key, which dbt-spark sets from the profile's
  server_side_parameters (read there from the environment) when it opens the session; SQL names it
  only as ${spark.privacy_guard.key}. An unset setting substitutes to ''; with variable substitution
  off the placeholder stays as written and would silently become the key. A model that names the
  setting itself could store the key, so such code is refused.
-#}
{% macro spark___pseudonymization_key_status() %}
  {%- set prefix = 'privacy_guard.pseudonymize: ' -%}
  {%- do privacy_guard._refuse_key_setting_readers('spark.privacy_guard.key', 'spark\\.privacy_guard\\.key\\b') -%}
  {%- set key = "r'${spark.privacy_guard.key}'" -%}
  {%- set state = run_query("select case when " ~ key ~ " = concat('$', '{spark.privacy_guard.key}') then 'unsubstituted' when " ~ key ~ " = '' then 'missing' when length(" ~ key ~ ") < 16 then 'short' else 'ok' end").columns[0].values()[0] -%}
  {%- if state == 'unsubstituted' -%}
    {{ exceptions.raise_compiler_error(prefix ~ 'Spark does not substitute ${...} in SQL on this connection: set spark.sql.variable.substitute=true') }}
  {%- endif -%}
  {%- set env_var = privacy_guard._settings().key_env_var -%}
  {{ return((state, 'session setting spark.privacy_guard.key', "pass it from the environment in the profile: server_side_parameters: {spark.privacy_guard.key: \"{{ env_var('" ~ env_var ~ "') }}\"}")) }}
{% endmacro %}

{#- A node whose code names the session setting that holds the key (`pattern`, a case-insensitive
    regex) could copy the key into a table or a log: refused with one line naming the node. -#}
{% macro _refuse_key_setting_readers(setting, pattern) %}
  {%- set reads_setting = modules.re.compile(pattern, modules.re.I) -%}
  {%- for node in graph.nodes.values() | sort(attribute='unique_id') if reads_setting.search(node.raw_code or '') -%}
    {{ exceptions.raise_compiler_error('privacy_guard.pseudonymize: refusing to run: ' ~ node.unique_id ~ ' (' ~ node.original_file_path ~ ') reads the setting ' ~ setting ~ ', the pseudonymization key; call privacy_guard.pseudonymize instead') }}
  {%- endfor -%}
{% endmacro %}
