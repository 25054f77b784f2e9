-- PLANTED RISK (see its YAML description): do not copy. Sales bypasses the staging layer, which
-- publishes only pseudonyms, and joins the raw landing tables on the e-mail to target customers by
-- diagnosis.
select
    customers.email,
    customers.zip,
    customers.birth_year,
    visits.sex,
    visits.birth_date,
    visits.diagnosis,
    customers.total_spend
from {{ ref('raw_sales__customers') }} as customers
inner join {{ ref('raw_clinic__visits') }} as visits
    on customers.email = visits.patient_email
