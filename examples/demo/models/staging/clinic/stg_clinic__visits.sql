-- Clinic visits inside the ten-year medical-record retention: the patient's e-mail and SSN stay in
-- the raw table, only the pseudonym of the e-mail is published.
select
    visit_id,
    {{ privacy_guard.pseudonymize('patient_email') }} as person_key,
    birth_date,
    sex,
    zip,
    visit_date,
    diagnosis
from {{ ref('raw_clinic__visits') }}
where {{ privacy_guard.within_retention() }}
