{#-
  The few constants of the meta contract that Jinja needs. The contract itself is
  python_checks/schema/privacy_meta.schema.json; tests/test_contract_constants.py fails when
  this macro and the schema disagree. Types: string, integer, number, boolean, list_of_strings,
  mapping, list_of_mappings.
-#}
{% macro _contract() %}
  {{ return({
    'meta_namespace': 'privacy',
    'vars_namespace': 'privacy_guard',
    'column_classes': ['direct_identifier', 'quasi_identifier', 'sensitive', 'none'],
    'sensitivity_levels': ['public', 'internal', 'confidential', 'restricted'],
    'protections': ['pseudonymized', 'generalized', 'masked', 'suppressed', 'noised'],
    'node_keys': {
      'department': 'string',
      'consent': 'list_of_strings',
      'purpose': 'string',
      'retention': 'mapping',
      'k': 'integer',
      'l': 'number',
      't': 'number',
      'agreement': 'string',
      'sensitivity': 'string',
      'rationale': 'string',
      'owner': 'string',
      'waivers': 'list_of_mappings',
    },
    'retention_keys': {'days': 'integer', 'date_column': 'string'},
    'waiver_keys': {'rule': 'string', 'reason': 'string', 'expires': 'string', 'approved_by': 'string'},
    'date_pattern': '^\\d{4}-\\d{2}-\\d{2}$',
    'purpose_pattern': '^[a-z][a-z0-9_]*$',
    'number_bounds': {
      'k': {'minimum': 1},
      'l': {'minimum': 1},
      't': {'exclusiveMinimum': 0, 'maximum': 1},
      'retention.days': {'minimum': 0},
    },
    'column_keys': {
      'class': 'string',
      'hierarchy': 'string',
      'protection': 'string',
      'rationale': 'string',
    },
    'defaults': {
      'default_k': 5,
      'default_l': 2,
      'default_t': 0.2,
      'key_env_var': 'PRIVACY_GUARD_KEY',
    },
  }) }}
{% endmacro %}
