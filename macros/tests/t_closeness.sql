{#-
  One row per (sensitive column, equivalence class) whose value distribution is farther than t from
  the whole table's (Earth Mover's Distance; Li, Li & Venkatasubramanian 2007): the measure, t, the
  class's size (people when a privacy unit is set, else rows), rows and distance, never the values.
  Distributions count each person's value once per value; a class without people (a privacy unit
  NULL on all its rows) has p = 0 at every value. GROUP BY the QIs directly: the only sort is over
  the distinct sensitive values (and, for ordered, the cells). Cost of ordered t, with m
  distinct values: O(cells log cells + m log m) on every adapter, whatever the classes hold (no
  class visited at every value, no pair of a class's values).
    equal   (categorical): 1/2 * sum_i |p_i - q_i|
    ordered (numeric):     sum_i |sum_{j<=i} (p_j - q_j)| / (m - 1) over the m sorted distinct values
  `distance` defaults to ordered for numeric columns of the built relation, else equal.
-#}
{% test t_closeness(model, t=none, distance=none, quasi_identifiers=none, sensitive_column=none, privacy_unit=none) %}
  {{ return(adapter.dispatch('test_t_closeness', 'privacy_guard')(model, t, distance, quasi_identifiers, sensitive_column, privacy_unit)) }}
{% endtest %}

{#- equal | ordered for one sensitive column: the argument, else from the built column's type
    (`built`: the relation's columns, introspected once per test). -#}
{% macro _t_closeness_distance(target, built, column, distance) %}
  {%- if distance is not none -%}
    {%- if distance not in ['equal', 'ordered'] -%}
      {{ privacy_guard._raise_for_target(target, 'distance must be equal or ordered (got ' ~ (distance | tojson) ~ ')') }}
    {%- endif -%}
    {{ return(distance) }}
  {%- endif -%}
  {%- set column = built.get(column | lower) -%}
  {%- set numeric = column is not none and adapter.dispatch('_is_numeric_column', 'privacy_guard')(column) -%}
  {{ return('ordered' if numeric else 'equal') }}
{% endmacro %}

{#- Whether a built column (dbt Column) holds numbers. -#}
{% macro default___is_numeric_column(column) %}
  {{ return(column.is_numeric() or column.is_integer() or column.is_float()) }}
{% endmacro %}

{#- dbt's Column knows `integer`, not Spark's `int`/`tinyint`, nor `decimal(p,s)`. -#}
{% macro spark___is_numeric_column(column) %}
  {{ return(privacy_guard.default___is_numeric_column(column) or modules.re.match('^(tinyint|smallint|int|bigint|float|double|decimal|numeric)\\b', column.dtype | lower) is not none) }}
{% endmacro %}

{% macro default__test_t_closeness(model, t, distance, quasi_identifiers, sensitive_column, privacy_unit) %}
  {%- set target = privacy_guard._resolve_target(model, 't_closeness', 'test') -%}
  {%- set quasi_identifiers = privacy_guard._resolve_quasi_identifiers(target, quasi_identifiers) -%}
  {%- set sensitive_columns = privacy_guard._resolve_sensitive_columns(target, sensitive_column) -%}
  {%- set t = privacy_guard._resolve_threshold(target, 't', t) -%}
  {%- set unit = privacy_guard._resolve_privacy_unit(target, privacy_unit) -%}
  {%- set built = privacy_guard._built_columns(target) if distance is none else {} -%}
  {%- set test_sql -%}
with
  {%- for column in sensitive_columns %}
  {%- set s = 's' ~ loop.index %}
  {{ privacy_guard._class_cells_cte(model, quasi_identifiers, column, unit, s) }},
  {#- The whole table's distribution: the only sort is over its distinct values; its total from a window
      over those m rows, not a second scan of the cells. Joined on cell_is_class = is_class, an
      equality (a filter in a left join's condition makes it a nested loop). -#}
  {{ s }}_table as (
    select 0 as cell_is_class, sensitive_value,
      dense_rank() over (order by sensitive_value nulls last) as value_position,
      cast(sum(cell_size) as {{ privacy_guard._double_type() }}) / sum(sum(cell_size)) over () as table_share
    from {{ s }}_cells
    where is_class = 0
    group by sensitive_value
  ),
  {{ adapter.dispatch('_t_closeness_distances', 'privacy_guard')(s, quasi_identifiers, unit, privacy_guard._t_closeness_distance(target, built, column, distance)) }}
  {%- endfor %}
  violations as (
  {%- for column in sensitive_columns %}
    select 't' as measure, {{ t }} as threshold, {{ privacy_guard._string_literal(column) }} as sensitive_column,
      class_size, class_rows, distance as measured
    from s{{ loop.index }}_distances
    where distance > cast({{ t }} as {{ privacy_guard._double_type() }}) + {{ privacy_guard._measure_tolerance() }}
    {% if not loop.last %}union all{% endif %}
  {%- endfor %}
  )
select * from violations
  {%- endset -%}
  {{ privacy_guard._explained_test_sql(target, test_sql, {
    'measure': 't=' ~ t, 'quasi_identifiers': quasi_identifiers, 'unit': unit,
    'sensitive_columns': sensitive_columns, 'below': 'farther than t',
  }) }}
{% endmacro %}

{#- The CTEs <s>_distances (class_size, class_rows, distance per class) of one sensitive column, from
    <s>_cells and <s>_table; `distance` is equal or ordered. Generic SQL: PostgreSQL, Spark. -#}
{% macro default___t_closeness_distances(s, quasi_identifiers, unit, distance) %}
  {%- set qis = privacy_guard._qi_names(quasi_identifiers) %}
  {%- set double = privacy_guard._double_type() %}
  {%- if distance == 'ordered' %}
  {#-
    O(cells log cells + m log m), the segments of the DuckDB body below (their sums explained there).
    c(P) without an ASOF join: cells and value positions sorted together by share, a cell before a
    position of equal Q, so the positions counted before a cell are those with Q < P.
  -#}
  {{ s }}_scale as (
    select value_position, cumulative_share,
      sum(cumulative_share) over (order by value_position rows between unbounded preceding and current row) as cumulative_sum
    from (
      select value_position, sum(table_share) over (order by value_position rows between unbounded preceding and current row) as cumulative_share
      from {{ s }}_table
    ) as running
  ),
  {{ s }}_steps as (
    select {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }}, cells.is_class, cells.cell_size, cells.cell_rows, whole.value_position,
      coalesce(cast(sum(case when cells.is_class = 0 then cells.cell_size end) over (
          partition by {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }} order by whole.value_position nulls last rows between unbounded preceding and current row) as {{ double }})
        / nullif(sum({{ privacy_guard._cells_counted_size(unit) }}) over (partition by {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }}), 0), 0) as share_through,
      lead(whole.value_position) over (partition by {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }} order by whole.value_position nulls last) as next_position
    from {{ s }}_cells as cells
    left join {{ s }}_table as whole
      on cells.is_class = whole.cell_is_class and cells.sensitive_value is not distinct from whole.sensitive_value
  ),
  {#- Per cell: lo (its position), width = hi - lo + 1 and k, the segment's positions with Q < P. -#}
  {{ s }}_bounds as (
    select {{ qis }}, is_class, cell_size, cell_rows, share_through, value_position as lo, width,
      case when below - (value_position - 1) < 0 then 0 when below - (value_position - 1) > width then width
        else below - (value_position - 1) end as below
    from (
      select {{ qis }}, is_class, cell_size, cell_rows, share_through, value_position, is_scale,
        coalesce(next_position, (select count(*) from {{ s }}_table) + 1) - value_position as width,
        sum(is_scale) over (order by share_through, is_scale rows between unbounded preceding and current row) as below
      from (
        select {{ qis }}, is_class, cell_size, cell_rows, share_through, value_position, next_position, 0 as is_scale
        from {{ s }}_steps
        union all
        select {% for qi in privacy_guard._qi_names(quasi_identifiers, as_list=true) %}null, {% endfor %}null, null, null, cumulative_share, null, null, 1
        from {{ s }}_scale
      ) as sorted_together
    ) as counted
    where is_scale = 0
  ),
  {#- SQ(lo - 1), SQ(lo + k - 1) and SQ(hi) from the scale (SQ(0) = 0: no row); a class's is_class row has no lo. -#}
  {{ s }}_distances as (
    select {{ privacy_guard._cells_class_size(unit) }} as class_size, {{ privacy_guard._cells_class_rows(unit) }} as class_rows,
      coalesce((min(preceding_sum) + sum(segment_sum)) / nullif((select count(*) from {{ s }}_table) - 1, 0), 0) as distance
    from (
      select {{ privacy_guard._qi_names(quasi_identifiers, 'bounds') }}, bounds.is_class, bounds.cell_size, bounds.cell_rows,
        case when bounds.lo = 1 then 0 else preceding.cumulative_sum end as preceding_sum,
        bounds.share_through * (2 * bounds.below - bounds.width) + through.cumulative_sum
          + case when bounds.lo = 1 then 0 else preceding.cumulative_sum end - 2 * coalesce(split.cumulative_sum, 0) as segment_sum
      from {{ s }}_bounds as bounds
      left join {{ s }}_scale as preceding on preceding.value_position = bounds.lo - 1
      left join {{ s }}_scale as split on split.value_position = bounds.lo + bounds.below - 1
      left join {{ s }}_scale as through on through.value_position = bounds.lo + bounds.width - 1
    ) as segments
    group by {{ qis }}
  ),
  {%- else %}
  {#-
    distance = 1/2 (sum over the class's values of |p - q| + 1 - sum of their q): values absent from
    a class add their table share. p = n / N needs the class's total N, so the classes are grouped
    first (with N, the number of values and the sum of their q). A class of one value has p = n / n:
    its distance follows from that row alone. Only the cells of classes holding several values are
    joined back to their class's N: no window, no join on the QIs for the (many) classes of one value.
  -#}
  {{ s }}_classes as (
    select {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }}, {{ privacy_guard._cells_class_size(unit) }} as class_size, {{ privacy_guard._cells_class_rows(unit) }} as class_rows,
      {{ privacy_guard._count_sum(privacy_guard._cells_counted_size(unit)) }} as total,
      count(case when is_class = 0 then 1 end) as values_present,
      sum(whole.table_share) as present_share
    from {{ s }}_cells as cells
    left join {{ s }}_table as whole
      on cells.is_class = whole.cell_is_class and cells.sensitive_value is not distinct from whole.sensitive_value
    group by {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }}
  ),
  {{ s }}_distances as (
    select class_size, class_rows,
      0.5 * (abs(coalesce(cast(total as {{ privacy_guard._double_type() }}) / nullif(total, 0), 0) - present_share) + 1 - present_share) as distance
    from {{ s }}_classes
    where values_present = 1
    union all
    select max(classes.class_size), max(classes.class_rows),
      0.5 * (coalesce(sum(abs(coalesce(cast(cells.cell_size as {{ privacy_guard._double_type() }}) / nullif(classes.total, 0), 0) - whole.table_share)), 0)
        + 1 - max(classes.present_share))
{{ privacy_guard._t_spread_cells(s, quasi_identifiers) }}
    group by {{ privacy_guard._qi_names(quasi_identifiers, 'cells') }}
  ),
  {%- endif %}
{% endmacro %}

{#-
  DuckDB. Both distances start from one lean GROUP BY of the cells into their classes (total N, number
  of values r, and the value itself when it is the only one: DuckDB's min takes any type). A class of
  one value (most classes when they are small) reads its distance from that value's row of <s>_lone:
  no join on the QIs for it. Only the cells of classes holding several values ("members") are joined
  back to their class, with their value's position and share.
  Equal: 1/2 (sum over the class's values of |p - q| + 1 - sum of their q), p = n / N (0 without
  people), one GROUP BY of the members.
  Ordered, O(cells log cells + m log m), never a class at every value nor a pair of a class's values.
  With Q(i) the table's cumulative share (increasing: every value has a share) and SQ its prefix sums,
  a class whose present values are a_1 < ... < a_r has cumulative share P = 0 before a_1 and P_j on
  the segment [a_j, a_{j+1} - 1] (a_{r+1} = m + 1). On a segment [lo, hi] of constant P the first
  k = clamp(c(P) - (lo - 1), 0, hi - lo + 1) positions have Q < P, c(P) = #{i : Q(i) < P} (a prefix), so
    sum_{lo..hi} |P - Q(i)| = P * (2k - n) + SQ(hi) + SQ(lo - 1) - 2 SQ(lo + k - 1),  n = hi - lo + 1,
  and the distance is (SQ(a_1 - 1) + the segments' sums) / (m - 1). The last segment has P = 1 (0
  without people): (m - a_r + 1) - SQ(m) + SQ(a_r - 1) (SQ(m) - SQ(a_r - 1)), no search. A class of
  two or three values (small classes) is known from one GROUP BY of its members: first and last
  position with their sizes, the middle one of three from the xor of the positions; the members of
  classes of more values get P_j and a_{j+1} from one window partitioned by the class. c(P) is an ASOF
  join onto the scale (the first position with Q >= P): once per distinct P of the small classes, once
  per member of the others. Where Q(i) ~= P its term is ~0 on either side, so rounding in c(P) does
  not matter.
-#}
{% macro duckdb___t_closeness_distances(s, quasi_identifiers, unit, distance) %}
  {%- set double = privacy_guard._double_type() %}
  {%- set qis = privacy_guard._qi_names(quasi_identifiers) %}
  {#- A member's (position, size) packed in one BIGINT, position * 2^32 + size: one min gives a class's
      first position and its size, one max the last. A class of 2^32 people or more is not `few_values`:
      no size overflows. -#}
  {%- set packing = 4294967296 %}
  {{ s }}_classes as (
    select {{ qis }}, {{ privacy_guard._cells_class_size(unit) }} as class_size, {{ privacy_guard._cells_class_rows(unit) }} as class_rows,
      coalesce({{ privacy_guard._count_sum(privacy_guard._cells_counted_size(unit)) }}, 0) as total,
      {{ 'count(case when is_class = 0 then 1 end)' if unit else 'count(*)' }} as values_present,
      min({{ 'case when is_class = 0 then sensitive_value end' if unit else 'sensitive_value' }}) as lone_value
    from {{ s }}_cells
    group by {{ qis }}
  ),
  {{ s }}_members as {{ 'materialized' if distance == 'ordered' }} (
    select {{ privacy_guard._qi_names(quasi_identifiers, 'classes') }}, classes.class_size, classes.class_rows, classes.total,
      classes.values_present <= 3 and classes.total < {{ packing }} as few_values,
      cells.cell_size, whole.value_position, whole.table_share
{{ privacy_guard._t_spread_cells(s, quasi_identifiers) }}
  ),
  {%- if distance == 'ordered' %}
  {#- Per position i: Q(i); in one row, SQ(0), ..., SQ(m) as a list (SQ(i) is cumulative_sums[i + 1]). -#}
  {{ s }}_scale as (
    select sensitive_value, value_position, sum(table_share) over (order by value_position rows between unbounded preceding and current row) as cumulative_share
    from {{ s }}_table
  ),
  {{ s }}_scale_sums as (
    select list_prepend(cast(0 as {{ double }}), list(cumulative_sum order by value_position)) as cumulative_sums, count(*) as values_count
    from (
      select value_position, sum(cumulative_share) over (order by value_position rows between unbounded preceding and current row) as cumulative_sum
      from {{ s }}_scale
    ) as sums
  ),
  {#- Per value at a: the distance of a class holding only that value, with people and without. -#}
  {{ s }}_lone as (
    select sensitive_value,
      coalesce((2 * cumulative_sums[value_position] + values_count - value_position + 1 - cumulative_sums[values_count + 1]) / nullif(values_count - 1, 0), 0) as with_people,
      coalesce(cumulative_sums[values_count + 1] / nullif(values_count - 1, 0), 0) as without_people
    from {{ s }}_scale
    cross join {{ s }}_scale_sums
  ),
  {#- A class of two or three values: a_1 < a_2 <= a_3 (a_2 = a_3 for two), P_1 through a_1 and P_2 through a_2. -#}
  {{ s }}_few as (
    select class_size, class_rows, total, values_present, a_1, a_2, a_3,
      coalesce(cast(n_1 as {{ double }}) / nullif(total, 0), 0) as share_1,
      coalesce(cast(case when values_present = 3 then total - n_3 else n_1 end as {{ double }}) / nullif(total, 0), 0) as share_2
    from (
      select class_size, class_rows, total, values_present,
        first_cell // {{ packing }} as a_1, first_cell % {{ packing }} as n_1,
        case when values_present = 3 then xor(xor(position_xor, first_cell // {{ packing }}), last_cell // {{ packing }}) else last_cell // {{ packing }} end as a_2,
        last_cell // {{ packing }} as a_3, last_cell % {{ packing }} as n_3
      from (
        select class_size, class_rows, total, count(*) as values_present, bit_xor(value_position) as position_xor,
          min(value_position * {{ packing }} + cell_size) as first_cell, max(value_position * {{ packing }} + cell_size) as last_cell
        from {{ s }}_members
        where few_values
        group by {{ qis }}, class_size, class_rows, total
      ) as packed
    ) as unpacked
  ),
  {#- c(P) - 1 for each distinct P of those classes (few: their sizes are small); none found: all m are below. -#}
  {{ s }}_found as (
    select shares.share, coalesce(scale.value_position - 1, sums.values_count) as below
    from (select share_1 as share from {{ s }}_few union select share_2 from {{ s }}_few) as shares
    asof left join {{ s }}_scale as scale on shares.share <= scale.cumulative_share
    cross join {{ s }}_scale_sums as sums
  ),
  {#- The members of classes of more values, each with its class's cumulative share through it (P_j) and
      the next present position. -#}
  {{ s }}_steps as (
    select {{ qis }}, class_size, class_rows, total, value_position,
      coalesce(cast(sum(cell_size) over (class_order rows between unbounded preceding and current row) as {{ double }}) / nullif(total, 0), 0) as share_through,
      lead(value_position) over class_order as next_position
    from {{ s }}_members
    where not few_values
    window class_order as (partition by {{ qis }} order by value_position)
  ),
  {#- Per member, the sum over its segment [lo, hi] (lo its position, hi the next present one's - 1); the
      last adds the class's tail. SQ(lo - 1) is kept for the class's first segment (the smallest). -#}
  {{ s }}_segments as (
    select {{ qis }}, class_size, class_rows, cumulative_sums[lo] as preceding_sum, values_count,
      case when next_position is null then {{ privacy_guard._t_tail_sum('lo', 'total') }}
        else {{ privacy_guard._t_segment_sum('share_through', 'lo', 'next_position - lo', 'below') }} end as segment_sum
    from (
      select steps.*, steps.value_position as lo, sums.cumulative_sums, sums.values_count,
        coalesce(scale.value_position - 1, sums.values_count) as below
      from {{ s }}_steps as steps
      asof left join {{ s }}_scale as scale
        on steps.share_through <= scale.cumulative_share
      cross join {{ s }}_scale_sums as sums
    ) as segments
  ),
  {{ s }}_distances as (
{{ privacy_guard._t_lone_distances(s) }}
    select class_size, class_rows,
      coalesce((cumulative_sums[a_1]
        + {{ privacy_guard._t_segment_sum('share_1', 'a_1', 'a_2 - a_1', 'found_1.below') }}
        + case when values_present = 3 then {{ privacy_guard._t_segment_sum('share_2', 'a_2', 'a_3 - a_2', 'found_2.below') }} else 0 end
        + {{ privacy_guard._t_tail_sum('a_3', 'total') }}) / nullif(values_count - 1, 0), 0)
    from {{ s }}_few as few
    inner join {{ s }}_found as found_1 on few.share_1 = found_1.share
    inner join {{ s }}_found as found_2 on few.share_2 = found_2.share
    cross join {{ s }}_scale_sums
    union all
    select max(class_size), max(class_rows), coalesce((min(preceding_sum) + sum(segment_sum)) / nullif(max(values_count) - 1, 0), 0)
    from {{ s }}_segments
    group by {{ qis }}
  ),
  {%- else %}
  {{ s }}_lone as (
    select sensitive_value, 1 - table_share as with_people, 0.5 as without_people
    from {{ s }}_table
  ),
  {{ s }}_distances as (
{{ privacy_guard._t_lone_distances(s) }}
    select class_size, class_rows,
      0.5 * (sum(abs(coalesce(cast(cell_size as {{ double }}) / nullif(total, 0), 0) - table_share)) + 1 - sum(table_share))
    from {{ s }}_members
    group by {{ qis }}, class_size, class_rows, total
  ),
  {%- endif %}
{% endmacro %}

{#- FROM the cells of classes holding several values, joined back to their class (`classes`) and their
    value's row of <s>_table (`whole`: every cell's value has one). -#}
{% macro _t_spread_cells(s, quasi_identifiers) %}
    from {{ s }}_cells as cells
    inner join {{ s }}_classes as classes
      on classes.values_present > 1 and {{ privacy_guard._same_columns_sql('cells', 'classes', privacy_guard._qi_names(quasi_identifiers, as_list=true)) }}
    inner join {{ s }}_table as whole
      on cells.sensitive_value is not distinct from whole.sensitive_value
    where cells.is_class = 0
{% endmacro %}

{#- The distances of the classes of one value, from their value's row of <s>_lone; then `union all`. -#}
{% macro _t_lone_distances(s) %}
    select classes.class_size, classes.class_rows, case when classes.total > 0 then lone.with_people else lone.without_people end as distance
    from {{ s }}_classes as classes
    inner join {{ s }}_lone as lone
      on classes.lone_value is not distinct from lone.sensitive_value
    where classes.values_present = 1
    union all
{% endmacro %}

{#- sum_{lo..lo+width-1} |P - Q(i)| given c(P) (`below`), over the scale's cumulative_sums and values_count. -#}
{% macro _t_segment_sum(share, lo, width, below) %}
  {%- set k = 'least(greatest(' ~ below ~ ' - (' ~ lo ~ ' - 1), 0), ' ~ width ~ ')' -%}
  {{- share ~ ' * (2 * ' ~ k ~ ' - (' ~ width ~ ')) + cumulative_sums[' ~ lo ~ ' + ' ~ width ~ '] + cumulative_sums[' ~ lo ~ '] - 2 * cumulative_sums[' ~ lo ~ ' + ' ~ k ~ ']' -}}
{% endmacro %}

{#- sum_{lo..m} |P - Q(i)| for the last segment: P = 1, or 0 in a class without people. -#}
{% macro _t_tail_sum(lo, total) %}
  {{- 'case when ' ~ total ~ ' > 0 then values_count - ' ~ lo ~ ' + 1 - cumulative_sums[values_count + 1] + cumulative_sums[' ~ lo ~ '] '
      ~ 'else cumulative_sums[values_count + 1] - cumulative_sums[' ~ lo ~ '] end' -}}
{% endmacro %}
