-- One row per project: its name and domain from the company's project list when known, and its statistics
-- settings as of the latest synced day (the rule the scorecard's verdict follows).
with configured as (
    select * from {{ ref('stg_mida_project_configuration') }}
    qualify row_number() over (partition by project_key order by config_date desc, captured_at desc) = 1
),

listed as (
    select * from {{ ref('stg_mida_projects') }}
    qualify row_number() over (partition by project_key order by snapshot_date desc, captured_at desc) = 1
),

seen as (
    select distinct project_key from {{ ref('dim_experiments') }}  -- every experiment seen: one row each
    union
    select project_key from configured
)

select
    seen.project_key,
    listed.project_name,
    listed.domain,
    listed.is_active,
    listed.company_id,
    configured.stats_engine,
    configured.tails,
    configured.confidence_threshold_percent,
    configured.primary_goal_key,
    configured.secondary_goal_count,
    configured.config_date as configuration_seen_on,
    listed.snapshot_date as listed_on
from seen
left join configured using (project_key)
left join listed using (project_key)
