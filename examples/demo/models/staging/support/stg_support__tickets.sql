-- Support tickets inside the three-year retention, with the requester's pseudonym.
select
    ticket_id,
    email,
    {{ privacy_guard.pseudonymize('email') }} as person_key,
    ticket_date,
    category,
    channel,
    satisfaction
from {{ ref('raw_support__tickets') }}
where {{ privacy_guard.within_retention() }}
