{#- value + Laplace noise of scale sensitivity / epsilon, reproducible from (seed, row_key). -#}
{% macro laplace_noise(value, epsilon, sensitivity=1, seed=0, row_key=none) %}
  {{ return(adapter.dispatch('laplace_noise', 'privacy_guard')(value, epsilon, sensitivity, seed, row_key)) }}
{% endmacro %}

{#- Inverse CDF of Laplace(0, b): -b * sign(u - 1/2) * ln(1 - 2|u - 1/2|), u never 0 or 1. -#}
{% macro default__laplace_noise(value, epsilon, sensitivity, seed, row_key) %}
  {%- do privacy_guard._check_noise_parameters('laplace_noise', value, epsilon, sensitivity) -%}
  {%- set centred = '(' ~ privacy_guard._noise_uniform('laplace_noise', value, seed, row_key) ~ ' - 0.5)' -%}
  (({{ value }}) - {{ sensitivity / epsilon }} * sign({{ centred }}) * ln(1 - 2 * abs({{ centred }})))
{% endmacro %}
