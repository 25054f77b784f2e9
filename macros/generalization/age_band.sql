{#- Band label (`30-39`) of the age in whole years on as_of. -#}
{% macro age_band(birthdate_column, width=10, as_of=none) %}
  {{ return(adapter.dispatch('age_band', 'privacy_guard')(birthdate_column, width, as_of)) }}
{% endmacro %}

{#-
  Whole years: the year difference, minus one while the birthday (month, day) is still ahead in
  the as_of year. A 29 February birthday therefore counts on 1 March in common years.
-#}
{% macro default__age_band(birthdate_column, width, as_of) %}
  {%- set as_of = as_of if as_of is not none else 'current_date' -%}
  {%- set age -%}
    (extract(year from {{ as_of }}) - extract(year from {{ birthdate_column }})
      - case when extract(month from {{ as_of }}) * 100 + extract(day from {{ as_of }})
                < extract(month from {{ birthdate_column }}) * 100 + extract(day from {{ birthdate_column }})
             then 1 else 0 end)
  {%- endset -%}
  {{ privacy_guard.generalize_numeric(age, width=width) }}
{% endmacro %}
