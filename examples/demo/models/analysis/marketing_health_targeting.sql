-- PLANTED RISK (see its YAML description): do not copy. Sales joins clinic visits on the raw
-- e-mail to target customers by diagnosis.
select
    customers.email,
    customers.zip,
    customers.birth_year,
    visits.sex,
    visits.birth_date,
    visits.diagnosis,
    customers.total_spend
from {{ ref('stg_sales__customers') }} as customers
inner join {{ ref('stg_clinic__visits') }} as visits
    on customers.email = visits.patient_email
