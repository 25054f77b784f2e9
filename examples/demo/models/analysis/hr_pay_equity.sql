-- Pay equity for workforce planning (HR only): salary bands by age band, sex and job family. Rows
-- whose (age band, sex, job family) class is smaller than k keep their salary band but lose those
-- three values (local suppression), so the totals stay complete.
with generalized as (
    select
        {{ privacy_guard.age_band('birth_date', width=10) }} as age_band,
        sex,
        {{ privacy_guard.generalize_hierarchy('job_title', ref('hierarchy_job_title'), 1) }} as job_family,
        {{ privacy_guard.generalize_numeric(
            'salary', breakpoints=[40000, 60000, 80000, 100000, 120000]
        ) }} as salary_band
    from {{ ref('stg_hr__roster') }}
)

{{ privacy_guard.local_suppression('generalized', quasi_identifiers=['age_band', 'sex', 'job_family'], k=5) }}
