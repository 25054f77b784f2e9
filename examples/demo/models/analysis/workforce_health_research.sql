-- Occupational-health research (agreement hr_clinic_wellbeing_research): staff visits, linked on
-- the pseudonym only, generalized to age at visit in 20-year bands, sex, job family and ICD
-- chapter; then every (age band, sex, job family) class smaller than k is dropped. The k and the
-- quasi-identifiers repeat the model's YAML on purpose: its k_anonymity test reads the YAML, so a
-- drift between the two fails the build.
with staff_visits as (
    select
        {{ privacy_guard.age_band('visits.birth_date', width=20, as_of='visits.visit_date') }} as age_band,
        visits.sex,
        {{ privacy_guard.generalize_hierarchy('roster.job_title', ref('hierarchy_job_title'), 1) }} as job_family,
        {{ privacy_guard.generalize_hierarchy('visits.diagnosis', ref('hierarchy_diagnosis'), 1) }} as diagnosis_chapter
    from {{ ref('stg_clinic__visits') }} as visits
    inner join {{ ref('stg_hr__roster') }} as roster
        on visits.person_key = roster.person_key
)

{{ privacy_guard.suppress_small_groups('staff_visits', quasi_identifiers=['age_band', 'sex', 'job_family'], k=20) }}
