select * exclude (snapshot_date, captured_at), snapshot_date as last_seen_on
from {{ ref('stg_mida_events') }}
qualify row_number() over (partition by project_key, event_id order by snapshot_date desc, captured_at desc) = 1
