from mida_pipeline.cli import sandbox

sandbox(prog_name="python -m mida_pipeline.sandbox")
