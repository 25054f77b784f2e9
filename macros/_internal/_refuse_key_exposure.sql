{#-
  Refuses every configuration that would copy the pseudonymization key (the environment variable
  named by vars.privacy_guard.key_env_var) into the audit log, a hook, target/ or logs, with one
  line naming the setting. Never reads the key itself: dbt stores every value a node reads with
  env_var() in target/partial_parse.msgpack.
-#}

{#- The audit listing the key variable among the variables it records: checked whenever the audit
    settings are read, so already when dbt parses the audit history model. -#}
{% macro _refuse_key_in_audit(audit) %}
  {%- set key_var = privacy_guard._settings().key_env_var -%}
  {%- if audit is mapping and key_var in (audit.get('user_env_vars') or []) -%}
    {{ exceptions.raise_compiler_error('privacy_guard: refusing to run: vars.privacy_guard.audit.user_env_vars lists ' ~ key_var ~ ', the pseudonymization key variable (vars.privacy_guard.key_env_var): the audit log would record the key; remove it from the list') }}
  {%- endif -%}
{% endmacro %}

{#- Any node or hook whose code calls env_var('<key variable>'), and the audit check: at run start
    (the hooks start_audit_run / validate_meta, and before a model pseudonymizes), when `graph` is known. -#}
{% macro _refuse_key_exposure() %}
  {%- do privacy_guard._refuse_key_in_audit(privacy_guard._settings().get('audit') or {}) -%}
  {%- if execute -%}
    {%- set key_var = privacy_guard._settings().key_env_var -%}
    {%- set reads_key = modules.re.compile('env_var\\s*\\(\\s*[\'"]' ~ modules.re.escape(key_var) ~ '[\'"]') -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') if reads_key.search(node.raw_code or '') -%}
      {%- set where = 'hook ' ~ node.unique_id if node.resource_type == 'operation' else node.unique_id ~ ' (' ~ node.original_file_path ~ ')' -%}
      {{ exceptions.raise_compiler_error('privacy_guard: refusing to run: ' ~ where ~ " calls env_var('" ~ key_var ~ "'), the pseudonymization key: dbt keeps values read with env_var in target/partial_parse.msgpack, and the code could write it to logs or tables; remove the call and delete target/") }}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
