-- Visits per year, 3-digit zip area and ICD chapter, for research (clinic only). Counts carry
-- two-sided geometric noise (epsilon 0.5); a cell is published only when its noisy count reaches
-- k, so no published count describes fewer than k visits and the threshold itself leaks only
-- noised information.
with visits as (
    select
        {{ privacy_guard.generalize_date('visit_date', 'year') }} as visit_year,
        {{ privacy_guard.truncate_postcode('zip', keep=3) }} as zip3,
        {{ privacy_guard.generalize_hierarchy('diagnosis', ref('hierarchy_diagnosis'), 1) }} as diagnosis_chapter
    from {{ ref('stg_clinic__visits') }}
),

cells as (
    select
        visit_year,
        zip3,
        diagnosis_chapter,
        {{ privacy_guard.geometric_noise(
            'count(*)', epsilon=0.5, seed=2026, row_key=['visit_year', 'zip3', 'diagnosis_chapter']
        ) }} as noisy_count
    from visits
    -- A year that began before the retention cutoff would date its rows too early: drop it.
    where {{ privacy_guard.within_retention() }}
    group by visit_year, zip3, diagnosis_chapter
)

select
    visit_year,
    zip3,
    diagnosis_chapter,
    {{ privacy_guard.suppress_small_cell('noisy_count', 'noisy_count') }} as visit_count
from cells
