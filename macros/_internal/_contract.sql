{#-
  The few constants of the meta contract that Jinja needs. The contract itself is
  python_checks/schema/privacy_meta.schema.json; tests/test_contract_constants.py fails when
  this macro and the schema disagree. Types: string, integer, number, boolean, list_of_strings,
  mapping, list_of_mappings. `personal_column_patterns` is the default of
  vars.privacy_guard.personal_column_patterns (column names that look personal; the checker's
  unclassified_personal_data rule reads the schema, a dbt-side enforce hook reads this).
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
      'privacy_unit': 'string',
      'agreement': 'string',
      'sensitivity': 'string',
      'rationale': 'string',
      'owner': 'string',
      'roles': 'list_of_strings',
      'waivers': 'list_of_mappings',
    },
    'retention_keys': {'days': 'integer', 'date_column': 'string'},
    'risk_keys': {'max_risk': 'number', 'max_records_at_risk': 'number', 'max_average_risk': 'number'},
    'waiver_keys': {'rule': 'string', 'reason': 'string', 'expires': 'string', 'approved_by': 'string'},
    'date_pattern': '^\\d{4}-\\d{2}-\\d{2}$',
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
    'personal_column_patterns': [
      'email', '*_email', 'email_*', 'ssn', '*_ssn', 'phone', '*_phone', 'phone_*', 'mobile',
      'birth_date', 'birthdate', 'date_of_birth', 'dob', '*_dob', 'first_name', 'last_name',
      'full_name', 'surname', 'given_name', 'address', '*_address', 'street', 'zip', 'zip_code',
      '*_zip', 'postcode', 'postal_code', 'ip', 'ip_address', '*_ip', 'person_id', 'customer_id',
      'employee_id', 'patient_id', 'user_id', 'member_id'
    ],
    'defaults': {
      'default_k': 5,
      'default_l': 2,
      'default_t': 0.2,
      'key_env_var': 'PRIVACY_GUARD_KEY',
      'explain_failures': true,
    },
  }) }}
{% endmacro %}
