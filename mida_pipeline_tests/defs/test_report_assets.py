"""The report asset's place in the graph: its own group, after the marts it reads, rebuilt by the models job."""

import dagster as dg

from mida_pipeline.definitions import defs


def test_the_report_sits_after_the_marts_it_reads_in_its_own_group():
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("experiment_report"))
    assert node.group_name == "report" and {"python", "html"} <= set(node.kinds)
    parents = {k.to_user_string() for k in node.parent_keys}
    assert {
        "marts/fct_experiment_scorecard",
        "marts/fct_store_traffic_daily",
        "marts/fct_store_traffic_weekly",
    } <= parents
    assert "MIDA_REPORT_DIR" in node.description


def test_the_models_job_and_its_sensor_rebuild_the_report():
    keys = defs.resolve_job_def("models").asset_layer.executable_asset_keys
    assert dg.AssetKey("experiment_report") in keys
    assert dg.AssetKey(["marts", "fct_experiment_scorecard"]) in keys


def test_every_asset_is_grouped_by_layer_kinded_and_described():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in {"mida_raw", "bss_raw", "staging", "marts", "report"}, key
        assert node.kinds and node.description, key
