-- Clinic visits inside the ten-year medical-record retention, with the patient's pseudonym.
select
    visit_id,
    patient_email,
    patient_ssn,
    {{ privacy_guard.pseudonymize('patient_email') }} as person_key,
    birth_date,
    sex,
    zip,
    visit_date,
    diagnosis
from {{ ref('raw_clinic__visits') }}
where {{ privacy_guard.within_retention() }}
