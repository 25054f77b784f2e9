-- The ticket log for service improvement (support only): every column of the staging model
-- except those its YAML classes as direct identifiers (the e-mail and its pseudonym).
{{ privacy_guard.drop_direct_identifiers(ref('stg_support__tickets')) }}
