{#-
  The few constants of the meta contract that Jinja needs. The contract itself is
  python_checks/schema/privacy_meta.schema.json; tests/test_contract_constants.py fails when
  this macro and the schema disagree. Types: string, integer, number, boolean, list_of_strings,
  mapping.
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
      'risk': 'mapping',
      'agreement': 'string',
      'sensitivity': 'string',
      'rationale': 'string',
      'owner': 'string',
    },
    'retention_keys': {'days': 'integer', 'date_column': 'string'},
    'risk_keys': {'max_risk': 'number', 'max_records_at_risk': 'number', 'max_average_risk': 'number'},
    'purpose_pattern': '^[a-z][a-z0-9_]*$',
    'number_bounds': {
      'k': {'minimum': 1},
      'l': {'minimum': 1},
      't': {'exclusiveMinimum': 0, 'maximum': 1},
      'retention.days': {'minimum': 0},
      'risk.max_risk': {'exclusiveMinimum': 0, 'maximum': 1},
      'risk.max_records_at_risk': {'minimum': 0, 'maximum': 1},
      'risk.max_average_risk': {'exclusiveMinimum': 0, 'maximum': 1},
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
