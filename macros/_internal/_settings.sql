{#- Project settings: vars.privacy_guard over the contract's defaults. Works with no var at all. -#}
{% macro _settings() %}
  {%- set contract = privacy_guard._contract() -%}
  {%- set configured = var(contract.vars_namespace, {}) or {} -%}
  {%- set settings = {} -%}
  {%- do settings.update(contract.defaults) -%}
  {%- do settings.update(configured) -%}
  {{ return(settings) }}
{% endmacro %}
