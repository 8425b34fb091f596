-- Every goal each experiment measures, as its latest snapshot lists them: the primary goal and its secondary goals.
select * exclude (snapshot_date, captured_at, is_late_capture), snapshot_date as last_seen_on
from {{ ref('stg_mida_experiment_goals') }}
qualify snapshot_date = max(snapshot_date) over (partition by project_key, test_id)
