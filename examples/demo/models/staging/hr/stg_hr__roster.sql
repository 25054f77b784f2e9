-- HR's published roster: rows inside the personnel-file retention, plus the person's pseudonym,
-- the only key other departments may join on (under an agreement).
select
    employee_id,
    email,
    name,
    {{ privacy_guard.pseudonymize('email') }} as person_key,
    birth_date,
    sex,
    zip,
    job_title,
    department_unit,
    salary,
    hire_date
from {{ ref('raw_hr__roster') }}
where {{ privacy_guard.within_retention() }}
