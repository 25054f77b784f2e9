-- CRM customers active within the five-year retention, with the person's pseudonym.
select
    customer_id,
    email,
    {{ privacy_guard.pseudonymize('email') }} as person_key,
    zip,
    birth_year,
    purchases,
    total_spend,
    signup_date,
    last_purchase_date
from {{ ref('raw_sales__customers') }}
where {{ privacy_guard.within_retention() }}
