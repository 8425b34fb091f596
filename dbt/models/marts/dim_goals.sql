select * exclude (snapshot_date, captured_at), snapshot_date as last_seen_on
from {{ ref('stg_mida_goals') }}
qualify row_number() over (partition by project_key, goal_profile_id order by snapshot_date desc, captured_at desc) = 1
