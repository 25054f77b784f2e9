-- CRM customers active within the five-year retention: the customer id and e-mail stay in the raw
-- table, only the pseudonym of the e-mail is published.
select
    {{ privacy_guard.pseudonymize('email') }} as person_key,
    zip,
    birth_year,
    purchases,
    total_spend,
    signup_date,
    last_purchase_date
from {{ ref('raw_sales__customers') }}
where {{ privacy_guard.within_retention() }}
