"""The experiment report: self-contained HTML per project, and PNG charts for the Dagster UI."""

from mida_pipeline.report.build import ReportOutput, build_report

__all__ = ["ReportOutput", "build_report"]
