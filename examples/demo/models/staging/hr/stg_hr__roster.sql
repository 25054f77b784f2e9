-- HR's published roster: rows inside the personnel-file retention. The e-mail, name and employee
-- id stay in the raw table; the pseudonym of the e-mail is the only key other departments may join
-- on (under an agreement).
select
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
