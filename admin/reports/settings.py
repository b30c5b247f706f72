"""Settings for participation summaries (OURVOICE_*): Panel dates, when to draft, targets and floors.

Instantiated only in entry points (CLI, jobs) and passed down; no module-level instance.
"""

from __future__ import annotations

import json
from datetime import date

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OURVOICE_", env_file=".env", extra="ignore")

    panel_dates: str = Field(
        default="", description="Corporate Parenting Panel dates, comma-separated ISO dates"
    )
    summary_days_before: int = Field(
        default=10, ge=0, le=90, description="draft the update this many days ahead"
    )
    reports_dir: str = "var/reports"
    timezone: str = "Europe/London"
    carer_response_target: float = Field(default=0.40, ge=0, le=1)
    carer_response_floor: float = Field(default=0.23, ge=0, le=1)
    # Targets and floors change between reporting years (April to March), e.g. {"2027/28": [0.45, 0.30]}.
    carer_response_years: str = Field(default="", description="JSON: reporting year -> [target, floor]")
    report_formats: str = "pdf,html,md"
    quotes_per_question: int = Field(default=3, ge=0, le=50, description="most quotes shown per question")
    # The Panel paper's cover (the words the manager writes for each Panel come from `report cover set`).
    paper_from: str = Field(
        default="Participation Manager, Children in Care Councils and Young Adult Council",
        description="the cover's From line",
    )
    paper_to: str = Field(default="Corporate Parenting Panel", description="the cover's To line (the date is added)")
    paper_classification: str = "Unrestricted"
    paper_contact: str = Field(default="", description="the contact details at the end of the paper")
    paper_background: str = Field(
        default="None", description="background documents listed at the end of the paper (semicolon-separated)"
    )

    @field_validator("panel_dates")
    @classmethod
    def _dates(cls, v: str) -> str:
        for part in filter(None, (p.strip() for p in v.split(","))):
            try:
                date.fromisoformat(part)
            except ValueError as exc:
                raise ValueError(f"{part!r} is not a date like 2026-12-03") from exc
        return v

    @field_validator("carer_response_years")
    @classmethod
    def _years(cls, v: str) -> str:
        if v.strip():
            data = json.loads(v)
            if not isinstance(data, dict) or not all(
                isinstance(x, list) and len(x) == 2 for x in data.values()
            ):
                raise ValueError('must look like {"2027/28": [0.45, 0.30]}')
        return v

    def panel_days(self) -> list[date]:
        """Configured Panel dates, sorted."""
        return sorted({date.fromisoformat(p.strip()) for p in self.panel_dates.split(",") if p.strip()})

    def formats(self) -> list[str]:
        return [f.strip() for f in self.report_formats.split(",") if f.strip()]

    def carer_target_floor(self, on: date) -> tuple[float, float]:
        """Target and floor for the reporting year (April-March) containing `on`."""
        start = on.year if on.month >= 4 else on.year - 1
        key = f"{start}/{(start + 1) % 100:02d}"
        if self.carer_response_years.strip():
            years = json.loads(self.carer_response_years)
            if key in years:
                target, floor = years[key]
                return float(target), float(floor)
        return self.carer_response_target, self.carer_response_floor
