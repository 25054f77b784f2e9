-- Support tickets inside the three-year retention: the requester's e-mail stays in the raw table,
-- only its pseudonym is published.
select
    ticket_id,
    {{ privacy_guard.pseudonymize('email') }} as person_key,
    ticket_date,
    category,
    channel,
    satisfaction
from {{ ref('raw_support__tickets') }}
where {{ privacy_guard.within_retention() }}
