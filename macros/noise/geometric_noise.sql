{#- Integer value + two-sided geometric (discrete Laplace) noise, reproducible from (seed, row_key). -#}
{% macro geometric_noise(value, epsilon, sensitivity=1, seed=0, row_key=none) %}
  {{ return(adapter.dispatch('geometric_noise', 'privacy_guard')(value, epsilon, sensitivity, seed, row_key)) }}
{% endmacro %}

{#-
  P(Z = z) = (1 - a) / (1 + a) * a^|z| with a = exp(-epsilon / sensitivity). Inverse CDF of one
  uniform u, with r = epsilon / sensitivity: F(-1) = a / (1 + a);
  u <= F(-1): z = ceil(ln(u (1 + a)) / r)              (negative side, F(z) = a^-z / (1 + a));
  otherwise:  z = ceil(-ln((1 - u)(1 + a)) / r) - 1   (z >= 0, F(z) = 1 - a^(z+1) / (1 + a)).
-#}
{% macro default__geometric_noise(value, epsilon, sensitivity, seed, row_key) %}
  {%- do privacy_guard._check_noise_parameters('geometric_noise', value, epsilon, sensitivity) -%}
  {%- set u = privacy_guard._noise_uniform('geometric_noise', value, seed, row_key) -%}
  {%- set rate = epsilon / sensitivity -%}
  {%- set one_plus_a = '(1 + exp(-' ~ rate ~ '))' -%}
  (({{ value }}) + cast(
    case when {{ u }} <= 1 - 1 / {{ one_plus_a }}
      then ceil(ln({{ u }} * {{ one_plus_a }}) / {{ rate }})
      else ceil(-ln((1 - {{ u }}) * {{ one_plus_a }}) / {{ rate }}) - 1
    end as bigint))
{% endmacro %}
