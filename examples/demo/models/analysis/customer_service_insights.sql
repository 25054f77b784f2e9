-- Service quality by quarter, ticket category and customer age group (agreement
-- sales_support_service_quality), linked on the pseudonym. Cells of fewer than k tickets are
-- suppressed; the satisfaction average carries Laplace noise (epsilon 1 on the sum, sensitivity 4:
-- changing one ticket's 1-5 score moves the sum by at most 4). That protects single tickets; a
-- customer with several tickets in one cell moves the sum further.
with tickets as (
    select
        {{ privacy_guard.generalize_date('tickets.ticket_date', 'quarter') }} as ticket_quarter,
        tickets.category,
        {{ privacy_guard.generalize_numeric(
            'extract(year from current_date) - customers.birth_year', breakpoints=[30, 45, 60]
        ) }} as age_group,
        tickets.satisfaction
    from {{ ref('stg_support__tickets') }} as tickets
    inner join {{ ref('stg_sales__customers') }} as customers
        on tickets.person_key = customers.person_key
),

cells as (
    select
        ticket_quarter,
        category,
        age_group,
        count(*) as ticket_count,
        sum(satisfaction) as satisfaction_sum
    from tickets
    -- A quarter that began before the retention cutoff would date its rows too early: drop it.
    where {{ privacy_guard.within_retention() }}
    group by ticket_quarter, category, age_group
)

select
    ticket_quarter,
    category,
    age_group,
    {{ privacy_guard.suppress_small_cell('ticket_count', 'ticket_count') }} as ticket_count,
    {{ privacy_guard.suppress_small_cell(
        'round(' ~ privacy_guard.laplace_noise('satisfaction_sum', epsilon=1.0, sensitivity=4, seed=2026, row_key=['ticket_quarter', 'category', 'age_group']) ~ ' / ticket_count, 1)',
        'ticket_count'
    ) }} as avg_satisfaction_noised
from cells
